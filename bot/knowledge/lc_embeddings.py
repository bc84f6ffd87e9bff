"""The offline embedding model as a LangChain ``Embeddings``, for LangChain users of the store.

:class:`OfflineEmbeddings` wraps any :class:`bot.knowledge.embeddings.Embedder` (by default the
offline all-MiniLM-L6-v2 ONNX model, nothing downloaded) so a LangChain vector store, retriever or
evaluation can embed exactly as the knowledge store does: the same unit-length vectors, the same
space, so its vectors compare with the store's.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.embeddings import Embeddings

from bot.knowledge.embeddings import Embedder, OnnxMiniLM


class OfflineEmbeddings(Embeddings):
    """``embed_documents`` / ``embed_query`` over an :class:`Embedder` (default: the offline model)."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self.embedder: Embedder = embedder if embedder is not None else OnnxMiniLM()

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return [[float(x) for x in row] for row in self.embedder.embed(list(texts))]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.embedder.embed([text])[0]]
