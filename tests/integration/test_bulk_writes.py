"""How a big bulk write of deals runs, and that what it stores is the plain upsert's on both backends.

- SQLite builds the account index afterwards: it is dropped inside the write's transaction (see
  ``bot.store.repo._bulk._DeferredIndexes``), so a commit must find it built again and a rollback
  must leave it as it was.
- SQLite inserts rows not stored yet with a plain INSERT and upserts only the changed ones: an
  upsert whose SET names the foreign-key column ``import_run_id`` costs it twice a plain insert
  per row, and the store's write transactions begin IMMEDIATE, so the digest look-up already knows
  which rows are new. PostgreSQL keeps the upsert for every row (another transaction may store a
  row between the look-up and the write).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect, text

from bot.store import session_scope
from bot.store.models import DealCreate, DealStage, ImportKind, ImportRunCreate
from bot.store.repo import _bulk
from bot.store.repo import crm as crm_repo
from bot.store.repo import imports as imports_repo
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


# --- which statement runs ---------------------------------------------------------------------


def _deal(crm_id: str, amount: float) -> DealCreate:
    return DealCreate(
        crm_id=crm_id, account_crm_id="A1", stage=DealStage.won, amount=amount, closed_on=date(2024, 5, 1)
    )


def _inserts(engine: Engine) -> list[tuple[bool, int]]:
    """Each INSERT into deal run from now on: (whether it is an upsert, how many parameter rows)."""
    seen: list[tuple[bool, int]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO DEAL"):
            seen.append(("ON CONFLICT" in statement.upper(), len(parameters) if many else 1))

    return seen


def _write(
    engine: Engine, workspace_id: int, deals: list[DealCreate], run: int | None = None
) -> _bulk.UpsertCounts:
    with session_scope(engine) as session:
        return crm_repo.bulk_upsert_deals(
            session=session, workspace_id=workspace_id, rows=deals, chunk_size=4, import_run_id=run
        )


def _stored(engine: Engine, workspace_id: int) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT crm_id, amount, import_run_id FROM deal WHERE workspace_id = :ws ORDER BY crm_id"),
            {"ws": workspace_id},
        )
        return [tuple(row) for row in rows]


def _import_run(engine: Engine, workspace_id: int) -> int:
    """An import run for the second write's rows to point at."""
    with session_scope(engine) as session:
        run = imports_repo.start_import_run(
            session=session,
            workspace_id=workspace_id,
            data=ImportRunCreate(kind=ImportKind.deals, filename="d.csv", checksum="c" * 64, started_by="U1"),
        )
        assert run.id is not None
        return run.id


def test_new_rows_are_inserted_plainly_and_changed_rows_upserted(engine: Engine, workspace_id: int) -> None:
    sqlite = engine.dialect.name == "sqlite"
    first = _inserts(engine)
    assert _write(engine, workspace_id, [_deal(f"D{i}", i) for i in range(6)]) == _bulk.UpsertCounts(added=6)
    if sqlite:  # two chunks (4 + 2), each a plain executemany
        assert first == [(False, 4), (False, 2)]
    else:  # COPY, then one INSERT ... SELECT ... ON CONFLICT per chunk
        assert first == [(True, 1), (True, 1)]

    run = _import_run(engine, workspace_id)
    again = _inserts(engine)
    # D0, D1 unchanged; D2, D3 changed; D6, D7 new; then D8 twice (the later one wins)
    deals = [_deal("D0", 0), _deal("D1", 1), _deal("D2", 20), _deal("D3", 30)]
    deals += [_deal("D6", 6), _deal("D7", 7), _deal("D8", 8), _deal("D8", 80)]
    counts = _write(engine, workspace_id, deals, run)

    assert counts == _bulk.UpsertCounts(added=3, updated=3, unchanged=2)
    if sqlite:  # chunk 1: D2, D3 upserted; chunk 2: D6, D7, D8 inserted once
        assert again == [(True, 2), (False, 3)]
    else:
        assert again == [(True, 1), (True, 1)]
    stored = _stored(engine, workspace_id)
    assert [(crm_id, amount) for crm_id, amount, _ in stored] == [
        ("D0", 0.0),
        ("D1", 1.0),
        ("D2", 20.0),
        ("D3", 30.0),
        ("D4", 4.0),
        ("D5", 5.0),
        ("D6", 6.0),
        ("D7", 7.0),
        ("D8", 80.0),
    ]
    written_by_run = {crm_id for crm_id, _, by in stored if by == run}
    assert written_by_run == {"D2", "D3", "D6", "D7", "D8"}  # unchanged rows keep their run


def test_distinct_ids_into_an_empty_workspace_are_inserted_without_a_lookup(
    engine: Engine, workspace_id: int
) -> None:
    inserts = _inserts(engine)
    with session_scope(engine) as session:
        counts = crm_repo.bulk_upsert_deals(
            session=session,
            workspace_id=workspace_id,
            rows=[_deal(f"D{i}", i) for i in range(5)],
            chunk_size=4,
            distinct_ids=True,
        )
    assert counts == _bulk.UpsertCounts(added=5)
    assert all(not upsert for upsert, _ in inserts) is (engine.dialect.name == "sqlite")
    assert len(_stored(engine, workspace_id)) == 5
