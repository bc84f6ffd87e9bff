"""Review reminders: when each workspace's ICP review is due, and who is sending it.

``claimed_by``/``claimed_until`` exist for the scheduler's atomic claims across replicas; here a
due reminder is one that is enabled, whose time has come and that nobody holds a live claim on.
``claim_reminder`` is one conditional UPDATE (``WHERE id = ? AND <due> AND <unclaimed>``): the
database serialises concurrent claims on the row (SQLite's write lock, PostgreSQL's row lock,
which re-checks the WHERE after waiting), so exactly one replica sees ``rowcount == 1``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlmodel import Session, col, select

from bot.store.models import ReminderCreate, ReminderUpdate, ReviewReminder, Workspace
from bot.store.models.icp import DEFAULT_SEGMENT
from bot.store.repo._sql import get_scoped, table_of
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


def get_segment_reminder(
    *, session: Session, workspace_id: int, segment: str = DEFAULT_SEGMENT
) -> ReviewReminder | None:
    """The workspace's reminder for ``segment`` (the scheduler keeps one per segment)."""
    query = select(ReviewReminder).where(
        ReviewReminder.workspace_id == workspace_id, ReviewReminder.segment == segment
    )
    return session.exec(query.order_by(col(ReviewReminder.id))).first()


def _due(now: datetime) -> Any:
    table = table_of(ReviewReminder)
    return and_(
        table.c.enabled.is_(True),
        table.c.next_run_at <= now,
        or_(table.c.claimed_until.is_(None), table.c.claimed_until < now),
    )


def list_due_reminder_ids(*, session: Session, now: datetime, limit: int = 500) -> list[tuple[int, int]]:
    """(workspace id, reminder id) of every due, unclaimed reminder in every workspace, oldest first."""
    table = table_of(ReviewReminder)
    query = (
        select(table.c.workspace_id, table.c.id).where(_due(now)).order_by(table.c.next_run_at).limit(limit)
    )
    return [(int(w), int(i)) for w, i in session.exec(query)]


def claim_reminder(
    *, session: Session, reminder_id: int, worker: str, now: datetime, hold: timedelta
) -> bool:
    """Take reminder ``reminder_id`` for ``hold`` if it is due and unclaimed; True for the one winner."""
    table = table_of(ReviewReminder)
    stmt = (
        update(table)
        .where(table.c.id == reminder_id, _due(now))
        .values(claimed_by=worker, claimed_until=now + hold)
    )
    return session.exec(stmt).rowcount == 1


def finish_reminder(
    *, session: Session, reminder_id: int, worker: str, ran_at: datetime, next_run_at: datetime
) -> bool:
    """Record a firing by the claim holder and schedule the next; False if the claim was lost."""
    table = table_of(ReviewReminder)
    stmt = (
        update(table)
        .where(table.c.id == reminder_id, table.c.claimed_by == worker)
        .values(
            last_run_at=ran_at,
            next_run_at=next_run_at,
            claimed_by=None,
            claimed_until=None,
            updated_at=ran_at,
        )
    )
    return session.exec(stmt).rowcount == 1


def back_off_reminder(*, session: Session, reminder_id: int, worker: str, retry_at: datetime) -> bool:
    """A failed firing: nobody retries before ``retry_at`` (the claim's time stays, its holder goes)."""
    table = table_of(ReviewReminder)
    stmt = (
        update(table)
        .where(table.c.id == reminder_id, table.c.claimed_by == worker)
        .values(claimed_by=None, claimed_until=retry_at)
    )
    return session.exec(stmt).rowcount == 1


def last_reviewed_at(session: Session, *, workspace_id: int) -> datetime | None:
    """When an owner last marked a review done, over all the workspace's reminders."""
    query = select(func.max(ReviewReminder.last_reviewed_at)).where(
        ReviewReminder.workspace_id == workspace_id
    )
    return session.exec(query).one()


def next_enabled_reminder(session: Session, *, workspace_id: int) -> ReviewReminder | None:
    """The enabled reminder that fires first."""
    query = select(ReviewReminder).where(
        ReviewReminder.workspace_id == workspace_id, col(ReviewReminder.enabled).is_(True)
    )
    return session.exec(query.order_by(col(ReviewReminder.next_run_at))).first()


def get_reminder_with_team(session: Session, *, reminder_id: int) -> tuple[ReviewReminder, str] | None:
    """A reminder and its workspace's Slack team id, by id alone (the scheduler holds only ids)."""
    row = session.get(ReviewReminder, reminder_id)
    if row is None:
        return None
    workspace = session.get(Workspace, row.workspace_id)
    return (row, workspace.slack_team_id) if workspace is not None else None


def list_reminders_with_team(session: Session) -> list[tuple[ReviewReminder, str]]:
    """Every reminder of every workspace with the workspace's Slack team id (for operators)."""
    query = select(ReviewReminder, Workspace.slack_team_id).join(
        Workspace,
        Workspace.id == ReviewReminder.workspace_id,  # type: ignore[arg-type]
    )
    return [(row, str(team)) for row, team in session.exec(query.order_by(col(ReviewReminder.id)))]
