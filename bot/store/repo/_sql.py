"""Small SQL helpers the repositories share: dialect-specific INSERT and workspace-scoped lookup.

``INSERT ... ON CONFLICT`` exists in both SQLite and PostgreSQL but SQLAlchemy exposes it per
dialect; ``insert_for`` picks the right one for the session's connection.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, select

from bot.store.repo.errors import NotFoundError

ModelT = TypeVar("ModelT", bound=SQLModel)


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def insert_for(session: Session, table: Table) -> Any:
    """An INSERT construct that supports ``on_conflict_do_*`` for the session's database."""
    name = dialect_name(session)
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {name!r}")


def table_of(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


def get_scoped(session: Session, model: type[ModelT], *, workspace_id: int, row_id: int) -> ModelT:
    """Fetch ``model`` row ``row_id`` if and only if it belongs to ``workspace_id``."""
    row = session.exec(
        select(model).where(
            model.id == row_id,  # type: ignore[attr-defined]
            model.workspace_id == workspace_id,  # type: ignore[attr-defined]
        )
    ).first()
    if row is None:
        label = table_of(model).name.replace("_", " ")
        raise NotFoundError(f"{label} {row_id} not found in workspace {workspace_id}")
    return row
