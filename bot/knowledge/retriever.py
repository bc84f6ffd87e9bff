"""The workspace-scoped knowledge store as a LangChain ``BaseRetriever``.

:class:`KnowledgeRetriever` is bound to one workspace, so, as with the store itself, no filter can
reach another workspace's collections. ``invoke(query)`` returns LangChain ``Document`` objects:
the chunk's text, its store metadata (kind, source_id, stakeholder, role, ...) plus ``score`` (the
cosine similarity), and the chunk id. Per call, ``k``, ``kinds``, ``where`` and a precomputed
query ``vector`` (to search several times for one question while embedding it once) can be
passed as keyword arguments. Drafting and chat retrieve through it; :func:`hit_of` turns a
document back into the store's :class:`Hit`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LcDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from bot.knowledge.store import Hit, Kind, KnowledgeStore, Scalar

SCORE_KEY = "score"


def document_of(hit: Hit) -> LcDocument:
    """A hit as a LangChain document (``score`` joins the metadata; the chunk id is the id)."""
    return LcDocument(page_content=hit.text, metadata={**hit.metadata, SCORE_KEY: hit.score}, id=hit.id)


def hit_of(document: LcDocument) -> Hit:
    """The store's hit again, from a document this retriever returned."""
    metadata: dict[str, Scalar] = {k: v for k, v in document.metadata.items() if k != SCORE_KEY}
    return Hit(
        id=str(document.id),
        text=document.page_content,
        score=float(document.metadata[SCORE_KEY]),
        metadata=metadata,
    )


class KnowledgeRetriever(BaseRetriever):
    """The ``k`` chunks of ``workspace`` closest to a query, best first (see the module doc)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: KnowledgeStore
    workspace: str
    k: int = 8
    kinds: tuple[Kind, ...] | None = None
    where: dict[str, Any] | None = None

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        kinds: Sequence[Kind] | None = None,
        where: Mapping[str, Any] | None = None,
        vector: np.ndarray | None = None,
    ) -> list[LcDocument]:
        options: dict[str, Any] = {
            "workspace": self.workspace,
            "k": k if k is not None else self.k,
            "kinds": kinds if kinds is not None else self.kinds,
            "where": where if where is not None else self.where,
        }
        if vector is not None:
            hits = self.store.search_by_vector(vector=vector, **options)
        else:
            hits = self.store.search(query=query, **options)
        return [document_of(hit) for hit in hits]
