"""Workspaces (Slack teams): found or created by team id, safely when two events race."""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from bot.store.models import Workspace
from bot.store.repo._sql import insert_for, table_of
from bot.store.types import utcnow

# Built once with a bound parameter: every Slack request looks its workspace up, and building a
# SQLAlchemy expression costs more CPU than SQLite takes to run it.
_BY_TEAM = select(Workspace).where(Workspace.slack_team_id == bindparam("team_id"))


def get_workspace(*, session: Session, slack_team_id: str) -> Workspace | None:
    return session.exec(_BY_TEAM, params={"team_id": slack_team_id}).first()


def get_or_create_workspace(*, session: Session, slack_team_id: str, name: str | None = None) -> Workspace:
    """The workspace for ``slack_team_id``, created on first sight (idempotent and race-safe)."""
    existing = get_workspace(session=session, slack_team_id=slack_team_id)
    if existing is not None:
        return existing
    stmt = (
        insert_for(session, table_of(Workspace))
        .values(slack_team_id=slack_team_id, name=name, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["slack_team_id"])
    )
    session.execute(stmt)
    created = get_workspace(session=session, slack_team_id=slack_team_id)
    assert created is not None  # inserted now or by the racer we waited for
    return created


def list_workspaces(*, session: Session) -> list[Workspace]:
    """Every workspace (for operators and the scheduler; holds no tenant content)."""
    return list(session.exec(select(Workspace).order_by(col(Workspace.id))))
