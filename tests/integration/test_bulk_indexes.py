"""A big bulk write of deals builds SQLite's account index afterwards; the index is always there after.

Why: the index is dropped inside the write's transaction (see ``bot.store.repo._bulk._DeferredIndexes``),
so a commit must find it built again and a rollback must leave it as it was, on both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect

from bot.store import session_scope
from bot.store.models import DealCreate, DealStage
from bot.store.repo import _bulk
from bot.store.repo import crm as crm_repo
from bot.store.repo import workspaces as workspaces_repo

ACCOUNT_INDEX = "ix_deal_workspace_id_account_crm_id"


@pytest.fixture
def engine(upgraded_engine: Engine) -> Engine:
    return upgraded_engine


@pytest.fixture
def workspace_id(engine: Engine) -> int:
    with session_scope(engine) as session:
        ws = workspaces_repo.get_or_create_workspace(session=session, slack_team_id="TBULK")
        assert ws.id is not None
        return ws.id


def _deals(count: int) -> list[DealCreate]:
    return [
        DealCreate(
            crm_id=f"D{i:03d}",
            account_crm_id=f"A{(i * 7) % 5}",
            stage=DealStage.won,
            amount=float(i),
            closed_on=date(2024, 5, 1),
        )
        for i in range(count)
    ]


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    return seen


def _has_account_index(engine: Engine) -> bool:
    return ACCOUNT_INDEX in {index["name"] for index in inspect(engine).get_indexes("deal")}


def test_a_big_write_builds_the_account_index_afterwards(
    engine: Engine, workspace_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_bulk, "DEFER_INDEXES_AFTER", 4)
    statements = _statements(engine)
    with session_scope(engine) as session:
        counts = crm_repo.bulk_upsert_deals(
            session=session, workspace_id=workspace_id, rows=_deals(11), chunk_size=2
        )
    assert counts == _bulk.UpsertCounts(added=11)
    deferred = engine.dialect.name == "sqlite"
    assert any(s.startswith(f"DROP INDEX {ACCOUNT_INDEX}") for s in statements) is deferred
    assert any(s.startswith(f"CREATE INDEX {ACCOUNT_INDEX}") for s in statements) is deferred
    assert _has_account_index(engine)
    with session_scope(engine) as session:
        of_a3 = crm_repo.list_deals(session=session, workspace_id=workspace_id, account_crm_id="A3")
    assert [d.crm_id for d in of_a3] == ["D004", "D009"]


def test_a_small_write_keeps_the_index_as_it_goes(
    engine: Engine, workspace_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_bulk, "DEFER_INDEXES_AFTER", 100)
    statements = _statements(engine)
    with session_scope(engine) as session:
        crm_repo.bulk_upsert_deals(session=session, workspace_id=workspace_id, rows=_deals(11), chunk_size=2)
    assert not any(s.startswith("DROP INDEX") for s in statements)


def test_a_write_that_fails_leaves_the_index_and_no_deal(
    engine: Engine, workspace_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_bulk, "DEFER_INDEXES_AFTER", 4)

    def failing() -> Iterator[DealCreate]:
        yield from _deals(8)
        raise RuntimeError("the file went away")

    with pytest.raises(RuntimeError, match="went away"), session_scope(engine) as session:
        crm_repo.bulk_upsert_deals(session=session, workspace_id=workspace_id, rows=failing(), chunk_size=2)
    assert _has_account_index(engine)
    with session_scope(engine) as session:
        assert crm_repo.count_crm_rows(session=session, workspace_id=workspace_id)["deals"] == 0


def test_whole_workspace_reads_scan_the_table_only_when_it_is_that_workspaces_alone(
    engine: Engine, workspace_id: int
) -> None:
    """A small workspace in a shared SQLite store is read through its index, never by a full scan."""
    with session_scope(engine) as session:
        crm_repo.bulk_upsert_deals(session=session, workspace_id=workspace_id, rows=_deals(6))
    statements = _statements(engine)
    with session_scope(engine) as session:
        alone = crm_repo.closed_deal_values(session=session, workspace_id=workspace_id)
    scanned = [s for s in statements if "workspace_id + " in s]
    assert bool(scanned) is (engine.dialect.name == "sqlite")
    with session_scope(engine) as session:
        other = workspaces_repo.get_or_create_workspace(session=session, slack_team_id="TOTHER")
        assert other.id is not None
        crm_repo.bulk_upsert_deals(session=session, workspace_id=other.id, rows=_deals(2))
    statements.clear()
    with session_scope(engine) as session:
        shared = crm_repo.closed_deal_values(session=session, workspace_id=workspace_id)
    assert not [s for s in statements if "workspace_id + " in s]
    assert shared == alone and len(alone["crm_id"]) == 6
