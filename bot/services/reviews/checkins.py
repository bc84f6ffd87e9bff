"""Review check-ins: who gets the two questions, recording each DM sent, and collecting the reply.

Every stakeholder who completed an interview is asked once per review round (a round ends when an
owner closes the review): a second "Start a review" leaves alone whoever was already asked. The
person answers with a plain DM to the bot; that reply closes their newest open check-in, at most
once per Slack event id. Answers are for owners only (the decision modal); the kit counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.store.db import Engine, Session, read_scope, session_scope
from bot.store.models import GtmRole, InterviewState, Stakeholder
from bot.store.repo import checkins as checkins_repo
from bot.store.repo.errors import NotFoundError
from bot.store.repo.interviews import list_interviews
from bot.store.repo.reminders import get_reminder, get_segment_reminder
from bot.store.repo.stakeholders import list_stakeholders
from bot.store.repo.workspaces import get_workspace


class ReplyAction(StrEnum):
    answered = "answered"  # stored now: thank the person
    duplicate = "duplicate"  # this event was stored before (a redelivery): say nothing again
    none = "none"  # no open check-in any more (e.g. the review was closed meanwhile)


@dataclass(frozen=True, slots=True)
class CheckinReply:
    """What one DM did to the person's check-in, and who asked (for the thanks)."""

    action: ReplyAction
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class CheckinRound:
    """How many people the current round asked, and how many answered."""

    asked: int = 0
    answered: int = 0


@dataclass(frozen=True, slots=True)
class CheckinAnswer:
    """One person's check-in as the owner sees it: who (name or role) and what they said."""

    slack_user_id: str
    who: str
    answer: str | None
    answered_at: datetime | None


def _workspace_id(session: Session, team_id: str) -> int | None:
    workspace = get_workspace(session=session, slack_team_id=team_id)
    return workspace.id if workspace is not None else None


def interviewed_stakeholders(engine: Engine, *, team_id: str) -> list[str]:
    """Slack user ids of the stakeholders with a completed interview, in the order they were added."""
    with read_scope(engine) as session:
        workspace_id = _workspace_id(session, team_id)
        if workspace_id is None:
            return []
        done = {
            i.stakeholder_id
            for i in list_interviews(
                session=session, workspace_id=workspace_id, state=InterviewState.completed
            )
        }
        people = list_stakeholders(session=session, workspace_id=workspace_id)
        return [p.slack_user_id for p in people if p.id in done]


def people_to_ask(engine: Engine, *, team_id: str, reminder_id: int) -> list[str]:
    """The interviewed stakeholders this round has not asked yet ([] for an unknown reminder)."""
    everyone = interviewed_stakeholders(engine, team_id=team_id)
    with read_scope(engine) as session:
        workspace_id = _workspace_id(session, team_id)
        if workspace_id is None:
            return []
        try:
            get_reminder(session=session, workspace_id=workspace_id, reminder_id=reminder_id)
        except NotFoundError:
            return []
        asked = {
            c.slack_user_id
            for c in checkins_repo.round_checkins(
                session=session, workspace_id=workspace_id, reminder_id=reminder_id
            )
        }
    return [person for person in everyone if person not in asked]


def record_sent(
    engine: Engine, *, team_id: str, reminder_id: int, slack_user_id: str, asked_by: str, now: datetime
) -> int:
    """Record the check-in about to be DMed to ``slack_user_id`` (open until they reply); its id.

    Recorded before the DM goes out, so whoever looks the moment it arrives (the person's reply, a
    second click) finds it; ``withdraw`` takes it back when the DM could not be sent."""
    with session_scope(engine) as session:
        workspace_id = _workspace_id(session, team_id)
        if workspace_id is None:
            raise NotFoundError(f"workspace {team_id!r} not found")
        row = checkins_repo.record_checkin(
            session=session,
            workspace_id=workspace_id,
            reminder_id=reminder_id,
            slack_user_id=slack_user_id,
            asked_by=asked_by,
            sent_at=now,
        )
        assert row.id is not None
        return row.id


def withdraw(engine: Engine, *, team_id: str, checkin_id: int) -> None:
    """The check-in DM could not be sent: no open check-in is left behind."""
    with session_scope(engine) as session:
        workspace_id = _workspace_id(session, team_id)
        if workspace_id is not None:
            checkins_repo.delete_checkin(session=session, workspace_id=workspace_id, checkin_id=checkin_id)


def awaits_reply(engine: Engine, *, team_id: str, user_id: str, event_id: str) -> bool:
    """Whether this DM is the person's check-in reply: they have an open check-in, or this very
    event already answered one (a redelivery, which must not fall through to chat)."""
    with read_scope(engine) as session:
        workspace_id = _workspace_id(session, team_id)
        if workspace_id is None:
            return False
        if checkins_repo.open_checkin(session=session, workspace_id=workspace_id, slack_user_id=user_id):
            return True
        done = checkins_repo.checkin_by_event(
            session=session, workspace_id=workspace_id, slack_event_id=event_id
        )
        return done is not None and done.slack_user_id == user_id


def record_reply(
    engine: Engine, *, team_id: str, user_id: str, text: str, event_id: str, now: datetime
) -> CheckinReply:
    """Store the DM as the answer to the person's newest open check-in, once per event id."""
    with session_scope(engine) as session:
        workspace_id = _workspace_id(session, team_id)
        if workspace_id is None:
            return CheckinReply(ReplyAction.none)
        seen = checkins_repo.checkin_by_event(
            session=session, workspace_id=workspace_id, slack_event_id=event_id
        )
        if seen is not None:
            return CheckinReply(ReplyAction.duplicate, seen.asked_by)
        row = checkins_repo.open_checkin(session=session, workspace_id=workspace_id, slack_user_id=user_id)
        if row is None or row.id is None:
            return CheckinReply(ReplyAction.none)
        stored = checkins_repo.answer_checkin(
            session=session,
            workspace_id=workspace_id,
            checkin_id=row.id,
            answer=text.strip(),
            slack_event_id=event_id,
            answered_at=now,
        )
        # Not stored: a concurrent delivery of the same reply answered it first.
        return CheckinReply(ReplyAction.answered if stored else ReplyAction.duplicate, row.asked_by)


def round_figures(session: Session, *, workspace_id: int, segment: str) -> CheckinRound:
    """Asked and answered in the current round of the segment's reminder (none without one)."""
    reminder = get_segment_reminder(session=session, workspace_id=workspace_id, segment=segment)
    if reminder is None or reminder.id is None:
        return CheckinRound()
    rows = checkins_repo.round_checkins(session=session, workspace_id=workspace_id, reminder_id=reminder.id)
    return CheckinRound(asked=len(rows), answered=sum(1 for r in rows if r.answered_at is not None))


ROLE_WORDS = {
    GtmRole.sales: "Sales",
    GtmRole.marketing: "Marketing",
    GtmRole.customer_success: "Customer success",
    GtmRole.product: "Product",
    GtmRole.leadership: "Leadership",
}


def _who(person: Stakeholder | None) -> str:
    if person is None:
        return ""
    return person.display_name or ROLE_WORDS.get(person.gtm_role, "")


def round_answers(engine: Engine, *, team_id: str, reminder_id: int) -> tuple[CheckinAnswer, ...]:
    """The current round's check-ins of the reminder, answered ones first (owners only)."""
    with read_scope(engine) as session:
        workspace_id = _workspace_id(session, team_id)
        if workspace_id is None:
            return ()
        rows = checkins_repo.round_checkins(
            session=session, workspace_id=workspace_id, reminder_id=reminder_id
        )
        people = checkins_repo.checkin_people(
            session=session, workspace_id=workspace_id, slack_user_ids=[r.slack_user_id for r in rows]
        )
        answers = [
            CheckinAnswer(r.slack_user_id, _who(people.get(r.slack_user_id)), r.answer, r.answered_at)
            for r in rows
        ]
    return tuple(sorted(answers, key=lambda a: a.answered_at is None))
