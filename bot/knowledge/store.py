"""The knowledge store: interview answers, CRM statistics, ICP versions and personas as vectors.

Layout: one Chroma collection per (workspace, kind), e.g. ``icp-answer-w-T0123ABC``.

* Isolation is structural: a workspace's reads and writes only ever open that workspace's
  collections, so no filter a caller passes can reach another workspace. Every item also carries
  ``workspace`` in its metadata and every hit is checked against it before it is returned.
* It is also the fast layout. In Chroma 1.5 a ``where`` filter costs about 2 ms per thousand
  matching rows (the filter runs before the vector search), so a single shared collection filtered
  on ``workspace`` answers a top-8 query at 100,000 chunks / 10 workspaces in ~40 ms p50, while an
  unfiltered query on the workspace's own collection takes ~1.5 ms (``benchmarks/retrieval.py``
  prints both side by side). Splitting by kind too keeps the common "answers only" or "statistics
  only" retrieval unfiltered; a search over several kinds queries each collection and merges.

Vectors are computed by the store's :class:`Embedder` and passed to Chroma precomputed; every
collection also carries the :class:`EmbedderFunction` adapter so Chroma never uses its
downloading default embedding function.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast, get_args

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.base_types import Vector
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from bot.knowledge.chroma_adapter import ADAPTER_NAME, EmbedderFunction
from bot.knowledge.chroma_server import DEFAULT_CHROMA_PORT, ChromaServer, chroma_server_from
from bot.knowledge.chunking import chunk_text
from bot.knowledge.embeddings import Embedder, OnnxMiniLM, is_registered, register_embedder

Kind = Literal["answer", "statistic", "icp", "persona"]
KINDS: tuple[Kind, ...] = get_args(Kind)
Scalar = str | int | float | bool
DEFAULT_CHROMA_PATH = Path("data/chroma")
EMBED_PROGRESS_SLICE = 64  # chunks per embedder call when someone watches the progress
RESERVED_METADATA = frozenset(
    {
        "workspace",
        "kind",
        "source_id",
        "chunk",
        "chunks",
        "stakeholder",
        "role",
        "created_at",
        "created_ts",
        "indexed_at",
    }
)
_SAFE_WORKSPACE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,126}[A-Za-z0-9])?")


class KnowledgeStoreError(RuntimeError):
    """The vector store cannot do what was asked; the message says why and what to do."""


class IsolationError(KnowledgeStoreError):
    """A row of another workspace showed up in a result: never returned, always loud."""


@dataclass(frozen=True, slots=True)
class Document:
    """One piece of evidence to index; long ``text`` is chunked to the embedder's window.

    ``source_id`` is the id of the row it comes from (answer id, statistic key, ICP version,
    persona id); re-adding the same ``(kind, source_id)`` replaces the old chunks. A naive
    ``created_at`` is taken as UTC.
    """

    kind: Kind
    source_id: str
    text: str
    stakeholder: str | None = None
    role: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    extra: Mapping[str, Scalar] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved chunk; ``score`` is the cosine similarity to the query (higher is closer)."""

    id: str
    text: str
    score: float
    metadata: dict[str, Scalar]

    @property
    def kind(self) -> str:
        return str(self.metadata["kind"])

    @property
    def source_id(self) -> str:
        return str(self.metadata["source_id"])


@dataclass(slots=True)
class _Batch:
    """Chunks of one kind, ready to write."""

    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    metadatas: list[dict[str, Scalar]] = field(default_factory=list)
    embeddings: np.ndarray | None = None
    source_ids: set[str] = field(default_factory=set)


def collection_name(workspace: str, kind: Kind) -> str:
    """Chroma collection of one workspace and kind; unusual workspace ids are hashed."""
    if _SAFE_WORKSPACE.fullmatch(workspace):
        return f"icp-{kind}-w-{workspace}"
    return f"icp-{kind}-h-{hashlib.sha256(workspace.encode()).hexdigest()[:40]}"


def _check_workspace(workspace: object) -> str:
    if not isinstance(workspace, str) or not workspace or workspace != workspace.strip() or ":" in workspace:
        raise ValueError(
            f"workspace must be a non-empty id without spaces around it or ':', got {workspace!r}"
        )
    return workspace


def _check_kind(kind: object) -> Kind:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return kind


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _metadata(workspace: str, doc: Document, indexed_at: str) -> dict[str, Scalar]:
    """Chunk-independent metadata; Chroma rejects None, so absent values are left out."""
    label = f"document {doc.kind}:{doc.source_id}"
    if not isinstance(doc.created_at, datetime):
        raise ValueError(f"{label}: created_at must be a datetime, got {doc.created_at!r}")
    created = _as_utc(doc.created_at)
    meta: dict[str, Scalar] = {
        "workspace": workspace,
        "kind": doc.kind,
        "source_id": doc.source_id,
        "created_at": created.isoformat(),
        "created_ts": created.timestamp(),
        "indexed_at": indexed_at,
    }
    for key in ("stakeholder", "role"):
        value = getattr(doc, key)
        if value is not None:
            if not isinstance(value, str) or not value:
                raise ValueError(f"{label}: {key} must be a non-empty string or None, got {value!r}")
            meta[key] = value
    for key, value in doc.extra.items():
        if not isinstance(key, str) or not key or key.startswith("$"):
            raise ValueError(f"{label}: extra key {key!r} must be a non-empty string not starting with '$'")
        if key in RESERVED_METADATA:
            raise ValueError(
                f"{label}: extra key {key!r} is reserved (reserved: {', '.join(sorted(RESERVED_METADATA))})"
            )
        if value is None:
            continue
        if not isinstance(value, str | int | float | bool) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            raise ValueError(
                f"{label}: extra[{key!r}] must be a string, int, finite float or bool, got {value!r}"
            )
        meta[key] = value
    return meta


def _batched(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class KnowledgeStore:
    """Vector store of one deployment; every method is scoped to one workspace.

    Embedded by default (``chromadb.PersistentClient`` at ``path``); with ``host`` it talks to a
    Chroma server. Telemetry is off either way. Thread-safe for concurrent readers and writers to
    the extent Chroma is; collection handles are cached.
    """

    def __init__(
        self,
        *,
        path: str | Path | None = None,
        host: str | None = None,
        port: int | None = None,
        ssl: bool = False,
        headers: Mapping[str, str] | None = None,
        server: ChromaServer | None = None,
        embedder: Embedder | None = None,
        client: ClientAPI | None = None,
        overlap_tokens: int = 32,
    ) -> None:
        self.embedder: Embedder = embedder if embedder is not None else OnnxMiniLM()
        self.overlap_tokens = overlap_tokens
        if not is_registered(self.embedder.name):
            # Chroma stores a function it cannot rebuild as "legacy"; register this instance so
            # collections record the embedder (another process must call register_embedder).
            registered = self.embedder
            register_embedder(self.embedder.name, lambda _config: registered)
        self._ef = EmbedderFunction(self.embedder)
        self._collections: dict[str, Collection] = {}
        self._lock = threading.Lock()
        if server is None and host:
            server = ChromaServer(
                host=host, port=port or DEFAULT_CHROMA_PORT, ssl=ssl, headers=dict(headers or {})
            )
        self.client: ClientAPI = client if client is not None else self._connect(path, server)
        self._max_batch = max(1, min(self.client.get_max_batch_size(), 5000))

    @staticmethod
    def _connect(path: str | Path | None, server: ChromaServer | None) -> ClientAPI:
        settings = ChromaSettings(anonymized_telemetry=False)
        if server is not None:
            try:
                return server.client()
            except Exception as exc:
                raise KnowledgeStoreError(
                    f"cannot reach the Chroma server at {server.where} (CHROMA_HOST/CHROMA_PORT/"
                    f"CHROMA_SSL/CHROMA_AUTH_TOKEN): {exc}"
                ) from exc
        folder = Path(path) if path else DEFAULT_CHROMA_PATH
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            folder.chmod(0o700)  # embeddings hold interview text: not for other local users
            return chromadb.PersistentClient(path=str(folder), settings=settings)
        except Exception as exc:
            raise KnowledgeStoreError(
                f"cannot open the Chroma store at {folder} (CHROMA_PATH): {exc}"
            ) from exc

    # -- collections ---------------------------------------------------------------------------

    def _collection(self, workspace: str, kind: Kind, *, create: bool) -> Collection | None:
        name = collection_name(workspace, kind)
        with self._lock:
            cached = self._collections.get(name)
        if cached is not None:
            return cached
        if create:
            collection = self.client.get_or_create_collection(
                name,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"workspace": workspace, "kind": kind},
                embedding_function=self._ef,  # type: ignore[arg-type]
            )
        else:
            try:
                collection = self.client.get_collection(name, embedding_function=self._ef)  # type: ignore[arg-type]
            except (NotFoundError, ValueError) as exc:
                if isinstance(exc, ValueError) and "does not exist" not in str(exc):
                    raise
                return None
        self._check_collection(collection, workspace)
        with self._lock:
            self._collections[name] = collection
        return collection

    def _stored_embedder(self, collection: Collection) -> str | None:
        ef = collection.configuration_json.get("embedding_function") or {}
        if ef.get("name") != ADAPTER_NAME:
            return str(ef.get("name"))
        return str((ef.get("config") or {}).get("embedder"))

    def _check_collection(self, collection: Collection, workspace: str) -> None:
        owner = (collection.metadata or {}).get("workspace")
        if owner != workspace:
            raise IsolationError(
                f"collection {collection.name} belongs to workspace {owner!r}, not {workspace!r}"
            )
        stored = self._stored_embedder(collection)
        if stored != self.embedder.name:
            raise KnowledgeStoreError(
                f"collection {collection.name} holds vectors of embedder {stored!r} but this store uses "
                f"{self.embedder.name!r}; rebuild the workspace's vectors with `icp reindex`"
            )

    def _existing(self, workspace: str, kinds: Iterable[Kind]) -> list[tuple[Kind, Collection]]:
        found = []
        for kind in kinds:
            collection = self._collection(workspace, kind, create=False)
            if collection is not None:
                found.append((kind, collection))
        return found

    # -- writing -------------------------------------------------------------------------------

    def _prepare(
        self,
        workspace: str,
        docs: Sequence[Document],
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> dict[Kind, _Batch]:
        """Validate, chunk and embed everything before the store is touched.

        ``on_progress(embedded, chunks)`` is called as the chunks are embedded (``icp reindex``
        shows it); with it the texts go to the embedder in slices so there is something to count.
        """
        indexed_at = datetime.now(UTC).isoformat()
        batches: dict[Kind, _Batch] = {}
        for position, doc in enumerate(docs):
            if not isinstance(doc, Document):
                raise TypeError(f"docs[{position}] must be a Document, got {type(doc).__name__}")
            if doc.kind not in KINDS:
                allowed = ", ".join(KINDS)
                raise ValueError(
                    f"docs[{position}] ({doc.source_id}): kind must be one of {allowed}, got {doc.kind!r}"
                )
            kind = doc.kind
            if not isinstance(doc.source_id, str) or not doc.source_id.strip():
                raise ValueError(f"docs[{position}] ({kind}): source_id must be a non-empty string")
            if not isinstance(doc.text, str) or not doc.text.strip():
                raise ValueError(f"document {kind}:{doc.source_id}: text is empty")
            batch = batches.setdefault(kind, _Batch())
            if doc.source_id in batch.source_ids:
                raise ValueError(f"document {kind}:{doc.source_id} appears twice in one call")
            batch.source_ids.add(doc.source_id)
            meta = _metadata(workspace, doc, indexed_at)
            chunks = chunk_text(
                doc.text,
                count_tokens=self.embedder.count_tokens,
                max_tokens=self.embedder.max_tokens,
                overlap_tokens=self.overlap_tokens,
            )
            for number, chunk in enumerate(chunks):
                batch.ids.append(f"{workspace}:{kind}:{doc.source_id}:{number}")
                batch.texts.append(chunk.text)
                batch.metadatas.append({**meta, "chunk": number, "chunks": len(chunks)})
        total = sum(len(batch.texts) for batch in batches.values())
        embedded = 0
        for batch in batches.values():
            if on_progress is None:
                vectors = self.embedder.embed(batch.texts)
            else:
                parts = []
                for start in range(0, len(batch.texts), EMBED_PROGRESS_SLICE):
                    parts.append(self.embedder.embed(batch.texts[start : start + EMBED_PROGRESS_SLICE]))
                    embedded += len(parts[-1])
                    on_progress(embedded, total)
                vectors = np.vstack(parts) if parts else self.embedder.embed(batch.texts)
            if vectors.shape != (len(batch.texts), self.embedder.dim):
                raise KnowledgeStoreError(
                    f"embedder {self.embedder.name!r} returned shape {vectors.shape}, "
                    f"expected ({len(batch.texts)}, {self.embedder.dim})"
                )
            batch.embeddings = vectors
        return batches

    def _upsert(self, collection: Collection, batch: _Batch) -> None:
        assert batch.embeddings is not None
        for start in range(0, len(batch.ids), self._max_batch):
            end = start + self._max_batch
            collection.upsert(
                ids=batch.ids[start:end],
                embeddings=batch.embeddings[start:end],
                documents=batch.texts[start:end],
                metadatas=batch.metadatas[start:end],  # type: ignore[arg-type]
            )

    def _delete_ids(self, collection: Collection, ids: Sequence[str]) -> int:
        for part in _batched(ids, self._max_batch):
            collection.delete(ids=list(part))
        return len(ids)

    def add_documents(self, *, workspace: str, docs: Sequence[Document]) -> int:
        """Index ``docs`` (upsert by stable ids); returns the number of chunks written.

        Re-adding a document replaces it: chunks it no longer has are removed after the new ones
        are in, so a reader never sees it missing.
        """
        workspace = _check_workspace(workspace)
        batches = self._prepare(workspace, docs)
        written = 0
        for kind, batch in batches.items():
            collection = self._collection(workspace, kind, create=True)
            assert collection is not None
            self._upsert(collection, batch)
            keep = set(batch.ids)
            stale: list[str] = []
            for sources in _batched(sorted(batch.source_ids), 500):
                listed: dict[Literal["$in", "$nin"], list[Scalar]] = {"$in": list(sources)}
                found = collection.get(where={"source_id": listed}, include=[])["ids"]
                stale.extend(i for i in found if i not in keep)
            self._delete_ids(collection, stale)
            written += len(batch.ids)
        return written

    def rebuild(
        self,
        *,
        workspace: str,
        docs: Sequence[Document],
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> int:
        """Replace all of a workspace's vectors with ``docs`` (used by ``icp reindex``).

        Atomic enough: every vector is computed first (a failure there changes nothing), then
        the new chunks are upserted and only then the ones not in ``docs`` deleted, so readers
        never see an empty workspace. A crash mid-way leaves a superset; rerunning fixes it.
        A collection built with another embedder is dropped and recreated (brief gap).
        """
        workspace = _check_workspace(workspace)
        batches = self._prepare(workspace, docs, on_progress)
        written = 0
        for kind in KINDS:
            batch = batches.get(kind)
            try:
                collection = self._collection(workspace, kind, create=batch is not None)
            except KnowledgeStoreError as exc:
                if isinstance(exc, IsolationError):
                    raise
                self._drop(workspace, kind)
                collection = self._collection(workspace, kind, create=batch is not None)
            if collection is None:
                continue
            keep: set[str] = set()
            if batch is not None:
                self._upsert(collection, batch)
                keep = set(batch.ids)
                written += len(batch.ids)
            existing = collection.get(include=[])["ids"]
            self._delete_ids(collection, [i for i in existing if i not in keep])
        return written

    def _drop(self, workspace: str, kind: Kind) -> None:
        name = collection_name(workspace, kind)
        with self._lock:
            self._collections.pop(name, None)
        self.client.delete_collection(name)

    def delete(
        self,
        *,
        workspace: str,
        source_ids: Sequence[str] | None = None,
        stakeholder: str | None = None,
        kind: Kind | None = None,
    ) -> int:
        """Delete chunks matching every given selector; returns how many were deleted.

        ``stakeholder`` alone is the vector half of ``icp forget USER``. With no selector at all
        the whole workspace is emptied; an empty ``source_ids`` list deletes nothing.
        """
        workspace = _check_workspace(workspace)
        kinds = KINDS if kind is None else (_check_kind(kind),)
        if source_ids is not None and isinstance(source_ids, str):
            raise TypeError("source_ids must be a sequence of ids, not one string")
        if source_ids is not None and not source_ids:
            return 0
        conditions: list[dict[str, Any]] = []
        if stakeholder is not None:
            conditions.append({"stakeholder": stakeholder})
        deleted = 0
        for _, collection in self._existing(workspace, kinds):
            if source_ids is None:
                where = _combine(conditions)
                ids = (
                    collection.get(where=where, include=[])["ids"]
                    if where
                    else collection.get(include=[])["ids"]
                )
            else:
                ids = []
                for part in _batched(list(source_ids), 500):
                    where = _combine([*conditions, {"source_id": {"$in": list(part)}}])
                    ids.extend(collection.get(where=where, include=[])["ids"])
            deleted += self._delete_ids(collection, ids)
        return deleted

    # -- reading -------------------------------------------------------------------------------

    def count(self, *, workspace: str, kind: Kind | None = None) -> int:
        """Chunks stored for the workspace (of one kind, or all)."""
        workspace = _check_workspace(workspace)
        kinds = KINDS if kind is None else (_check_kind(kind),)
        return sum(collection.count() for _, collection in self._existing(workspace, kinds))

    def search(
        self,
        *,
        workspace: str,
        query: str,
        k: int = 8,
        kinds: Sequence[Kind] | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> list[Hit]:
        """The ``k`` chunks of ``workspace`` closest to ``query``, best first.

        ``kinds`` picks collections (no filter cost); ``where`` is a Chroma metadata filter on
        the other fields (stakeholder, role, source_id, created_ts, extra keys). The workspace
        cannot be widened by ``where``: only its own collections are read.
        """
        workspace = _check_workspace(workspace)
        if not isinstance(query, str) or not query.strip():
            raise ValueError("query must be a non-empty string")
        vector = self.embedder.embed([query])[0]
        return self.search_by_vector(workspace=workspace, vector=vector, k=k, kinds=kinds, where=where)

    def search_by_vector(
        self,
        *,
        workspace: str,
        vector: np.ndarray,
        k: int = 8,
        kinds: Sequence[Kind] | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> list[Hit]:
        """:meth:`search` with a precomputed query vector (from this store's embedder)."""
        workspace = _check_workspace(workspace)
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        if isinstance(kinds, str):
            raise TypeError("kinds must be a sequence of kinds, not one string")
        selected = KINDS if kinds is None else tuple(dict.fromkeys(_check_kind(kind) for kind in kinds))
        if where is not None and not isinstance(where, Mapping):
            raise TypeError(f"where must be a mapping (a Chroma filter), got {type(where).__name__}")
        filter_ = dict(where) if where else None
        hits: list[Hit] = []
        for _, collection in self._existing(workspace, selected):
            query: list[Vector] = [np.asarray(vector, dtype=np.float32)]
            result = collection.query(
                query_embeddings=query,
                n_results=k,
                where=filter_,
                include=["documents", "metadatas", "distances"],
            )
            ids = result["ids"][0]
            documents = (result["documents"] or [[]])[0]
            metadatas = (result["metadatas"] or [[]])[0]
            distances = (result["distances"] or [[]])[0]
            for id_, text, meta, distance in zip(ids, documents, metadatas, distances, strict=True):
                # Written by _metadata: scalars only (Chroma's type also allows vectors, lists and None).
                metadata = cast(dict[str, Scalar], dict(meta or {}))
                if metadata.get("workspace") != workspace:
                    raise IsolationError(
                        f"chunk {id_} of workspace {metadata.get('workspace')!r} found in {collection.name}"
                    )
                hits.append(Hit(id=id_, text=text or "", score=1.0 - float(distance), metadata=metadata))
        hits.sort(key=lambda hit: (-hit.score, hit.id))
        return hits[:k]


def _combine(conditions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Chroma needs ``$and`` for more than one condition."""
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def knowledge_store_from(settings: object, *, embedder: Embedder | None = None) -> KnowledgeStore:
    """Build the store from the app settings (``chroma_path``, or a server: ``chroma_host``,
    ``chroma_port``, ``chroma_ssl``, ``chroma_auth_token``...).

    Read with ``getattr`` and defaults, so it works whatever subset the Settings object has.
    """
    resolved = getattr(settings, "resolved_chroma_path", None)  # honours DATA_DIR
    path = resolved or getattr(settings, "chroma_path", None) or DEFAULT_CHROMA_PATH
    return KnowledgeStore(path=path, server=chroma_server_from(settings), embedder=embedder)
