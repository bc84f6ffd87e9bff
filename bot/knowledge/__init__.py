"""Knowledge store: Chroma vectors of answers, statistics, ICP versions and personas.

Exports are loaded lazily so that importing :mod:`bot.knowledge.chunking` or
:mod:`bot.knowledge.embeddings` does not pull in chromadb.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import TYPE_CHECKING, Any

# onnxruntime phones home at import unless this is in the environment before its first import.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

if TYPE_CHECKING:
    from bot.knowledge.chunking import Chunk, chunk_text
    from bot.knowledge.embeddings import Embedder, EmbeddingModelNotFound, OnnxMiniLM, register_embedder
    from bot.knowledge.store import (
        KINDS,
        Document,
        Hit,
        IsolationError,
        Kind,
        KnowledgeStore,
        KnowledgeStoreError,
        knowledge_store_from,
    )

_EXPORTS = {
    "Chunk": "chunking",
    "chunk_text": "chunking",
    "Embedder": "embeddings",
    "EmbeddingModelNotFound": "embeddings",
    "OnnxMiniLM": "embeddings",
    "register_embedder": "embeddings",
    "KINDS": "store",
    "Document": "store",
    "Hit": "store",
    "IsolationError": "store",
    "Kind": "store",
    "KnowledgeStore": "store",
    "KnowledgeStoreError": "store",
    "knowledge_store_from": "store",
}

__all__ = [
    "KINDS",
    "Chunk",
    "Document",
    "Embedder",
    "EmbeddingModelNotFound",
    "Hit",
    "IsolationError",
    "Kind",
    "KnowledgeStore",
    "KnowledgeStoreError",
    "OnnxMiniLM",
    "chunk_text",
    "knowledge_store_from",
    "register_embedder",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bot.knowledge' has no attribute {name!r}")
    return getattr(import_module(f"bot.knowledge.{module}"), name)
