"""When a workspace loses the app (``app_uninstalled``, bot ``tokens_revoked``) its reminders and
scheduled CRM syncs stop.

Review reminders are *disabled*, not deleted: their schedule is kept, and after a new install an
owner turns them back on with ``/icp remind``. Interview nudges are skipped for as long as the
workspace is marked uninstalled; a new install clears the mark. Every stop is audited.
"""

from __future__ import annotations

from bot.store.db import Engine, session_scope
from bot.store.models import ReminderUpdate
from bot.store.repo import reminders as reminders_repo
from bot.store.repo import uninstalls as repo
from bot.store.repo.audit import append_audit
from bot.store.repo.sync import pause_schedule
from bot.store.repo.workspaces import get_workspace


def stop_workspace(engine: Engine, *, team_id: str, reason: str) -> int:
    """Mark ``team_id`` uninstalled and disable its review reminders; how many were disabled.

    A workspace we hold nothing for has nothing to stop: no row is created just to mark it.
    """
    with session_scope(engine) as session:
        workspace = get_workspace(session=session, slack_team_id=team_id)
        if workspace is None or workspace.id is None:
            return 0
        repo.mark_uninstalled(session=session, workspace_id=workspace.id)
        disabled = 0
        for row in reminders_repo.list_reminders(session=session, workspace_id=workspace.id):
            if not row.enabled or row.id is None:
                continue
            reminders_repo.update_reminder(
                session=session,
                workspace_id=workspace.id,
                reminder_id=row.id,
                data=ReminderUpdate(enabled=False),
            )
            disabled += 1
            append_audit(
                session=session,
                workspace_id=workspace.id,
                actor="system",
                action="reminder.off",
                target_type="review_reminder",
                target_id=row.id,
                details={"reason": reason},
            )
        if pause_schedule(session=session, workspace_id=workspace.id):  # nobody left to read its outcome
            append_audit(session=session, workspace_id=workspace.id, actor="system", action="crm.sync.off")
        append_audit(session=session, workspace_id=workspace.id, actor="system", action=f"app.{reason}")
        return disabled


def workspace_installed(engine: Engine, *, team_id: str) -> None:
    """A new install: interview nudges may go out again there (review reminders stay as set)."""
    with session_scope(engine) as session:
        workspace = get_workspace(session=session, slack_team_id=team_id)
        if workspace is not None and workspace.id is not None:
            repo.clear_uninstalled(session=session, workspace_id=workspace.id)


def disable_reminder(engine: Engine, *, reminder_id: int, worker: str, reason: str) -> None:
    """Stop one review reminder whose workspace's token is dead (revoked, inactive): no retries."""
    with session_scope(engine) as session:
        loaded = reminders_repo.get_reminder_with_team(session, reminder_id=reminder_id)
        if loaded is None:
            return
        row, _team = loaded
        reminders_repo.update_reminder(
            session=session,
            workspace_id=row.workspace_id,
            reminder_id=reminder_id,
            data=ReminderUpdate(enabled=False),
        )
        reminders_repo.back_off_reminder(
            session=session, reminder_id=reminder_id, worker=worker, retry_at=row.next_run_at
        )
        append_audit(
            session=session,
            workspace_id=row.workspace_id,
            actor="system",
            action="reminder.off",
            target_type="review_reminder",
            target_id=reminder_id,
            details={"reason": reason},
        )
