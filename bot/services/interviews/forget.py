"""Erase what a person said in interviews from SQL (the vectors are the caller's other half)."""

from __future__ import annotations

from bot.store.db import Engine, session_scope
from bot.store.repo.errors import NotFoundError
from bot.store.repo.privacy import ForgetCounts, forget_stakeholder
from bot.store.repo.workspaces import get_workspace


def forget_answers(engine: Engine, *, team_id: str, slack_user_id: str, actor: str) -> ForgetCounts:
    """Erase the person's answers in the team's workspace, in one audited unit of work.

    ``NotFoundError`` when the team or the person is unknown (there is nothing to erase).
    """
    with session_scope(engine) as session:
        workspace = get_workspace(session=session, slack_team_id=team_id)
        if workspace is None or workspace.id is None:
            raise NotFoundError(f"no workspace {team_id!r}")
        return forget_stakeholder(
            session=session, workspace_id=workspace.id, slack_user_id=slack_user_id, actor=actor
        )
