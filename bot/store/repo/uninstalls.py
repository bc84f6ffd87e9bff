"""Which workspaces uninstalled the app: a row while uninstalled, gone again on a new install."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, select

from bot.store.models import WorkspaceUninstalled
from bot.store.repo._sql import insert_for, table_of
from bot.store.types import utcnow


def mark_uninstalled(*, session: Session, workspace_id: int) -> None:
    stmt = (
        insert_for(session, table_of(WorkspaceUninstalled))
        .values(workspace_id=workspace_id, uninstalled_at=utcnow())
        .on_conflict_do_nothing(index_elements=["workspace_id"])
    )
    session.execute(stmt)


def clear_uninstalled(*, session: Session, workspace_id: int) -> None:
    table = table_of(WorkspaceUninstalled)
    session.execute(delete(table).where(table.c.workspace_id == workspace_id))


def uninstalled_workspace_ids(*, session: Session) -> set[int]:
    return set(session.exec(select(WorkspaceUninstalled.workspace_id)))
