"""The scheduler's atomic claims on due review reminders, one short unit of work each.

Replicas all run the same pass; a reminder is sent by the one replica whose claim (a conditional
UPDATE, see ``bot.store.repo.reminders``) succeeds, and the claim holder then records the firing or
backs off after a failure. Each step commits at once so the other replicas see it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.store.db import Engine, read_scope, session_scope
from bot.store.models import ReviewReminder
from bot.store.repo import reminders as reminders_repo


def due_reminder_ids(engine: Engine, *, now: datetime) -> list[tuple[int, int]]:
    """(workspace id, reminder id) of every due, unclaimed reminder, oldest first."""
    with read_scope(engine) as session:
        return reminders_repo.list_due_reminder_ids(session=session, now=now)


def claim(engine: Engine, *, reminder_id: int, worker: str, now: datetime, hold: timedelta) -> bool:
    """Take the reminder for ``hold``; True for the one replica that wins it."""
    with session_scope(engine) as session:
        return reminders_repo.claim_reminder(
            session=session, reminder_id=reminder_id, worker=worker, now=now, hold=hold
        )


def load_claimed(engine: Engine, *, reminder_id: int) -> tuple[ReviewReminder, str] | None:
    """The claimed reminder and its Slack team id; None if it (or its workspace) is gone."""
    with read_scope(engine) as session:
        return reminders_repo.get_reminder_with_team(session, reminder_id=reminder_id)


def finish(engine: Engine, *, reminder_id: int, worker: str, ran_at: datetime, next_run_at: datetime) -> bool:
    """Record the firing and schedule the next; False if the claim expired meanwhile."""
    with session_scope(engine) as session:
        return reminders_repo.finish_reminder(
            session=session, reminder_id=reminder_id, worker=worker, ran_at=ran_at, next_run_at=next_run_at
        )


def back_off(engine: Engine, *, reminder_id: int, worker: str, retry_at: datetime) -> bool:
    """A failed firing: nobody retries it before ``retry_at``."""
    with session_scope(engine) as session:
        return reminders_repo.back_off_reminder(
            session=session, reminder_id=reminder_id, worker=worker, retry_at=retry_at
        )
