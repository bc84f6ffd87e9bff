"""Read-only units of work: on SQLite they take no write lock, so scoring never queues behind an
import (or makes one queue behind it); units of work that write still take the lock up front."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import select

from bot.services.scoring.account_lookup import AccountLookup
from bot.services.scoring.service import ScoreOutcome, score_query
from bot.store.db import make_engine, read_only, read_scope, session_scope, upgrade
from bot.store.models import AccountCreate, IcpStatus, IcpVersionCreate, Workspace
from bot.store.repo.crm import bulk_upsert_accounts
from bot.store.repo.icp import create_icp_draft, set_icp_status
from bot.store.repo.workspaces import get_or_create_workspace, get_workspace

ICP_DOC = {
    "name": "Read scope ICP",
    "criteria": [{"attribute": "industry", "op": "in", "values": ["software"], "points": 50}],
}


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    path = tmp_path / "icp.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield engine, path
    engine.dispose()


def write_lock_free(path: Path) -> bool:
    """Whether another connection can take SQLite's write lock right now (without waiting)."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        conn.close()  # closing rolls the probe back
    return True


@contextmanager
def held_write_lock(path: Path) -> Iterator[None]:
    """Another process's import in the middle of writing: the write lock held, uncommitted."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO workspace (slack_team_id, created_at) VALUES ('TLOCK', '2024-01-01 00:00:00')")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def seed(engine: Engine, team: str) -> int:
    with session_scope(engine) as session:
        workspace_id = get_or_create_workspace(session=session, slack_team_id=team).id
        assert workspace_id is not None
        bulk_upsert_accounts(
            session=session,
            workspace_id=workspace_id,
            rows=[AccountCreate(crm_id="A1", name="Acme, Inc.", domain="acme.com", industry="software")],
        )
        draft = create_icp_draft(
            session=session,
            workspace_id=workspace_id,
            data=IcpVersionCreate(name="v1", icp_json=ICP_DOC, author="U1"),
        )
        assert draft.id is not None
        set_icp_status(
            session=session,
            workspace_id=workspace_id,
            version_id=draft.id,
            status=IcpStatus.approved,
            actor="U1",
        )
    return workspace_id


def test_a_read_scope_reads_without_taking_the_write_lock(sqlite_store: tuple[Engine, Path]) -> None:
    engine, path = sqlite_store
    seed(engine, "TREAD")
    with read_scope(engine) as session:
        assert get_workspace(session=session, slack_team_id="TREAD") is not None  # a transaction is open
        assert write_lock_free(path)
    with read_only(engine).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM account")).scalar_one() == 1
        assert write_lock_free(path)


def test_a_unit_of_work_still_takes_the_write_lock_up_front(sqlite_store: tuple[Engine, Path]) -> None:
    engine, path = sqlite_store
    with session_scope(engine) as session:
        session.exec(select(Workspace)).all()  # only read so far, yet the lock is already held
        assert not write_lock_free(path)
    assert write_lock_free(path)


def test_scoring_answers_while_an_import_holds_the_write_lock(sqlite_store: tuple[Engine, Path]) -> None:
    engine, path = sqlite_store
    workspace_id = seed(engine, "TSCORE")
    with held_write_lock(path):
        for query in ("Acme Inc", "acme.com", "acme incc"):  # exact name, domain, fuzzy (index re-checked)
            outcome = score_query(engine, team_id="TSCORE", query=query)
            assert isinstance(outcome, ScoreOutcome), outcome
            assert outcome.subject.crm_id == "A1"
            # +50 points (software) -> 100 * sigmoid(50 * ln2 / 20) = 85.0, tier A (>= 70)
            assert outcome.result.score == 85.0
            assert outcome.result.tier == "A"
        assert AccountLookup(engine).find(workspace_id, "acme", fresh=True).status == "found"


def test_a_read_scope_sees_committed_rows_and_keeps_nothing(store_engine: Engine) -> None:
    with session_scope(store_engine) as session:
        get_or_create_workspace(session=session, slack_team_id="TKEEP")
    with read_scope(store_engine) as session:
        assert get_workspace(session=session, slack_team_id="TKEEP") is not None
        session.add(Workspace(slack_team_id="TDROPPED"))
        session.flush()
        assert get_workspace(session=session, slack_team_id="TDROPPED") is not None
    with read_scope(store_engine) as session:
        assert get_workspace(session=session, slack_team_id="TDROPPED") is None
