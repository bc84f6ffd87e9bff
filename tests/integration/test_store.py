"""The SQL store against real SQLite and real PostgreSQL.

Every test runs on both backends (``store_engine``/``empty_db_url`` are parametrised in
conftest). Tests share one migrated database per backend and keep apart by working in fresh
workspaces, which is itself the tenancy rule under test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, select

from bot.store import connect, current_revision, downgrade, head_revision, make_engine, session_scope, upgrade
from bot.store.db import HEAD_REVISION, resolve_url, stored_revision
from bot.store.models import (
    AccountCreate,
    Answer,
    AnswerCreate,
    AuditEntry,
    CustomerHealthCreate,
    Deal,
    DealCreate,
    DealStage,
    GtmRole,
    IcpStatus,
    IcpVersion,
    IcpVersionCreate,
    ImportKind,
    ImportRunCreate,
    ImportStatus,
    Interview,
    InterviewCreate,
    InterviewState,
    PersonaCreate,
    QuestionCreate,
    ReminderCreate,
    StakeholderCreate,
    Workspace,
    metadata,
)
from bot.store.repo import ConflictError, InvalidTransitionError, NotFoundError, UpsertCounts
from bot.store.repo import answers as answers_repo
from bot.store.repo import audit as audit_repo
from bot.store.repo import crm as crm_repo
from bot.store.repo import icp as icp_repo
from bot.store.repo import imports as imports_repo
from bot.store.repo import interviews as interviews_repo
from bot.store.repo import privacy as privacy_repo
from bot.store.repo import reminders as reminders_repo
from bot.store.repo import stakeholders as stakeholders_repo
from bot.store.repo import workspaces as workspaces_repo
from bot.store.types import NaiveDatetimeError

DB_SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --------------------------------------------------------------------------- helpers


def new_workspace(engine: Engine) -> int:
    with session_scope(engine) as session:
        ws = workspaces_repo.get_or_create_workspace(
            session=session, slack_team_id=f"T{uuid.uuid4().hex[:10]}"
        )
        assert ws.id is not None
        return ws.id


def new_interview(session: Session, workspace_id: int, slack_user_id: str = "U1") -> Interview:
    person = stakeholders_repo.get_or_create_stakeholder(
        session=session,
        workspace_id=workspace_id,
        data=StakeholderCreate(slack_user_id=slack_user_id, gtm_role=GtmRole.sales),
    )
    assert person.id is not None
    return interviews_repo.create_interview(
        session=session, workspace_id=workspace_id, data=InterviewCreate(stakeholder_id=person.id)
    )


def deal(crm_id: str, amount: float = 1000.0, **extra: Any) -> DealCreate:
    return DealCreate(crm_id=crm_id, stage=DealStage.won, amount=amount, closed_on=date(2024, 5, 1), **extra)


@pytest.fixture
def ws(store_engine: Engine) -> int:
    return new_workspace(store_engine)


# --------------------------------------------------------------------------- migrations


def _newest_migration_file() -> str:
    """The revision of the newest file in versions/ (numbered files): head must reach it."""
    folder = Path(__file__).resolve().parents[2] / "bot" / "store" / "migrations" / "versions"
    return max(p.name.split("_", 1)[0] for p in folder.glob("[0-9]*_*.py"))


def test_migrations_match_models_and_downgrade_to_base(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            diffs_before = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diffs_before, "an empty database must differ from the models (the comparison works)"

        assert stored_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision() == _newest_migration_file() == HEAD_REVISION
        assert stored_revision(engine) == HEAD_REVISION
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, metadata) == []

        downgrade(engine, "base")
        assert current_revision(engine) is None and stored_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

        upgrade(engine)  # and back up again from base
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_an_embedded_store_behind_head_upgrades_itself_and_one_at_head_loads_no_alembic(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0006")
    engine = connect(url)  # behind: upgraded on connect
    try:
        assert stored_revision(engine) == current_revision(engine) == HEAD_REVISION
    finally:
        engine.dispose()
    probe = "import sys; from bot.store import connect; connect(sys.argv[1]).dispose(); print('alembic' in sys.modules)"
    at_head = subprocess.run([sys.executable, "-c", probe, url], capture_output=True, text=True, check=True)
    assert at_head.stdout.strip() == "False"  # at head: the check is one query, no migration run
    behind = f"sqlite:///{tmp_path / 'new.db'}"
    fresh = subprocess.run([sys.executable, "-c", probe, behind], capture_output=True, text=True, check=True)
    assert fresh.stdout.strip() == "True"  # (the probe sees a migration when there is one)


def test_autogenerate_renders_plain_sqlalchemy_types() -> None:
    """New revisions must not import application types (they would break when those change)."""
    from sqlmodel.sql.sqltypes import AutoString

    from bot.store.migrations.rendering import render_item
    from bot.store.types import UTCDateTime, enum_column

    assert render_item("type", AutoString(length=32), None) == "sa.String(length=32)"  # type: ignore[arg-type]
    assert render_item("type", UTCDateTime(), None) == "sa.DateTime(timezone=True)"  # type: ignore[arg-type]
    assert render_item("type", enum_column(GtmRole), None) == "sa.String(length=32)"  # type: ignore[arg-type]
    assert render_item("column", AutoString(length=32), None) is False  # type: ignore[arg-type]


def test_default_store_is_sqlite_under_data_and_upgrades_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    engine = connect()
    try:
        assert (tmp_path / "data" / "icp.db").is_file()
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    finally:
        engine.dispose()


def test_database_url_is_normalised_to_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db:5432/icp")
    assert resolve_url(None) == "postgresql+psycopg://u@db:5432/icp"
    assert resolve_url("postgresql://u@h/x") == "postgresql+psycopg://u@h/x"
    monkeypatch.delenv("DATABASE_URL")
    assert resolve_url(None) == "sqlite:///./data/icp.db"


# --------------------------------------------------------------------------- answers


def test_same_slack_event_is_stored_once(store_engine: Engine, ws: int) -> None:
    with session_scope(store_engine) as session:
        interview = new_interview(session, ws)
        data = AnswerCreate(interview_id=interview.id, slack_event_id="Ev01", text="Fintech, 200+ staff")
        first, created_first = answers_repo.record_answer(session=session, workspace_id=ws, data=data)
        again, created_again = answers_repo.record_answer(session=session, workspace_id=ws, data=data)
    assert (created_first, created_again) == (True, False)
    assert again.id == first.id
    with session_scope(store_engine) as session:
        redelivered, created = answers_repo.record_answer(session=session, workspace_id=ws, data=data)
        assert not created and redelivered.id == first.id
        assert answers_repo.count_answers(session=session, workspace_id=ws) == 1
        assert first.answered_at.tzinfo is not None


def test_concurrent_redelivery_from_two_threads_stores_one_row(store_engine: Engine, ws: int) -> None:
    with session_scope(store_engine) as session:
        interview_id = new_interview(session, ws).id
    assert interview_id is not None
    barrier = threading.Barrier(2)
    results: list[tuple[int | None, bool]] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait(timeout=10)
            with session_scope(store_engine) as session:
                row, created = answers_repo.record_answer(
                    session=session,
                    workspace_id=ws,
                    data=AnswerCreate(interview_id=interview_id, slack_event_id="EvRace", text="same"),
                )
                results.append((row.id, created))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(results) == 2
    assert results[0][0] == results[1][0]
    assert sorted(created for _, created in results) == [False, True]
    with session_scope(store_engine) as session:
        assert answers_repo.count_answers(session=session, workspace_id=ws) == 1


def test_answer_to_a_question_of_another_interview_is_refused(store_engine: Engine, ws: int) -> None:
    with session_scope(store_engine) as session:
        first = new_interview(session, ws, "U1")
        second = new_interview(session, ws, "U2")
        question = interviews_repo.record_question(
            session=session,
            workspace_id=ws,
            interview_id=first.id,
            data=QuestionCreate(question_key="q", text="?"),
        )
        with pytest.raises(NotFoundError, match="was not asked in interview"):
            answers_repo.record_answer(
                session=session,
                workspace_id=ws,
                data=AnswerCreate(
                    interview_id=second.id, question_id=question.id, slack_event_id="E", text="x"
                ),
            )


# --------------------------------------------------------------------------- interviews


def test_interview_lifecycle_and_one_active_per_person(store_engine: Engine, ws: int) -> None:
    with session_scope(store_engine) as session:
        interview = new_interview(session, ws)
        assert interview.state == InterviewState.pending
        with pytest.raises(ConflictError, match="already has active interview"):
            interviews_repo.create_interview(
                session=session,
                workspace_id=ws,
                data=InterviewCreate(stakeholder_id=interview.stakeholder_id),
            )
        interviews_repo.advance_interview(
            session=session,
            workspace_id=ws,
            interview_id=interview.id,
            state=InterviewState.in_progress,
            step=1,
        )
        active = interviews_repo.get_active_interview(
            session=session, workspace_id=ws, stakeholder_id=interview.stakeholder_id
        )
        assert active is not None and active.id == interview.id and active.step == 1
        with pytest.raises(InvalidTransitionError, match="behind"):
            interviews_repo.advance_interview(
                session=session, workspace_id=ws, interview_id=interview.id, step=0
            )
        done = interviews_repo.advance_interview(
            session=session, workspace_id=ws, interview_id=interview.id, state=InterviewState.completed
        )
        assert done.completed_at is not None
        with pytest.raises(InvalidTransitionError, match="completed"):
            interviews_repo.advance_interview(
                session=session, workspace_id=ws, interview_id=interview.id, state=InterviewState.in_progress
            )
        # once completed, a new interview may start
        again = interviews_repo.create_interview(
            session=session, workspace_id=ws, data=InterviewCreate(stakeholder_id=interview.stakeholder_id)
        )
        assert again.id != interview.id


def test_database_refuses_a_second_active_interview(store_engine: Engine, ws: int) -> None:
    """The partial unique index, not just the repository check, keeps one active interview."""
    with session_scope(store_engine) as session:
        interview = new_interview(session, ws)
        session.add(Interview(workspace_id=ws, stakeholder_id=interview.stakeholder_id))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


# --------------------------------------------------------------------------- bulk upsert


def test_bulk_upsert_counts_added_unchanged_updated(store_engine: Engine, ws: int) -> None:
    rows = [
        deal(f"D{i}", amount=100.0 * i, custom_attributes={"source": "web", "rank": i}) for i in range(12)
    ]
    with session_scope(store_engine) as session:
        first = crm_repo.bulk_upsert_deals(session=session, workspace_id=ws, rows=rows, chunk_size=5)
        same = crm_repo.bulk_upsert_deals(session=session, workspace_id=ws, rows=rows, chunk_size=5)
        reordered = [
            deal(r.crm_id, r.amount or 0, custom_attributes=dict(reversed(r.custom_attributes.items())))
            for r in rows
        ]
        same_again = crm_repo.bulk_upsert_deals(session=session, workspace_id=ws, rows=reordered)
        rows[3] = deal("D3", amount=999.0)
        rows[7] = DealCreate(crm_id="D7", stage=DealStage.lost)
        changed = crm_repo.bulk_upsert_deals(session=session, workspace_id=ws, rows=[*rows, deal("D99")])
    assert first == UpsertCounts(added=12)
    assert same == UpsertCounts(unchanged=12)
    assert same_again == UpsertCounts(unchanged=12), "dict key order is not a change"
    assert changed == UpsertCounts(added=1, updated=2, unchanged=10)
    with session_scope(store_engine) as session:
        d3 = crm_repo.get_deal(session=session, workspace_id=ws, crm_id="D3")
        d7 = crm_repo.get_deal(session=session, workspace_id=ws, crm_id="D7")
        d5 = crm_repo.get_deal(session=session, workspace_id=ws, crm_id="D5")
        assert crm_repo.count_crm_rows(session=session, workspace_id=ws)["deals"] == 13
    assert d3 is not None and d3.amount == 999.0 and d3.custom_attributes == {}
    assert d7 is not None and d7.stage == DealStage.lost and d7.amount is None and d7.closed_on is None
    assert d5 is not None and d5.custom_attributes == {"source": "web", "rank": 5}
    assert d5.closed_on == date(2024, 5, 1) and d5.created_at.tzinfo is not None


@DB_SETTINGS
@given(
    batches=st.lists(
        st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(0, 2)), max_size=15), min_size=1, max_size=3
    ),
    chunk_size=st.integers(1, 6),
)
def test_bulk_upsert_matches_a_sequential_model(
    store_engine: Engine, batches: list[list[tuple[str, int]]], chunk_size: int
) -> None:
    """Counts and final rows equal applying the rows one by one, duplicates and chunking included."""
    workspace_id = new_workspace(store_engine)
    state: dict[str, int] = {}
    for batch in batches:
        expected = UpsertCounts()
        for key, version in batch:
            before = state.get(key)
            expected = expected + UpsertCounts(
                added=int(before is None),
                updated=int(before not in (None, version)),
                unchanged=int(before == version),
            )
            state[key] = version
        rows = [
            AccountCreate(crm_id=key, name=f"{key}-{version}", employees=version) for key, version in batch
        ]
        with session_scope(store_engine) as session:
            got = crm_repo.bulk_upsert_accounts(
                session=session, workspace_id=workspace_id, rows=rows, chunk_size=chunk_size
            )
        assert got == expected
    with session_scope(store_engine) as session:
        stored = crm_repo.list_accounts(session=session, workspace_id=workspace_id)
    assert {a.crm_id: a.employees for a in stored} == state


def test_health_and_accounts_round_trip(store_engine: Engine, ws: int) -> None:
    with session_scope(store_engine) as session:
        run = imports_repo.start_import_run(
            session=session,
            workspace_id=ws,
            data=ImportRunCreate(kind=ImportKind.health, filename="health.csv", checksum="a" * 64),
        )
        crm_repo.bulk_upsert_health(
            session=session,
            workspace_id=ws,
            import_run_id=run.id,
            rows=[CustomerHealthCreate(crm_id="A1", arr=120000.0, churned=False, nps=40, health_score=0.8)],
        )
        crm_repo.bulk_upsert_accounts(
            session=session,
            workspace_id=ws,
            rows=[
                AccountCreate(crm_id="A1", name="Acme", tech_stack=["hubspot"], custom_attributes={"tier": 1})
            ],
        )
    with session_scope(store_engine) as session:
        health = crm_repo.get_health(session=session, workspace_id=ws, crm_id="A1")
        account = crm_repo.get_account(session=session, workspace_id=ws, crm_id="A1")
    assert (
        health is not None and health.nps == 40 and health.churned is False and health.import_run_id == run.id
    )
    assert (
        account is not None and account.tech_stack == ["hubspot"] and account.custom_attributes == {"tier": 1}
    )


# --------------------------------------------------------------------------- imports


def test_import_run_records_outcome_and_recognises_a_repeat(
    store_engine: Engine, ws: int, tmp_path: Path
) -> None:
    export = tmp_path / "deals.csv"
    export.write_text("id,stage\nD1,won\n")
    checksum = imports_repo.file_checksum(export)
    assert len(checksum) == 64
    with session_scope(store_engine) as session:
        run = imports_repo.start_import_run(
            session=session,
            workspace_id=ws,
            data=ImportRunCreate(
                kind=ImportKind.deals, filename=export.name, checksum=checksum, started_by="U1"
            ),
        )
        assert (
            imports_repo.find_import_by_checksum(session=session, workspace_id=ws, checksum=checksum) is None
        )
        counts = crm_repo.bulk_upsert_deals(
            session=session, workspace_id=ws, rows=[deal("D1")], import_run_id=run.id
        )
        imports_repo.finish_import_run(
            session=session,
            workspace_id=ws,
            import_run_id=run.id,
            status=ImportStatus.succeeded,
            rows_total=2,
            rows_rejected=1,
            counts=counts,
            errors=[{"row": 3, "field": "amount", "message": "not a number: 'abc'"}],
        )
        with pytest.raises(InvalidTransitionError, match="already finished"):
            imports_repo.finish_import_run(
                session=session,
                workspace_id=ws,
                import_run_id=run.id,
                status=ImportStatus.failed,
                rows_total=0,
                rows_rejected=0,
            )
    with session_scope(store_engine) as session:
        seen = imports_repo.find_import_by_checksum(
            session=session, workspace_id=ws, checksum=checksum, kind=ImportKind.deals
        )
        assert seen is not None and seen.id == run.id
        assert (seen.rows_accepted, seen.rows_rejected, seen.rows_added) == (1, 1, 1)
        assert seen.errors == [{"row": 3, "field": "amount", "message": "not a number: 'abc'"}]
        assert seen.finished_at is not None and seen.finished_at >= seen.started_at


# --------------------------------------------------------------------------- tenancy


KINDS = ("answer", "deal", "account", "health", "icp", "reminder", "audit", "import")
IDEMPOTENT_KINDS = frozenset({"answer", "deal", "account", "health"})  # keyed by event or CRM id


def _write(session: Session, workspace_id: int, kind: str, key: str) -> None:
    """One write of ``kind`` with a ``key`` that other workspaces reuse on purpose."""
    if kind == "answer":
        person = stakeholders_repo.get_or_create_stakeholder(
            session=session, workspace_id=workspace_id, data=StakeholderCreate(slack_user_id=f"U{key}")
        )
        interview = interviews_repo.get_active_interview(
            session=session, workspace_id=workspace_id, stakeholder_id=person.id
        ) or interviews_repo.create_interview(
            session=session, workspace_id=workspace_id, data=InterviewCreate(stakeholder_id=person.id)
        )
        answers_repo.record_answer(
            session=session,
            workspace_id=workspace_id,
            data=AnswerCreate(interview_id=interview.id, slack_event_id=f"E{key}", text=f"w{workspace_id}"),
        )
    elif kind == "deal":
        crm_repo.bulk_upsert_deals(
            session=session, workspace_id=workspace_id, rows=[deal(key, name=f"w{workspace_id}")]
        )
    elif kind == "account":
        crm_repo.bulk_upsert_accounts(
            session=session,
            workspace_id=workspace_id,
            rows=[AccountCreate(crm_id=key, name=f"w{workspace_id}")],
        )
    elif kind == "health":
        crm_repo.bulk_upsert_health(
            session=session,
            workspace_id=workspace_id,
            rows=[CustomerHealthCreate(crm_id=key, custom_attributes={"w": workspace_id})],
        )
    elif kind == "icp":
        icp_repo.create_icp_draft(
            session=session,
            workspace_id=workspace_id,
            data=IcpVersionCreate(
                segment=key, name=f"w{workspace_id}", icp_json={"w": workspace_id}, author="U"
            ),
        )
    elif kind == "reminder":
        reminders_repo.create_reminder(
            session=session,
            workspace_id=workspace_id,
            data=ReminderCreate(channel_id=f"C{key}", next_run_at=datetime(2020, 1, 1, tzinfo=UTC)),
        )
    elif kind == "audit":
        audit_repo.append_audit(session=session, workspace_id=workspace_id, actor="U", action=f"test.{key}")
    elif kind == "import":
        imports_repo.start_import_run(
            session=session,
            workspace_id=workspace_id,
            data=ImportRunCreate(kind=ImportKind.deals, filename=key, checksum=key * 64),
        )


def _read_all(session: Session, workspace_id: int) -> dict[str, list[Any]]:
    """Every list read the repositories offer, for one workspace."""
    interviews = interviews_repo.list_interviews(session=session, workspace_id=workspace_id)
    versions = icp_repo.list_icp_versions(session=session, workspace_id=workspace_id)
    return {
        "stakeholder": stakeholders_repo.list_stakeholders(session=session, workspace_id=workspace_id),
        "interview": interviews,
        "answer": answers_repo.list_answers(session=session, workspace_id=workspace_id),
        "deal": crm_repo.list_deals(session=session, workspace_id=workspace_id),
        "account": crm_repo.list_accounts(session=session, workspace_id=workspace_id),
        "health": crm_repo.list_health(session=session, workspace_id=workspace_id),
        "icp": versions,
        "reminder": reminders_repo.list_reminders(session=session, workspace_id=workspace_id),
        "due": reminders_repo.list_due_reminders(
            session=session, workspace_id=workspace_id, now=datetime.now(UTC)
        ),
        "audit": audit_repo.list_audit(session=session, workspace_id=workspace_id, limit=1000),
        "import": imports_repo.list_import_runs(session=session, workspace_id=workspace_id, limit=1000),
    }


@settings(DB_SETTINGS, max_examples=30)
@given(
    n_workspaces=st.integers(2, 4),
    writes=st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(KINDS), st.sampled_from("xyz")), max_size=25
    ),
)
def test_workspaces_never_see_each_others_rows(
    store_engine: Engine, n_workspaces: int, writes: list[tuple[int, str, str]]
) -> None:
    workspace_ids = [new_workspace(store_engine) for _ in range(n_workspaces)]
    expected: dict[int, dict[str, Counter[str]]] = {w: {k: Counter() for k in KINDS} for w in workspace_ids}
    with session_scope(store_engine) as session:
        for index, kind, key in writes:
            workspace_id = workspace_ids[index % n_workspaces]
            _write(session, workspace_id, kind, key)
            if kind in IDEMPOTENT_KINDS:
                expected[workspace_id][kind][key] = 1
            else:
                expected[workspace_id][kind][key] += 1
    keys_of: dict[str, Callable[[Any], str]] = {
        "answer": lambda r: r.slack_event_id[1:],
        "deal": lambda r: r.crm_id,
        "account": lambda r: r.crm_id,
        "health": lambda r: r.crm_id,
        "icp": lambda r: r.segment,
        "reminder": lambda r: r.channel_id[1:],
        "audit": lambda r: r.action.removeprefix("test."),
        "import": lambda r: r.filename,
    }
    with session_scope(store_engine) as session:
        for workspace_id in workspace_ids:
            seen = _read_all(session, workspace_id)
            for kind, rows in seen.items():
                leaked = [row for row in rows if row.workspace_id != workspace_id]
                assert not leaked, f"{kind} of another workspace returned: {leaked}"
            seen["audit"] = [row for row in seen["audit"] if row.action.startswith("test.")]
            for kind, key_of in keys_of.items():
                assert Counter(key_of(row) for row in seen[kind]) == expected[workspace_id][kind], kind
            assert Counter(r.channel_id[1:] for r in seen["due"]) == expected[workspace_id]["reminder"]
            assert all(a.text == f"w{workspace_id}" for a in seen["answer"])
            assert all(d.name == f"w{workspace_id}" for d in seen["deal"])
            # point lookups by another workspace's ids find nothing
            for other in workspace_ids:
                if other == workspace_id:
                    continue
                for interview in _read_all(session, other)["interview"]:
                    with pytest.raises(NotFoundError):
                        interviews_repo.get_interview(
                            session=session, workspace_id=workspace_id, interview_id=interview.id
                        )
                for version in _read_all(session, other)["icp"]:
                    with pytest.raises(NotFoundError):
                        icp_repo.get_icp_version(
                            session=session, workspace_id=workspace_id, version_id=version.id
                        )


def test_database_refuses_an_answer_that_points_into_another_workspace(store_engine: Engine) -> None:
    first, second = new_workspace(store_engine), new_workspace(store_engine)
    with session_scope(store_engine) as session:
        foreign = new_interview(session, second)
    with session_scope(store_engine) as session:
        with pytest.raises(NotFoundError, match=f"not found in workspace {first}"):
            answers_repo.record_answer(
                session=session,
                workspace_id=first,
                data=AnswerCreate(interview_id=foreign.id, slack_event_id="E1", text="x"),
            )
        # even bypassing the repository, the composite foreign key refuses it
        session.add(
            Answer(
                workspace_id=first,
                interview_id=foreign.id,
                stakeholder_id=foreign.stakeholder_id,
                slack_event_id="E2",
                text="x",
            )
        )
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


# --------------------------------------------------------------------------- forget


def test_forget_erases_answers_and_audits_without_content(store_engine: Engine) -> None:
    ws, other_ws = new_workspace(store_engine), new_workspace(store_engine)
    secret = f"SECRET-{uuid.uuid4().hex}"
    with session_scope(store_engine) as session:
        for workspace_id in (ws, other_ws):
            for user in ("U_GONE", "U_STAYS"):
                interview = new_interview(session, workspace_id, user)
                question = interviews_repo.record_question(
                    session=session,
                    workspace_id=workspace_id,
                    interview_id=interview.id,
                    data=QuestionCreate(question_key="followup", text=f"You said {secret}?"),
                )
                interviews_repo.advance_interview(
                    session=session, workspace_id=workspace_id, interview_id=interview.id, summary=secret
                )
                for n in range(3):
                    answers_repo.record_answer(
                        session=session,
                        workspace_id=workspace_id,
                        data=AnswerCreate(
                            interview_id=interview.id,
                            question_id=question.id,
                            slack_event_id=f"E-{user}-{n}",
                            text=f"{secret} {n}",
                        ),
                    )
    with session_scope(store_engine) as session:
        counts = privacy_repo.forget_stakeholder(
            session=session, workspace_id=ws, slack_user_id="U_GONE", actor="U_ADMIN"
        )
    assert (counts.answers, counts.questions, counts.interviews) == (3, 1, 1)
    with session_scope(store_engine) as session:
        gone = stakeholders_repo.require_stakeholder(session=session, workspace_id=ws, slack_user_id="U_GONE")
        stays = stakeholders_repo.require_stakeholder(
            session=session, workspace_id=ws, slack_user_id="U_STAYS"
        )
        assert answers_repo.list_answers(session=session, workspace_id=ws, stakeholder_id=gone.id) == []
        assert len(answers_repo.list_answers(session=session, workspace_id=ws, stakeholder_id=stays.id)) == 3
        assert len(answers_repo.list_answers(session=session, workspace_id=other_ws)) == 6, (
            "other workspace kept"
        )
        gone_interview = interviews_repo.list_interviews(
            session=session, workspace_id=ws, stakeholder_id=gone.id
        )[0]
        assert gone_interview.summary is None
        assert (
            interviews_repo.list_questions(session=session, workspace_id=ws, interview_id=gone_interview.id)
            == []
        )
        entries = audit_repo.list_audit(session=session, workspace_id=ws, action="stakeholder.forget")
        assert len(entries) == 1
        entry = entries[0]
        assert (entry.actor, entry.target_id) == ("U_ADMIN", "U_GONE")
        assert entry.details == {"answers": 3, "questions": 1, "interviews": 1}
        every_audit_row = session.exec(select(AuditEntry).where(AuditEntry.workspace_id == ws)).all()
        assert secret not in json.dumps([row.model_dump(mode="json") for row in every_audit_row])
        with pytest.raises(NotFoundError, match="U_NOBODY"):
            privacy_repo.forget_stakeholder(
                session=session, workspace_id=ws, slack_user_id="U_NOBODY", actor="U"
            )


# --------------------------------------------------------------------------- ICP versions


def _draft(session: Session, ws: int, segment: str = "default", name: str = "v") -> IcpVersion:
    return icp_repo.create_icp_draft(
        session=session,
        workspace_id=ws,
        data=IcpVersionCreate(
            segment=segment, name=name, icp_json={"name": name, "criteria": []}, author="U_OWNER"
        ),
    )


def test_icp_approval_supersedes_the_previous_approved_version(store_engine: Engine, ws: int) -> None:
    with session_scope(store_engine) as session:
        first = _draft(session, ws, name="first")
        icp_repo.set_icp_status(
            session=session, workspace_id=ws, version_id=first.id, status=IcpStatus.approved, actor="U_BOSS"
        )
        second = _draft(session, ws, name="second")
        other_segment = _draft(session, ws, segment="enterprise", name="ent")
        icp_repo.set_icp_status(
            session=session,
            workspace_id=ws,
            version_id=other_segment.id,
            status=IcpStatus.approved,
            actor="U_BOSS",
        )
        assert (first.version, second.version, other_segment.version) == (1, 2, 1)
        icp_repo.set_icp_status(
            session=session,
            workspace_id=ws,
            version_id=second.id,
            status=IcpStatus.in_review,
            actor="U_OWNER",
        )
        assert icp_repo.update_icp_version(
            session=session, workspace_id=ws, version_id=second.id, backtest={"auc": 0.71}
        ).backtest == {"auc": 0.71}
        icp_repo.set_icp_status(
            session=session, workspace_id=ws, version_id=second.id, status=IcpStatus.approved, actor="U_BOSS"
        )
    with session_scope(store_engine) as session:
        first = icp_repo.get_icp_version(session=session, workspace_id=ws, version_id=first.id)
        second = icp_repo.get_icp_version(session=session, workspace_id=ws, version_id=second.id)
        active = icp_repo.get_active_icp(session=session, workspace_id=ws)
        assert first.status == IcpStatus.superseded and first.superseded_at is not None
        assert second.status == IcpStatus.approved and second.approver == "U_BOSS"
        assert second.submitted_at is not None and second.approved_at is not None
        assert active is not None and active.id == second.id
        ent = icp_repo.get_active_icp(session=session, workspace_id=ws, segment="enterprise")
        assert ent is not None and ent.id == other_segment.id, "other segments are untouched"
        latest = icp_repo.get_latest_icp(session=session, workspace_id=ws)
        assert latest is not None and latest.id == second.id
        actions = [e.action for e in audit_repo.list_audit(session=session, workspace_id=ws)]
        assert actions.count("icp.superseded") == 1 and actions.count("icp.approved") == 3


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([IcpStatus.approved, IcpStatus.superseded], IcpStatus.approved),
        ([IcpStatus.approved], IcpStatus.draft),
        ([IcpStatus.approved], IcpStatus.in_review),
        ([], IcpStatus.superseded),
    ],
)
def test_icp_invalid_transitions_are_refused(
    store_engine: Engine, ws: int, path: list[IcpStatus], refused: IcpStatus
) -> None:
    with session_scope(store_engine) as session:
        version = _draft(session, ws)
        for status in path:
            icp_repo.set_icp_status(
                session=session, workspace_id=ws, version_id=version.id, status=status, actor="U"
            )
        with pytest.raises(InvalidTransitionError, match=f"to {refused.value}"):
            icp_repo.set_icp_status(
                session=session, workspace_id=ws, version_id=version.id, status=refused, actor="U"
            )


def test_approved_icp_and_its_personas_are_frozen(store_engine: Engine, ws: int) -> None:
    with session_scope(store_engine) as session:
        version = _draft(session, ws)
        personas = [
            PersonaCreate(name="VP Sales", position=1, persona_json={"role": "VP Sales"}),
            PersonaCreate(name="RevOps lead", position=0, persona_json={"role": "RevOps"}),
        ]
        icp_repo.replace_personas(
            session=session, workspace_id=ws, icp_version_id=version.id, personas=personas
        )
        listed = icp_repo.list_personas(session=session, workspace_id=ws, icp_version_id=version.id)
        assert [p.name for p in listed] == ["RevOps lead", "VP Sales"]
        icp_repo.set_icp_status(
            session=session, workspace_id=ws, version_id=version.id, status=IcpStatus.approved, actor="U"
        )
        with pytest.raises(InvalidTransitionError, match="create a new draft"):
            icp_repo.update_icp_version(
                session=session, workspace_id=ws, version_id=version.id, name="edited"
            )
        with pytest.raises(InvalidTransitionError, match="personas are frozen"):
            icp_repo.replace_personas(
                session=session, workspace_id=ws, icp_version_id=version.id, personas=[]
            )


def test_database_allows_one_approved_version_per_segment(store_engine: Engine, ws: int) -> None:
    with session_scope(store_engine) as session:
        for name in ("a", "b"):
            version = _draft(session, ws, name=name)
            version.status = IcpStatus.approved
            session.add(version)
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


# --------------------------------------------------------------------------- units of work, time


def test_rollback_on_error_leaves_nothing(store_engine: Engine) -> None:
    team = f"T{uuid.uuid4().hex[:10]}"

    def rows_then_failure() -> Iterator[DealCreate]:
        for i in range(25):
            yield deal(f"D{i}")
        raise ValueError("row 26: amount: not a number")

    with pytest.raises(ValueError, match="row 26"), session_scope(store_engine) as session:
        workspace = workspaces_repo.get_or_create_workspace(session=session, slack_team_id=team)
        crm_repo.bulk_upsert_deals(
            session=session, workspace_id=workspace.id, rows=rows_then_failure(), chunk_size=10
        )
    with session_scope(store_engine) as session:
        assert workspaces_repo.get_workspace(session=session, slack_team_id=team) is None
        leftover = session.exec(select(Deal).join(Workspace).where(Workspace.slack_team_id == team)).all()
        assert leftover == []


def test_timestamps_are_utc_aware_and_naive_ones_are_refused(store_engine: Engine, ws: int) -> None:
    local = datetime(2030, 1, 1, 17, 0, tzinfo=timezone(timedelta(hours=5)))
    with session_scope(store_engine) as session:
        reminder = reminders_repo.create_reminder(
            session=session, workspace_id=ws, data=ReminderCreate(channel_id="C1", next_run_at=local)
        )
    with session_scope(store_engine) as session:
        stored = reminders_repo.get_reminder(session=session, workspace_id=ws, reminder_id=reminder.id)
        assert stored.next_run_at == datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
        assert stored.next_run_at.utcoffset() == timedelta(0)
        assert (
            reminders_repo.list_due_reminders(
                session=session, workspace_id=ws, now=datetime(2029, 12, 31, tzinfo=UTC)
            )
            == []
        )
        ran = reminders_repo.mark_reminder_run(
            session=session,
            workspace_id=ws,
            reminder_id=reminder.id,
            ran_at=datetime(2030, 1, 1, 12, 1, tzinfo=UTC),
            next_run_at=datetime(2030, 4, 1, tzinfo=UTC),
        )
        assert ran.last_run_at is not None and ran.claimed_by is None
    with pytest.raises(ValidationError, match="timezone"):
        ReminderCreate(channel_id="C1", next_run_at=datetime(2030, 1, 1))
    with pytest.raises(StatementError) as caught, session_scope(store_engine) as session:
        session.exec(select(AuditEntry).where(AuditEntry.at < datetime(2030, 1, 1))).all()
    assert isinstance(caught.value.orig, NaiveDatetimeError)
    assert "naive datetime 2030-01-01T00:00:00 cannot be stored" in str(caught.value)
