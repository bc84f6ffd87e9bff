"""Real databases for the integration tests: a SQLite file and a PostgreSQL database.

PostgreSQL is the server these machines run at 127.0.0.1:5432 (trust auth). Each test session
creates its own uniquely named database and drops it at the end, so parallel runs (xdist workers,
two checkouts) never see each other's rows. When the server is unreachable the PostgreSQL cases
skip with the reason, except where PostgreSQL is required (``ICP_REQUIRE_POSTGRES=1``, or ``CI``
set): there a missing server is a failure, not a silent skip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.knowledge.embeddings import OnnxMiniLM
from bot.knowledge.store import KnowledgeStore
from bot.store import make_engine, upgrade
from tests.support.postgres import (
    PG_ADMIN_URL,
    create_database,
    drop_databases,
    postgres_required,
    unreachable_reason,
)

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The maintenance URL (database ``test``); skips (or fails where required) without a server."""
    reason = unreachable_reason(PG_ADMIN_URL)
    if reason is not None:
        if postgres_required():
            pytest.fail(f"{reason} (PostgreSQL is required here: ICP_REQUIRE_POSTGRES/CI is set)")
        pytest.skip(reason)
    return PG_ADMIN_URL


@pytest.fixture(scope="session")
def postgres_database_factory(postgres_admin_url: str) -> Iterator[Callable[[], str]]:
    """Creates empty, uniquely named databases on demand; drops them all at session end."""
    created: list[str] = []

    def create() -> str:
        created.append(create_database(postgres_admin_url))
        return created[-1]

    yield create
    drop_databases(postgres_admin_url, created)


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A brand-new empty database, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    factory: Callable[[], str] = request.getfixturevalue("postgres_database_factory")
    return factory()


@pytest.fixture
def upgraded_engine(empty_db_url: str) -> Iterator[Engine]:
    """A brand-new migrated store of its own, once per backend (for tests that change its schema or rows)."""
    created = make_engine(empty_db_url)
    upgrade(created)
    yield created
    created.dispose()


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
