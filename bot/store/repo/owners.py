"""ICP owners kept in our store: the first installer (written once) and owners added by owners."""

from __future__ import annotations

from typing import Any

from sqlalchemy import column, delete, table
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.store.models import IcpOwner, WorkspaceInstaller
from bot.store.repo._sql import insert_for, table_of
from bot.store.types import utcnow


def record_first_installer(*, session: Session, workspace_id: int, slack_user_id: str) -> bool:
    """Remember who installed first; a later install never replaces it. True if written now."""
    stmt = (
        insert_for(session, table_of(WorkspaceInstaller))
        .values(workspace_id=workspace_id, slack_user_id=slack_user_id, installed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["workspace_id"])
        .returning(table_of(WorkspaceInstaller).c.workspace_id)
    )
    return session.execute(stmt).first() is not None


def first_installer(*, session: Session, workspace_id: int) -> WorkspaceInstaller | None:
    """The installer record, removed or not (None when no install was ever recorded)."""
    return session.get(WorkspaceInstaller, workspace_id)


def active_installer(*, session: Session, workspace_id: int) -> str | None:
    """The first installer while still an owner (an owner may have removed them)."""
    row = first_installer(session=session, workspace_id=workspace_id)
    return row.slack_user_id if row is not None and row.removed_at is None else None


def added_owners(*, session: Session, workspace_id: int) -> list[str]:
    """Owners added with ``/icp owners add``, oldest first."""
    query = (
        select(IcpOwner.slack_user_id).where(IcpOwner.workspace_id == workspace_id).order_by(col(IcpOwner.id))
    )
    return list(session.exec(query))


def add_owner(*, session: Session, workspace_id: int, slack_user_id: str, added_by: str) -> bool:
    """Add an owner; False if they already were one (race-safe)."""
    stmt = (
        insert_for(session, table_of(IcpOwner))
        .values(
            workspace_id=workspace_id, slack_user_id=slack_user_id, added_by=added_by, created_at=utcnow()
        )
        .on_conflict_do_nothing(index_elements=["workspace_id", "slack_user_id"])
        .returning(table_of(IcpOwner).c.id)
    )
    return session.execute(stmt).first() is not None


def remove_owner(*, session: Session, workspace_id: int, slack_user_id: str, removed_by: str) -> bool:
    """Take owner rights we granted away (added owner, first installer); False if there were none."""
    owners = table_of(IcpOwner)
    stmt = (
        delete(owners)
        .where(owners.c.workspace_id == workspace_id, owners.c.slack_user_id == slack_user_id)
        .returning(owners.c.id)
    )
    removed = session.execute(stmt).first() is not None
    installer = first_installer(session=session, workspace_id=workspace_id)
    if installer is not None and installer.slack_user_id == slack_user_id and installer.removed_at is None:
        installer.removed_at = utcnow()
        installer.removed_by = removed_by
        session.add(installer)
        session.flush()
        removed = True
    return removed


def oldest_installation_user(*, session: Session, table: str, client_id: str, team_id: str) -> str | None:
    """The user id on the oldest row of slack_sdk's installations ``table`` for this team."""
    rows: Any = sa_select(column("user_id")).select_from(_installations(table))
    query = (
        rows.where(
            column("client_id") == client_id, column("team_id") == team_id, column("user_id").is_not(None)
        )
        .order_by(column("installed_at").asc(), column("id").asc())
        .limit(1)
    )
    found = session.execute(query).scalar()
    return str(found) if found else None


def _installations(name: str) -> Any:
    return table(
        name, column("user_id"), column("client_id"), column("team_id"), column("installed_at"), column("id")
    )
