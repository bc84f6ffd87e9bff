"""Review check-ins: who was asked in which review round, and the DM that answered.

A round of a reminder is what was sent after its ``last_reviewed_at`` (everything when it has
never been reviewed): closing a review starts a new round, so an old unanswered check-in stops
being open without any row changing. Answering is one conditional UPDATE (``WHERE answered_at IS
NULL``), so two deliveries of one reply race to a single winner.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from bot.store.models import ReviewCheckin, ReviewReminder, Stakeholder


def _in_round(reminder: Any) -> Any:
    """The check-in belongs to its reminder's current round (sent after the last review)."""
    return or_(
        col(reminder.last_reviewed_at).is_(None),
        col(ReviewCheckin.sent_at) > col(reminder.last_reviewed_at),
    )


def record_checkin(
    *,
    session: Session,
    workspace_id: int,
    reminder_id: int,
    slack_user_id: str,
    asked_by: str,
    sent_at: datetime,
) -> ReviewCheckin:
    """One check-in DM that was sent."""
    row = ReviewCheckin(
        workspace_id=workspace_id,
        reminder_id=reminder_id,
        slack_user_id=slack_user_id,
        asked_by=asked_by,
        sent_at=sent_at,
    )
    session.add(row)
    session.flush()
    return row


def round_checkins(*, session: Session, workspace_id: int, reminder_id: int) -> list[ReviewCheckin]:
    """The check-ins of the reminder's current round, oldest first."""
    query = (
        select(ReviewCheckin)
        .join(ReviewReminder, col(ReviewReminder.id) == col(ReviewCheckin.reminder_id))
        .where(
            ReviewCheckin.workspace_id == workspace_id,
            ReviewReminder.workspace_id == workspace_id,
            ReviewCheckin.reminder_id == reminder_id,
            _in_round(ReviewReminder),
        )
        .order_by(col(ReviewCheckin.sent_at), col(ReviewCheckin.id))
    )
    return list(session.exec(query))


def open_checkin(*, session: Session, workspace_id: int, slack_user_id: str) -> ReviewCheckin | None:
    """The person's newest unanswered check-in whose round is still open, if any."""
    query = (
        select(ReviewCheckin)
        .join(ReviewReminder, col(ReviewReminder.id) == col(ReviewCheckin.reminder_id))
        .where(
            ReviewCheckin.workspace_id == workspace_id,
            ReviewReminder.workspace_id == workspace_id,
            ReviewCheckin.slack_user_id == slack_user_id,
            col(ReviewCheckin.answered_at).is_(None),
            _in_round(ReviewReminder),
        )
        .order_by(col(ReviewCheckin.sent_at).desc(), col(ReviewCheckin.id).desc())
    )
    return session.exec(query).first()


def checkin_by_event(*, session: Session, workspace_id: int, slack_event_id: str) -> ReviewCheckin | None:
    """The check-in a Slack event answered, if it answered one."""
    query = select(ReviewCheckin).where(
        ReviewCheckin.workspace_id == workspace_id, ReviewCheckin.slack_event_id == slack_event_id
    )
    return session.exec(query).first()


def answer_checkin(
    *,
    session: Session,
    workspace_id: int,
    checkin_id: int,
    answer: str,
    slack_event_id: str,
    answered_at: datetime,
) -> bool:
    """Store the reply and close the check-in; False when it was already answered."""
    stmt = (
        update(ReviewCheckin)
        .where(
            col(ReviewCheckin.workspace_id) == workspace_id,
            col(ReviewCheckin.id) == checkin_id,
            col(ReviewCheckin.answered_at).is_(None),
        )
        .values(answer=answer, slack_event_id=slack_event_id, answered_at=answered_at)
    )
    return int(session.exec(stmt).rowcount or 0) == 1


def checkin_people(
    *, session: Session, workspace_id: int, slack_user_ids: list[str]
) -> dict[str, Stakeholder]:
    """The stakeholder rows of the people asked, by Slack user id (for their name and role)."""
    if not slack_user_ids:
        return {}
    rows = session.exec(
        select(Stakeholder).where(
            Stakeholder.workspace_id == workspace_id, col(Stakeholder.slack_user_id).in_(slack_user_ids)
        )
    )
    return {row.slack_user_id: row for row in rows}


def delete_checkin(*, session: Session, workspace_id: int, checkin_id: int) -> None:
    """Drop one check-in (its DM was never delivered)."""
    session.exec(
        delete(ReviewCheckin).where(
            col(ReviewCheckin.workspace_id) == workspace_id, col(ReviewCheckin.id) == checkin_id
        )
    )


def forget_checkins(*, session: Session, workspace_id: int, slack_user_id: str) -> int:
    """Delete every check-in of the person (asked and answered); how many went."""
    result = session.exec(
        delete(ReviewCheckin).where(
            col(ReviewCheckin.workspace_id) == workspace_id, col(ReviewCheckin.slack_user_id) == slack_user_id
        )
    )
    return int(result.rowcount or 0)
