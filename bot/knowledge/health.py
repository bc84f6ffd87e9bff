"""Is the vector store answering? A cheap heartbeat for ``/healthz`` (no embedding model loaded)."""

from __future__ import annotations

from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings

from bot.knowledge.chroma_server import chroma_server_from
from bot.knowledge.store import DEFAULT_CHROMA_PATH


def ping_vector_store(settings: object) -> None:
    """Raise unless the configured Chroma (server, or embedded folder) answers a heartbeat.

    Settings are read with ``getattr`` like ``knowledge_store_from``: ``chroma_host`` and the
    other server settings (TLS, token) for a server, else ``resolved_chroma_path`` (or
    ``chroma_path``)."""
    chroma = ChromaSettings(anonymized_telemetry=False)
    server = chroma_server_from(settings)
    if server is not None:
        try:
            server.client().heartbeat()
        except Exception as exc:
            raise ConnectionError(f"no Chroma server answers at {server.where}") from exc
        return
    folder = getattr(settings, "resolved_chroma_path", None) or getattr(settings, "chroma_path", None)
    folder = Path(folder or DEFAULT_CHROMA_PATH)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # embeddings hold interview text: not for other local users
    chromadb.PersistentClient(path=str(folder), settings=chroma).heartbeat()
