"""What the App Home reads from SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from bot.services.home import load_home_data
from bot.store.db import session_scope
from bot.store.models import (
    AccountCreate,
    DealCreate,
    DealStage,
    IcpStatus,
    IcpVersionCreate,
    ImportKind,
    ImportRunCreate,
    ImportStatus,
    InterviewCreate,
    InterviewState,
    PersonaCreate,
    ReminderCreate,
    ReminderUpdate,
    StakeholderCreate,
)
from bot.store.repo.crm import bulk_upsert_accounts, bulk_upsert_deals
from bot.store.repo.icp import create_icp_draft, replace_personas, set_icp_status
from bot.store.repo.imports import finish_import_run, start_import_run
from bot.store.repo.interviews import advance_interview, create_interview
from bot.store.repo.reminders import create_reminder, mark_reminder_run, update_reminder
from bot.store.repo.stakeholders import get_or_create_stakeholder
from bot.store.repo.workspaces import get_or_create_workspace, get_workspace

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ICP_DOC = {
    "name": "Approved ICP",
    "criteria": [{"attribute": "industry", "op": "eq", "values": ["software"], "points": 10}],
}


def test_home_data_gathers_every_section(store_engine: Engine) -> None:
    team = f"T{uuid.uuid4().hex[:10]}"
    with session_scope(store_engine) as session:
        wid = get_or_create_workspace(session=session, slack_team_id=team).id
        assert wid is not None
        approved = create_icp_draft(
            session=session, workspace_id=wid, data=IcpVersionCreate(name="v1", icp_json=ICP_DOC, author="U1")
        )
        replace_personas(
            session=session,
            workspace_id=wid,
            icp_version_id=approved.id,
            personas=[PersonaCreate(name="Ops Olivia", persona_json={"role": "VP Ops", "seniority": "exec"})],
        )  # type: ignore[arg-type]
        set_icp_status(
            session=session,
            workspace_id=wid,
            version_id=approved.id,
            status=IcpStatus.approved,
            actor="UOWNER",
        )  # type: ignore[arg-type]
        draft = create_icp_draft(
            session=session,
            workspace_id=wid,
            data=IcpVersionCreate(name="v2", icp_json={"name": "Broken", "tiers": {}}, author="U1"),
        )
        for i, state in enumerate(
            [InterviewState.completed, InterviewState.completed, InterviewState.paused, None]
        ):
            person = get_or_create_stakeholder(
                session=session, workspace_id=wid, data=StakeholderCreate(slack_user_id=f"U{i}")
            )
            interview = create_interview(
                session=session, workspace_id=wid, data=InterviewCreate(stakeholder_id=person.id)
            )  # type: ignore[arg-type]
            if state is not None:
                advance_interview(
                    session=session,
                    workspace_id=wid,
                    interview_id=interview.id,
                    state=InterviewState.in_progress,
                )  # type: ignore[arg-type]
                advance_interview(session=session, workspace_id=wid, interview_id=interview.id, state=state)  # type: ignore[arg-type]
        get_or_create_stakeholder(
            session=session, workspace_id=wid, data=StakeholderCreate(slack_user_id="U9")
        )
        for n, status in ((1, ImportStatus.succeeded), (2, ImportStatus.failed)):
            run = start_import_run(
                session=session,
                workspace_id=wid,
                data=ImportRunCreate(
                    kind=ImportKind.accounts, filename=f"accounts-{n}.csv", checksum=f"{n}" * 64
                ),
            )
            finish_import_run(
                session=session,
                workspace_id=wid,
                import_run_id=run.id,
                status=status,
                rows_total=5,
                rows_rejected=1,
            )  # type: ignore[arg-type]
        bulk_upsert_accounts(
            session=session,
            workspace_id=wid,
            rows=[AccountCreate(crm_id=f"A{i}", name=f"Co {i}") for i in range(7)],
        )
        bulk_upsert_deals(
            session=session, workspace_id=wid, rows=[DealCreate(crm_id="D1", stage=DealStage.won)]
        )
        early = create_reminder(
            session=session,
            workspace_id=wid,
            data=ReminderCreate(channel_id="C1", next_run_at=NOW + timedelta(days=5)),
        )
        create_reminder(
            session=session,
            workspace_id=wid,
            data=ReminderCreate(channel_id="C2", next_run_at=NOW + timedelta(days=50)),
        )
        mark_reminder_run(
            session=session,
            workspace_id=wid,
            reminder_id=early.id,
            ran_at=NOW - timedelta(days=3),
            next_run_at=NOW + timedelta(days=4),
        )  # type: ignore[arg-type]
        update_reminder(
            session=session,
            workspace_id=wid,
            reminder_id=early.id,
            data=ReminderUpdate(last_reviewed_at=NOW - timedelta(days=3)),
        )  # type: ignore[arg-type]

    data = load_home_data(store_engine, team_id=team, now=NOW)
    assert data.approved is not None and data.approved.version == 1 and data.approved.icp is not None
    assert data.approved.status == IcpStatus.approved and data.approved.approver == "UOWNER"
    assert data.latest is not None and data.latest.version_id == draft.id
    assert data.latest.icp is None and data.latest.problem is not None and "tier" in data.latest.problem
    assert [p.name for p in data.personas[data.approved.version_id]] == ["Ops Olivia"]
    assert data.personas[data.approved.version_id][0].role == "VP Ops"
    assert data.personas[data.latest.version_id] == ()
    assert data.interviews == {
        InterviewState.completed: 2,
        InterviewState.paused: 1,
        InterviewState.pending: 1,
    }
    assert data.stakeholders == 5
    assert data.crm_counts == {"accounts": 7, "deals": 1, "health": 0}
    assert [(i.kind, i.filename, i.status) for i in data.imports] == [
        (ImportKind.accounts, "accounts-2.csv", "failed")
    ]
    assert data.last_review == NOW - timedelta(days=3)
    assert data.next_reminder is not None and data.next_reminder.channel_id == "C1"
    assert data.next_reminder.next_run_at == NOW + timedelta(days=4)


def test_an_unknown_team_gets_empty_home_data_and_nothing_is_created(store_engine: Engine) -> None:
    team = f"T{uuid.uuid4().hex[:10]}"
    data = load_home_data(store_engine, team_id=team, now=NOW)
    assert (data.approved, data.latest, data.imports, data.crm_counts) == (None, None, (), {})
    with session_scope(store_engine) as session:
        assert get_workspace(session=session, slack_team_id=team) is None
