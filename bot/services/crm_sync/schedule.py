"""What the scheduler asks of the sync's state: the due workspaces, and who to tell of a refused token."""

from __future__ import annotations

from datetime import datetime

from bot.store.db import Engine, read_scope, session_scope
from bot.store.repo.sync import due_syncs, get_connection, report_auth_failure
from bot.store.repo.workspaces import get_workspace

__all__ = ["claim_auth_report", "due_workspaces"]


def due_workspaces(*, engine: Engine, now: datetime) -> list[str]:
    """Slack team ids whose scheduled sync is due and not stopped by a refused token."""
    with read_scope(engine) as session:
        return due_syncs(session=session, now=now)


def claim_auth_report(*, engine: Engine, workspace: str, at: datetime) -> str | None:
    """Who connected the CRM, for the one caller that is to tell them the token was refused."""
    with session_scope(engine) as session:
        found = get_workspace(session=session, slack_team_id=workspace)
        if found is None or found.id is None:
            return None
        if not report_auth_failure(session=session, workspace_id=found.id, at=at):
            return None
        connection = get_connection(session=session, workspace_id=found.id)
        return None if connection is None else connection.connected_by
