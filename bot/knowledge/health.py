"""Is the vector store answering? A cheap heartbeat for ``/healthz`` (no embedding model loaded)."""

from __future__ import annotations

from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings

from bot.knowledge.store import DEFAULT_CHROMA_PATH, DEFAULT_CHROMA_PORT


def ping_vector_store(settings: object) -> None:
    """Raise unless the configured Chroma (server, or embedded folder) answers a heartbeat.

    Settings are read with ``getattr`` like ``knowledge_store_from``: ``chroma_host`` and
    ``chroma_port`` for a server, else ``resolved_chroma_path`` (or ``chroma_path``)."""
    chroma = ChromaSettings(anonymized_telemetry=False)
    host = getattr(settings, "chroma_host", None) or None
    if host:
        port = int(getattr(settings, "chroma_port", None) or DEFAULT_CHROMA_PORT)
        try:
            chromadb.HttpClient(host=host, port=port, settings=chroma).heartbeat()
        except Exception as exc:
            raise ConnectionError(f"no Chroma server answers at {host}:{port}") from exc
        return
    folder = getattr(settings, "resolved_chroma_path", None) or getattr(settings, "chroma_path", None)
    folder = Path(folder or DEFAULT_CHROMA_PATH)
    folder.mkdir(parents=True, exist_ok=True)
    chromadb.PersistentClient(path=str(folder), settings=chroma).heartbeat()
