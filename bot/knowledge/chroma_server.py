"""How to reach a Chroma server: host, port, TLS, token header, tenant and database from the settings.

One place builds the ``chromadb.HttpClient`` arguments, so the knowledge store and the ``/healthz``
heartbeat talk to the server the same way. Settings are read with ``getattr`` and defaults (as in
``knowledge_store_from``), so any object holding a subset works; the token never appears in an
error message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import chromadb
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings

DEFAULT_CHROMA_PORT = 8000
DEFAULT_TENANT = "default_tenant"
DEFAULT_DATABASE = "default_database"


@dataclass(frozen=True)
class ChromaServer:
    """Where and how to connect; ``headers`` carry the token and are kept out of ``repr``."""

    host: str
    port: int = DEFAULT_CHROMA_PORT
    ssl: bool = False
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    tenant: str = DEFAULT_TENANT
    database: str = DEFAULT_DATABASE

    @property
    def where(self) -> str:
        return f"{'https' if self.ssl else 'http'}://{self.host}:{self.port}"

    def client(self) -> ClientAPI:
        return chromadb.HttpClient(
            host=self.host,
            port=self.port,
            ssl=self.ssl,
            headers=dict(self.headers),
            settings=ChromaSettings(anonymized_telemetry=False),
            tenant=self.tenant,
            database=self.database,
        )


def auth_headers(token: str | None, header: str = "Authorization") -> dict[str, str]:
    """The header Chroma's token authentication reads: ``Authorization: Bearer <t>`` or
    ``X-Chroma-Token: <t>``; none without a token."""
    if not token:
        return {}
    if header.lower() == "authorization":
        return {"Authorization": f"Bearer {token}"}
    return {header: token}


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    reveal = getattr(value, "get_secret_value", None)
    return str(reveal() if callable(reveal) else value) or None


def chroma_server_from(settings: object) -> ChromaServer | None:
    """The configured server (``CHROMA_HOST`` set), else None for the embedded store."""
    host = getattr(settings, "chroma_host", None) or None
    if not host:
        return None
    token = _secret(getattr(settings, "chroma_auth_token", None))
    return ChromaServer(
        host=str(host),
        port=int(getattr(settings, "chroma_port", None) or DEFAULT_CHROMA_PORT),
        ssl=bool(getattr(settings, "chroma_ssl", False)),
        headers=auth_headers(token, str(getattr(settings, "chroma_auth_header", None) or "Authorization")),
        tenant=str(getattr(settings, "chroma_tenant", None) or DEFAULT_TENANT),
        database=str(getattr(settings, "chroma_database", None) or DEFAULT_DATABASE),
    )
