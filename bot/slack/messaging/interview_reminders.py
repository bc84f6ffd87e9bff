"""Gentle reminder DMs for unfinished interviews, for the scheduler to call now and then.

An interview quiet for longer than the delay (``interview_reminder_hours``, 48 h by default) gets
one reminder per delay window and at most a few in all. Each reminder is claimed in SQL before
it is sent (an audit entry that carries the sender's clock), so replicas running the same job
never send it twice; a DM that fails after the claim waits for the next window (a missed nudge
beats a duplicate one).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.services.interviews import conversation as interviews
from bot.slack.messaging.interviews import open_dm, post_message
from bot.slack.views.interview import reminder_message
from bot.store import session_scope
from bot.store.models import (
    ACTIVE_INTERVIEW_STATES,
    AuditEntry,
    Interview,
    InterviewState,
    Stakeholder,
    Workspace,
)
from bot.store.repo import audit as audit_repo
from bot.store.repo import interviews as interviews_repo
from bot.store.repo import stakeholders as stakeholders_repo
from bot.store.repo import workspaces as workspaces_repo
from bot.store.repo.errors import NotFoundError

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.context import AppContext
    from bot.settings import Settings

log = logging.getLogger(__name__)

#: Reminders per interview at most: gentle means it stops asking.
MAX_REMINDERS = 3
REMINDER_ACTION = "interview.reminder"

ClientFor = Callable[[str], "WebClient | None"]


@dataclass(frozen=True, slots=True)
class ReminderDue:
    """An unfinished interview that has been quiet for longer than the reminder delay."""

    team_id: str
    interview_id: int
    user_id: str
    dm_channel_id: str | None
    started: bool
    number: int
    total: int


def reminder_delay(settings: Settings) -> timedelta:
    """The configured reminder delay (``INTERVIEW_REMINDER_HOURS``, 48 hours by default)."""
    return timedelta(hours=settings.interview_reminder_hours)


def _reminders_sent(session: Session, workspace_id: int, interview_id: int) -> list[datetime]:
    """When reminders for this interview were sent (the clock of the sender, from the audit log)."""
    query = select(AuditEntry).where(
        AuditEntry.workspace_id == workspace_id,
        AuditEntry.action == REMINDER_ACTION,
        AuditEntry.target_type == "interview",
        AuditEntry.target_id == str(interview_id),
    )
    sent: list[datetime] = []
    for entry in session.exec(query.order_by(col(AuditEntry.id))):
        try:
            sent.append(datetime.fromisoformat(str(entry.details["at"])))
        except (KeyError, ValueError):
            sent.append(entry.at)
    return sent


def _is_due(
    session: Session, workspace_id: int, interview: Interview, now: datetime, delay: timedelta, limit: int
) -> bool:
    """Unfinished, quiet for ``delay``, not reminded within ``delay``, and reminded < ``limit`` times."""
    if interview.state not in ACTIVE_INTERVIEW_STATES or now - interview.updated_at < delay:
        return False
    assert interview.id is not None
    sent = _reminders_sent(session, workspace_id, interview.id)
    return len(sent) < limit and (not sent or now - max(sent) >= delay)


def _due_entry(session: Session, ws: Workspace, interview: Interview, person: Stakeholder) -> ReminderDue:
    assert ws.id is not None and interview.id is not None
    qset = interviews.questions_for(interview, person)
    index, _ = interviews.position_of(session, ws.id, interview, qset)
    return ReminderDue(
        team_id=ws.slack_team_id,
        interview_id=interview.id,
        user_id=person.slack_user_id,
        dm_channel_id=interview.dm_channel_id,
        started=interview.state != InterviewState.pending,
        number=index + 1,
        total=len(qset),
    )


def due_reminders(
    *, engine: Engine, now: datetime, delay: timedelta, max_reminders: int = MAX_REMINDERS
) -> list[ReminderDue]:
    """Unfinished interviews, in every workspace, quiet for ``delay`` and not reminded within it."""
    due: list[ReminderDue] = []
    with session_scope(engine) as session:
        for ws in workspaces_repo.list_workspaces(session=session):
            assert ws.id is not None
            for state in ACTIVE_INTERVIEW_STATES:
                for interview in interviews_repo.list_interviews(
                    session=session, workspace_id=ws.id, state=state
                ):
                    if _is_due(session, ws.id, interview, now, delay, max_reminders):
                        person = stakeholders_repo.get_stakeholder_by_id(
                            session=session, workspace_id=ws.id, stakeholder_id=interview.stakeholder_id
                        )
                        due.append(_due_entry(session, ws, interview, person))
    return sorted(due, key=lambda d: (d.team_id, d.interview_id))


def claim_reminder(
    *,
    engine: Engine,
    team_id: str,
    interview_id: int,
    now: datetime,
    delay: timedelta,
    max_reminders: int = MAX_REMINDERS,
) -> ReminderDue | None:
    """Take the right to send this reminder, once across replicas; None if it is not due any more."""
    with session_scope(engine) as session:
        ws = interviews.workspace_of(session, team_id)
        if ws is None or ws.id is None:
            return None
        interview = interviews.lock_interview(session, ws.id, interview_id)
        if interview is None or not _is_due(session, ws.id, interview, now, delay, max_reminders):
            return None
        try:
            person = stakeholders_repo.get_stakeholder_by_id(
                session=session, workspace_id=ws.id, stakeholder_id=interview.stakeholder_id
            )
        except NotFoundError:
            return None
        entry = _due_entry(session, ws, interview, person)
        audit_repo.append_audit(
            session=session,
            workspace_id=ws.id,
            actor="system",
            action=REMINDER_ACTION,
            target_type="interview",
            target_id=interview_id,
            details={"at": now.isoformat(), "stakeholder": person.slack_user_id},
        )
        return entry


# -- sending -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReminderRun:
    """What one pass did: reminders sent, skipped (claimed elsewhere or no longer due), failed."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0


def send_due_reminders(
    *,
    ctx: AppContext,
    client: WebClient | ClientFor,
    now: datetime | None = None,
    delay: timedelta | None = None,
    max_reminders: int = MAX_REMINDERS,
) -> ReminderRun:
    """Send every reminder that is due now; ``client`` may map a team id to its WebClient."""
    now = now or ctx.clock()
    delay = delay if delay is not None else reminder_delay(ctx.settings)
    sent = skipped = failed = 0
    for due in due_reminders(engine=ctx.engine, now=now, delay=delay, max_reminders=max_reminders):
        web = client(due.team_id) if callable(client) else client
        if web is None:
            skipped += 1
            continue
        claimed = claim_reminder(
            engine=ctx.engine,
            team_id=due.team_id,
            interview_id=due.interview_id,
            now=now,
            delay=delay,
            max_reminders=max_reminders,
        )
        if claimed is None:
            skipped += 1
            continue
        message = reminder_message(
            interview_id=claimed.interview_id,
            started=claimed.started,
            number=claimed.number,
            total=claimed.total,
        )
        try:
            channel = claimed.dm_channel_id or open_dm(web, claimed.user_id)
            post_message(web, channel=channel, message=message)
        except (SlackApiError, SlackRequestError, OSError, ValueError) as exc:
            failed += 1
            log.warning(
                "reminder for interview %s (team %s) failed: %s", claimed.interview_id, due.team_id, exc
            )
            continue
        sent += 1
    return ReminderRun(sent=sent, skipped=skipped, failed=failed)
