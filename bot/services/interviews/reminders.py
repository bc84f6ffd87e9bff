"""Which unfinished interviews are due a gentle reminder, and the claim that lets one replica send it.

An interview quiet for longer than the delay gets one reminder per delay window and at most a
few in all. Each reminder is claimed in SQL before it is sent (an audit entry that carries the
sender's clock), so replicas running the same job never send it twice. Sending the DM is the
Slack side's job (``bot.slack.messaging.interview_reminders``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.interviews import conversation as interviews
from bot.store.db import Engine, Session, session_scope
from bot.store.models import ACTIVE_INTERVIEW_STATES, Interview, InterviewState, Stakeholder, Workspace
from bot.store.repo import audit as audit_repo
from bot.store.repo import interviews as interviews_repo
from bot.store.repo import stakeholders as stakeholders_repo
from bot.store.repo import uninstalls as uninstalls_repo
from bot.store.repo import workspaces as workspaces_repo
from bot.store.repo.errors import NotFoundError

#: Reminders per interview at most: gentle means it stops asking.
MAX_REMINDERS = 3
REMINDER_ACTION = "interview.reminder"


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


def _reminders_sent(session: Session, workspace_id: int, interview_id: int) -> list[datetime]:
    """When reminders for this interview were sent (the clock of the sender, from the audit log)."""
    entries = audit_repo.list_audit_of_targets(
        session,
        workspace_id=workspace_id,
        target_type="interview",
        actions=(REMINDER_ACTION,),
        target_ids=(str(interview_id),),
        newest_first=False,
    )
    sent: list[datetime] = []
    for entry in entries:
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
        gone = uninstalls_repo.uninstalled_workspace_ids(session=session)  # no nudges there
        for ws in workspaces_repo.list_workspaces(session=session):
            assert ws.id is not None
            if ws.id in gone:
                continue
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
