"""Everything the App Home shows, read from SQL in one unit of work.

The home tab is rebuilt each time someone opens it, so this reads only aggregates and a handful of
rows (counts grouped in the database, the latest import per kind, the current ICP versions and
their personas), however many accounts or interviews the workspace has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.services.crm_sync.connect import ConnectionStatus, stored_status
from bot.services.icp.export.document import ExportDocument, document_in
from bot.store.db import Engine, Session, read_scope
from bot.store.models import IcpStatus, IcpVersion, ImportKind, InterviewState
from bot.store.repo.crm import count_crm_rows
from bot.store.repo.icp import get_active_icp, get_latest_icp, list_personas
from bot.store.repo.imports import latest_import_run
from bot.store.repo.interviews import count_interviews_by_state
from bot.store.repo.reminders import last_reviewed_at, next_enabled_reminder
from bot.store.repo.stakeholders import count_stakeholders
from bot.store.repo.workspaces import get_workspace
from icp_engine.model import ICP, ICPError

MAX_PERSONAS = 20


@dataclass(frozen=True)
class IcpSummary:
    """One stored ICP version; ``icp`` is None (and ``problem`` says why) if it no longer validates."""

    version_id: int
    version: int
    status: IcpStatus
    name: str
    icp: ICP | None
    problem: str | None
    updated_at: datetime
    approved_at: datetime | None = None
    approver: str | None = None


@dataclass(frozen=True)
class PersonaSummary:
    name: str
    role: str | None = None
    seniority: str | None = None
    buying_role: str | None = None  # drafted personas: economic buyer, champion, user…
    goal: str | None = None  # the first of their goals


@dataclass(frozen=True)
class ImportSummary:
    kind: ImportKind
    filename: str
    status: str
    at: datetime  # finished, or started when still running
    rows_accepted: int
    rows_rejected: int
    rows_added: int
    rows_updated: int


@dataclass(frozen=True)
class ReminderSummary:
    next_run_at: datetime
    cadence: str
    channel_id: str


@dataclass(frozen=True)
class HomeData:
    """What the home tab shows; ``approved`` is what everyone may read, ``latest`` what owners
    work on (the same version when the newest one is approved)."""

    now: datetime
    approved: IcpSummary | None = None
    latest: IcpSummary | None = None
    personas: dict[int, tuple[PersonaSummary, ...]] = field(default_factory=dict)  # by version id
    interviews: dict[InterviewState, int] = field(default_factory=dict)
    stakeholders: int = 0
    crm_counts: dict[str, int] = field(default_factory=dict)
    imports: tuple[ImportSummary, ...] = ()  # the latest run of each kind
    last_review: datetime | None = None
    next_reminder: ReminderSummary | None = None
    # The one-page ICP of each version shown (by version id), as `/icp show` and the export have it.
    documents: dict[int, ExportDocument] = field(default_factory=dict)
    crm: ConnectionStatus | None = None  # the live CRM sync's connection, when one is connected


def _icp_summary(row: IcpVersion) -> IcpSummary:
    assert row.id is not None
    try:
        icp: ICP | None = ICP.from_dict(row.icp_json, source=f"ICP v{row.version}")
        problem = None
    except ICPError as exc:
        icp, problem = None, str(exc).splitlines()[0]
    return IcpSummary(
        version_id=row.id,
        version=row.version,
        status=row.status,
        name=row.name,
        icp=icp,
        problem=problem,
        updated_at=row.updated_at,
        approved_at=row.approved_at,
        approver=row.approver,
    )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = " ".join(str(value).split())
    return text or None


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _personas(session: Session, workspace_id: int, version_id: int) -> tuple[PersonaSummary, ...]:
    rows = list_personas(session=session, workspace_id=workspace_id, icp_version_id=version_id)
    out = []
    for row in rows[:MAX_PERSONAS]:
        data = row.persona_json if isinstance(row.persona_json, dict) else {}
        out.append(
            PersonaSummary(
                name=row.name,
                role=_text(data.get("role") or data.get("title")),
                seniority=_text(data.get("seniority")),
                buying_role=_text(data.get("buying_role")),
                goal=_text(_first(data.get("goals"))),
            )
        )
    return tuple(out)


def _latest_imports(session: Session, workspace_id: int) -> tuple[ImportSummary, ...]:
    out = []
    for kind in ImportKind:
        run = latest_import_run(session, workspace_id=workspace_id, kind=kind)
        if run is not None:
            out.append(
                ImportSummary(
                    kind=run.kind,
                    filename=run.filename,
                    status=run.status.value,
                    at=run.finished_at or run.started_at,
                    rows_accepted=run.rows_accepted,
                    rows_rejected=run.rows_rejected,
                    rows_added=run.rows_added,
                    rows_updated=run.rows_updated,
                )
            )
    return tuple(out)


def _reminders(session: Session, workspace_id: int) -> tuple[datetime | None, ReminderSummary | None]:
    # The last review is when an owner marked one done, not when a reminder was merely sent.
    last = last_reviewed_at(session, workspace_id=workspace_id)
    upcoming = next_enabled_reminder(session, workspace_id=workspace_id)
    summary = (
        None
        if upcoming is None
        else ReminderSummary(upcoming.next_run_at, upcoming.cadence.value, upcoming.channel_id)
    )
    return last, summary


def load_home_data(engine: Engine, *, team_id: str, now: datetime) -> HomeData:
    """The home tab's data for a Slack team; an unknown team gets an empty (but valid) home.

    Only reads, so no SQLite write lock: a home tab opened during a long write (an import) is
    published at once instead of holding one of Bolt's threads until the write ends.
    """
    with read_scope(engine) as session:
        workspace = get_workspace(session=session, slack_team_id=team_id)
        if workspace is None or workspace.id is None:
            return HomeData(now=now)
        wid = workspace.id
        approved_row = get_active_icp(session=session, workspace_id=wid)
        latest_row = get_latest_icp(session=session, workspace_id=wid)
        approved = _icp_summary(approved_row) if approved_row is not None else None
        latest = _icp_summary(latest_row) if latest_row is not None else None
        personas = {
            summary.version_id: _personas(session, wid, summary.version_id)
            for summary in (approved, latest)
            if summary is not None
        }
        documents = {
            row.id: doc
            for row in {r.id: r for r in (approved_row, latest_row) if r is not None}.values()
            if row.id is not None
            and (doc := _document(session, row, workspace_id=wid, team_id=team_id, now=now)) is not None
        }
        stakeholders = count_stakeholders(session, workspace_id=wid)
        last_review, next_reminder = _reminders(session, wid)
        return HomeData(
            now=now,
            approved=approved,
            latest=latest,
            personas=personas,
            interviews=count_interviews_by_state(session, workspace_id=wid),
            stakeholders=stakeholders,
            crm_counts=count_crm_rows(session=session, workspace_id=wid),
            imports=_latest_imports(session, wid),
            last_review=last_review,
            next_reminder=next_reminder,
            documents=documents,
            crm=stored_status(session=session, workspace_id=wid),
        )


def _document(
    session: Session, row: IcpVersion, *, workspace_id: int, team_id: str, now: datetime
) -> ExportDocument | None:
    """The version's one-page document; None when its ICP no longer validates (the summary says why)."""
    try:
        return document_in(session, row, workspace_id=workspace_id, team_id=team_id, generated_at=now)
    except ICPError:
        return None
