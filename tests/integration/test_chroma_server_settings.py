"""CHROMA_SSL / CHROMA_AUTH_TOKEN reach the Chroma server: a stand-in server on 127.0.0.1 records
each request's headers and answers like Chroma's v2 API for the calls a client makes.

A stand-in, because the real server cannot check a token: ``chroma run`` (chromadb 1.x, the Rust
server) has no server-side authentication, so the token is for an authenticating proxy or a hosted
Chroma in front of it. The last test proves that against a real ``chroma run``, and fails the day
chromadb enforces a token, when a real-server token test belongs here."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import chromadb
import pytest

from bot.knowledge.chroma_server import chroma_server_from
from bot.knowledge.health import ping_vector_store
from bot.knowledge.store import KnowledgeStore, KnowledgeStoreError, knowledge_store_from
from bot.settings import Settings
from tests.support.chroma_server import chroma_server

TOKEN = "s3cret-chroma-token"


class Recorder(ThreadingHTTPServer):
    def __init__(self, token: str, header: str) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.token, self.header = token, header
        self.seen: list[tuple[str, dict[str, str]]] = []


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, *_: object) -> None:
        return None

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        want = f"Bearer {self.server.token}" if self.server.header == "Authorization" else self.server.token
        if self.headers.get(self.server.header) != want:
            self._json(401, {"error": "Unauthorized", "message": "missing or wrong token"})
            return
        path = self.path.split("?")[0]
        if path.endswith("/heartbeat"):
            body: object = {"nanosecond heartbeat": 1}
        elif path.endswith("/auth/identity"):
            body = {"user_id": "u", "tenant": "default_tenant", "databases": ["default_database"]}
        elif path.endswith("/pre-flight-checks"):
            body = {"max_batch_size": 100}
        elif "/databases/" in path:
            body = {
                "id": "00000000-0000-0000-0000-000000000000",
                "name": "default_database",
                "tenant": "default_tenant",
            }
        elif "/tenants/" in path:
            body = {"name": "default_tenant"}
        else:
            body = {}
        self._json(200, body)

    do_GET = do_POST = _answer

    def _json(self, status: int, body: object) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def _serve(header: str) -> Iterator[Recorder]:
    server = Recorder(TOKEN, header)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def bearer() -> Iterator[Recorder]:
    yield from _serve("Authorization")


@pytest.fixture
def x_token() -> Iterator[Recorder]:
    yield from _serve("X-Chroma-Token")


def _settings(server: Recorder, **extra: object) -> Settings:
    return Settings(_env_file=None, chroma_host="127.0.0.1", chroma_port=server.server_address[1], **extra)  # type: ignore[arg-type, call-arg]


def test_token_is_sent_as_bearer_on_every_request(bearer: Recorder) -> None:
    ping_vector_store(_settings(bearer, chroma_auth_token=TOKEN))
    assert bearer.seen
    assert all(h.get("authorization") == f"Bearer {TOKEN}" for _, h in bearer.seen)


def test_token_can_travel_as_x_chroma_token(x_token: Recorder) -> None:
    store = knowledge_store_from(
        _settings(x_token, chroma_auth_token=TOKEN, chroma_auth_header="X-Chroma-Token")
    )
    store.client.heartbeat()
    assert any(path.endswith("/heartbeat") for path, _ in x_token.seen)
    assert all(h.get("x-chroma-token") == TOKEN for _, h in x_token.seen)
    assert all("authorization" not in h for _, h in x_token.seen)


def test_without_the_token_the_server_refuses_and_the_error_names_no_secret(bearer: Recorder) -> None:
    with pytest.raises(ConnectionError) as failed:
        ping_vector_store(_settings(bearer))
    assert "127.0.0.1" in str(failed.value)
    with pytest.raises(KnowledgeStoreError) as refused:
        KnowledgeStore(server=chroma_server_from(_settings(bearer, chroma_auth_token="not-the-token-4242")))
    assert "not-the-token-4242" not in str(refused.value) and "CHROMA_AUTH_TOKEN" in str(refused.value)


def test_ssl_setting_makes_the_client_speak_tls(bearer: Recorder) -> None:
    """The stand-in speaks plain HTTP, so a TLS client fails its handshake: proof it tried TLS."""
    server = chroma_server_from(_settings(bearer, chroma_auth_token=TOKEN, chroma_ssl=True))
    assert server is not None and server.where.startswith("https://")
    with pytest.raises(ConnectionError, match=r"https://127\.0\.0\.1"):
        ping_vector_store(_settings(bearer, chroma_auth_token=TOKEN, chroma_ssl=True))
    assert all(h.get("authorization") is None for _, h in bearer.seen)  # nothing readable arrived


def test_token_never_shows_in_the_server_repr() -> None:
    server = chroma_server_from(Settings(_env_file=None, chroma_host="h", chroma_auth_token=TOKEN))  # type: ignore[arg-type, call-arg]
    assert server is not None and TOKEN not in repr(server)


@pytest.mark.slow
def test_chroma_run_checks_no_token_so_the_token_is_for_a_proxy(tmp_path: Path) -> None:
    """Started with the 0.x token-auth variables, ``chroma run`` still serves a client with no
    token and one with a wrong token: it authenticates nobody (see the module docstring)."""
    token_auth = {
        "CHROMA_SERVER_AUTHN_PROVIDER": "chromadb.auth.token_authn.TokenAuthenticationServerProvider",
        "CHROMA_SERVER_AUTHN_CREDENTIALS": TOKEN,
        "CHROMA_AUTH_TOKEN_TRANSPORT_HEADER": "Authorization",
    }
    with chroma_server(tmp_path / "chroma", env=token_auth) as port:
        for token in (None, "not-the-token-4242"):
            fields = {"chroma_host": "127.0.0.1", "chroma_port": port, "chroma_auth_token": token}
            settings = Settings(_env_file=None, **fields)  # type: ignore[arg-type, call-arg]
            ping_vector_store(settings)
            store = knowledge_store_from(settings)
            name = f"unchecked-{'none' if token is None else 'wrong'}"
            assert store.client.get_or_create_collection(name).name == name, chromadb.__version__
