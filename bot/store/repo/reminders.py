"""Review reminders: when each workspace's ICP review is due, and who is sending it.

``claimed_by``/``claimed_until`` exist for the scheduler's atomic claims across replicas; here a
due reminder is one that is enabled, whose time has come and that nobody holds a live claim on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from bot.store.models import ReminderCreate, ReminderUpdate, ReviewReminder
from bot.store.repo._sql import get_scoped
from bot.store.types import utcnow


def create_reminder(*, session: Session, workspace_id: int, data: ReminderCreate) -> ReviewReminder:
    row = ReviewReminder.model_validate(data, update={"workspace_id": workspace_id})
    session.add(row)
    session.flush()
    return row


def get_reminder(*, session: Session, workspace_id: int, reminder_id: int) -> ReviewReminder:
    return get_scoped(session, ReviewReminder, workspace_id=workspace_id, row_id=reminder_id)


def update_reminder(
    *, session: Session, workspace_id: int, reminder_id: int, data: ReminderUpdate
) -> ReviewReminder:
    row = get_reminder(session=session, workspace_id=workspace_id, reminder_id=reminder_id)
    row.sqlmodel_update(data.model_dump(exclude_unset=True))
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def list_reminders(*, session: Session, workspace_id: int) -> list[ReviewReminder]:
    query = select(ReviewReminder).where(ReviewReminder.workspace_id == workspace_id)
    return list(session.exec(query.order_by(col(ReviewReminder.next_run_at))))


def list_due_reminders(*, session: Session, workspace_id: int, now: datetime) -> list[ReviewReminder]:
    """Enabled reminders whose ``next_run_at`` has passed and that no replica holds."""
    query = select(ReviewReminder).where(
        ReviewReminder.workspace_id == workspace_id,
        col(ReviewReminder.enabled).is_(True),
        col(ReviewReminder.next_run_at) <= now,
        or_(col(ReviewReminder.claimed_until).is_(None), col(ReviewReminder.claimed_until) < now),
    )
    return list(session.exec(query.order_by(col(ReviewReminder.next_run_at))))


def mark_reminder_run(
    *, session: Session, workspace_id: int, reminder_id: int, ran_at: datetime, next_run_at: datetime
) -> ReviewReminder:
    """Record a firing, schedule the next one and release any claim."""
    row = get_reminder(session=session, workspace_id=workspace_id, reminder_id=reminder_id)
    row.last_run_at, row.next_run_at = ran_at, next_run_at
    row.claimed_by = row.claimed_until = None
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def delete_reminder(*, session: Session, workspace_id: int, reminder_id: int) -> None:
    session.delete(get_reminder(session=session, workspace_id=workspace_id, reminder_id=reminder_id))
    session.flush()
