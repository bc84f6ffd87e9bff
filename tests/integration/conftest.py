"""Real databases for the integration tests: a SQLite file and a PostgreSQL database.

PostgreSQL is the server these machines run at 127.0.0.1:5432 (trust auth). Each test session
creates its own uniquely named database and drops it at the end, so parallel runs (xdist workers,
two checkouts) never see each other's rows. When the server is unreachable the PostgreSQL cases
skip with the reason, except where PostgreSQL is required (``ICP_REQUIRE_POSTGRES=1``, or ``CI``
set): there a missing server is a failure, not a silent skip.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from bot.knowledge.embeddings import OnnxMiniLM
from bot.knowledge.store import KnowledgeStore
from bot.store import make_engine, upgrade

PG_ADMIN_URL = os.environ.get("ICP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _postgres_required() -> bool:
    return _truthy(os.environ.get("ICP_REQUIRE_POSTGRES", os.environ.get("CI")))


def _libpq_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url)
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _unreachable_reason(url: str) -> str | None:
    parsed = make_url(url)
    host, port = parsed.host or "127.0.0.1", parsed.port or 5432
    try:
        with socket.create_connection((host, port), timeout=1.0):
            pass
    except OSError as exc:
        return f"PostgreSQL not reachable at {host}:{port}: {exc}"
    try:
        with psycopg.connect(_libpq_dsn(url), connect_timeout=3):
            pass
    except psycopg.Error as exc:
        return f"PostgreSQL at {host}:{port} refused the test login: {exc}".strip()
    return None


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The maintenance URL (database ``test``); skips (or fails where required) without a server."""
    reason = _unreachable_reason(PG_ADMIN_URL)
    if reason is not None:
        if _postgres_required():
            pytest.fail(f"{reason} (PostgreSQL is required here: ICP_REQUIRE_POSTGRES/CI is set)")
        pytest.skip(reason)
    return PG_ADMIN_URL


@pytest.fixture(scope="session")
def postgres_database_factory(postgres_admin_url: str) -> Iterator[Callable[[], str]]:
    """Creates empty, uniquely named databases on demand; drops them all at session end."""
    created: list[str] = []
    admin_dsn = _libpq_dsn(postgres_admin_url)

    def create() -> str:
        name = f"icp_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)

    yield create
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        for name in created:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A brand-new empty database, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    factory: Callable[[], str] = request.getfixturevalue("postgres_database_factory")
    return factory()


@pytest.fixture(scope="session", params=BACKENDS)
def store_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated store shared by a session's tests; tests keep apart by using fresh workspaces."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'icp.db'}"
    else:
        url = request.getfixturevalue("postgres_database_factory")()
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def embedder() -> OnnxMiniLM:
    """The offline embedding model, loaded once per test process (about 0.5 s)."""
    model = OnnxMiniLM(threads=1)
    model.load()
    return model


@pytest.fixture
def knowledge(tmp_path: Path, embedder: OnnxMiniLM) -> Iterator[KnowledgeStore]:
    """A fresh embedded Chroma store for one test."""
    from chromadb.api.shared_system_client import SharedSystemClient

    yield KnowledgeStore(path=tmp_path / "chroma", embedder=embedder)
    SharedSystemClient.clear_system_cache()
