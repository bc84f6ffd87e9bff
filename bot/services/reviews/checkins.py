"""Who gets the review's check-in DM: every stakeholder who completed an interview."""

from __future__ import annotations

from bot.store.db import Engine, read_scope
from bot.store.models import InterviewState
from bot.store.repo.interviews import list_interviews
from bot.store.repo.stakeholders import list_stakeholders
from bot.store.repo.workspaces import get_workspace


def interviewed_stakeholders(engine: Engine, *, team_id: str) -> list[str]:
    """Slack user ids of the stakeholders with a completed interview, in the order they were added."""
    with read_scope(engine) as session:
        workspace = get_workspace(session=session, slack_team_id=team_id)
        if workspace is None or workspace.id is None:
            return []
        done = {
            i.stakeholder_id
            for i in list_interviews(
                session=session, workspace_id=workspace.id, state=InterviewState.completed
            )
        }
        people = list_stakeholders(session=session, workspace_id=workspace.id)
        return [p.slack_user_id for p in people if p.id in done]
