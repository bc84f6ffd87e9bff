"""Review reminder use cases: set, turn off, read, snooze, mark reviewed, and the default on install.

One reminder per workspace and segment (``/icp remind`` replaces it). Changes are audited. Slots
are computed by ``bot.services.reviews.cadence``; the row keeps the anchor so that later slots never
drift (see there), and ``next_run_at`` is always the next slot to fire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.reviews.cadence import Schedule, first_anchor, next_run, zone
from bot.store.db import Engine, read_scope, session_scope
from bot.store.models import ReminderCreate, ReminderUpdate, ReviewReminder
from bot.store.models.icp import DEFAULT_SEGMENT
from bot.store.models.ops import Cadence
from bot.store.repo import audit as audit_repo
from bot.store.repo import reminders as reminders_repo
from bot.store.repo import workspaces as workspaces_repo
from bot.store.types import utcnow

SNOOZE = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class ReminderState:
    """A reminder as the slash command and the App Home show it (detached from the session)."""

    id: int
    cadence: Cadence
    cron: str | None
    channel_id: str
    timezone: str
    next_run_at: datetime
    enabled: bool
    last_reviewed_at: datetime | None
    last_run_at: datetime | None


def _state(row: ReviewReminder) -> ReminderState:
    assert row.id is not None
    return ReminderState(
        id=row.id,
        cadence=row.cadence,
        cron=row.cron,
        channel_id=row.channel_id,
        timezone=row.timezone,
        next_run_at=row.next_run_at,
        enabled=row.enabled,
        last_reviewed_at=row.last_reviewed_at,
        last_run_at=row.last_run_at,
    )


def schedule_of(row: ReviewReminder | ReminderState) -> Schedule:
    anchor = getattr(row, "anchor_at", None) or row.next_run_at
    return Schedule(row.cadence, anchor, row.timezone, row.cron if row.cadence == Cadence.cron else None)


def set_reminder(
    engine: Engine,
    *,
    team_id: str,
    actor: str,
    cadence: Cadence,
    cron: str | None,
    channel_id: str,
    timezone: str,
    now: datetime,
    segment: str = DEFAULT_SEGMENT,
) -> ReminderState:
    """Create or replace the segment's reminder; the first slot is one period from today, 09:00 local."""
    zone(timezone)
    anchor = first_anchor(cadence, now=now, timezone=timezone)
    schedule = Schedule(cadence, anchor, timezone, cron)
    first = next_run(schedule, now) if cadence == Cadence.cron else anchor
    with session_scope(engine) as session:
        ws = workspaces_repo.get_or_create_workspace(session=session, slack_team_id=team_id)
        assert ws.id is not None
        row = reminders_repo.get_segment_reminder(session=session, workspace_id=ws.id, segment=segment)
        if row is None:
            row = reminders_repo.create_reminder(
                session=session,
                workspace_id=ws.id,
                data=ReminderCreate(
                    segment=segment,
                    cadence=cadence,
                    cron=schedule.cron,
                    channel_id=channel_id,
                    owner=actor if actor[:1] in ("U", "W") else None,
                    timezone=timezone,
                    anchor_at=anchor,
                    next_run_at=first,
                ),
            )
        else:
            assert row.id is not None
            row = reminders_repo.update_reminder(
                session=session,
                workspace_id=ws.id,
                reminder_id=row.id,
                data=ReminderUpdate(
                    cadence=cadence,
                    cron=schedule.cron,
                    channel_id=channel_id,
                    timezone=timezone,
                    anchor_at=anchor,
                    next_run_at=first,
                    enabled=True,
                ),
            )
        audit_repo.append_audit(
            session=session,
            workspace_id=ws.id,
            actor=actor,
            action="reminder.set",
            target_type="review_reminder",
            target_id=row.id,
            details={
                "cadence": cadence.value,
                "cron": schedule.cron,
                "channel": channel_id,
                "timezone": timezone,
            },
        )
        return _state(row)


def get_reminder_state(
    engine: Engine, *, team_id: str, segment: str = DEFAULT_SEGMENT
) -> ReminderState | None:
    with read_scope(engine) as session:
        ws = workspaces_repo.get_workspace(session=session, slack_team_id=team_id)
        if ws is None or ws.id is None:
            return None
        row = reminders_repo.get_segment_reminder(session=session, workspace_id=ws.id, segment=segment)
        return _state(row) if row is not None else None


def list_all_reminders(engine: Engine) -> list[tuple[str, ReminderState]]:
    """Every workspace's review reminders, each with its Slack team id (for operators)."""
    with read_scope(engine) as session:
        return [(team, _state(row)) for row, team in reminders_repo.list_reminders_with_team(session)]


def _change(
    engine: Engine, *, team_id: str, reminder_id: int | None, actor: str, action: str, update: ReminderUpdate
) -> ReminderState | None:
    """Apply ``update`` to the workspace's reminder (``reminder_id``, or the default segment's)."""
    with session_scope(engine) as session:
        ws = workspaces_repo.get_workspace(session=session, slack_team_id=team_id)
        if ws is None or ws.id is None:
            return None
        if reminder_id is None:
            row = reminders_repo.get_segment_reminder(session=session, workspace_id=ws.id)
        else:
            rows = [
                r
                for r in reminders_repo.list_reminders(session=session, workspace_id=ws.id)
                if r.id == reminder_id
            ]
            row = rows[0] if rows else None
        if row is None or row.id is None:
            return None
        row = reminders_repo.update_reminder(
            session=session, workspace_id=ws.id, reminder_id=row.id, data=update
        )
        details = update.model_dump(exclude_unset=True, mode="json")
        audit_repo.append_audit(
            session=session,
            workspace_id=ws.id,
            actor=actor,
            action=action,
            target_type="review_reminder",
            target_id=row.id,
            details=details,
        )
        return _state(row)


def turn_off(engine: Engine, *, team_id: str, actor: str) -> ReminderState | None:
    update = ReminderUpdate(enabled=False)
    return _change(
        engine, team_id=team_id, reminder_id=None, actor=actor, action="reminder.off", update=update
    )


def snooze(
    engine: Engine, *, team_id: str, reminder_id: int, actor: str, now: datetime
) -> ReminderState | None:
    """The next firing a week from now; the regular slots resume after it."""
    update = ReminderUpdate(next_run_at=now + SNOOZE)
    return _change(
        engine, team_id=team_id, reminder_id=reminder_id, actor=actor, action="reminder.snooze", update=update
    )


def mark_reviewed(
    engine: Engine, *, team_id: str, reminder_id: int, actor: str, now: datetime
) -> ReminderState | None:
    """The review is done: the next kit reports what happened from now on."""
    update = ReminderUpdate(last_reviewed_at=now)
    return _change(
        engine,
        team_id=team_id,
        reminder_id=reminder_id,
        actor=actor,
        action="reminder.reviewed",
        update=update,
    )


def ensure_default_reminder(
    engine: Engine, *, team_id: str, owner: str, timezone: str = "UTC", now: datetime | None = None
) -> ReminderState | None:
    """On install: a quarterly reminder DMed to the installing owner, unless the workspace has one.

    Returns the new reminder, or None when one existed already (an owner's choice is kept).
    """
    now = now or utcnow()
    if get_reminder_state(engine, team_id=team_id) is not None:
        return None
    try:
        zone(timezone)
    except ValueError:
        timezone = "UTC"
    return set_reminder(
        engine,
        team_id=team_id,
        actor=owner,
        cadence=Cadence.quarterly,
        cron=None,
        channel_id=owner,
        timezone=timezone,
        now=now,
    )
