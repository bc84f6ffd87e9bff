"""Shared pieces of every table: the naming convention and the tenant/timestamp columns.

Named constraints let Alembic drop and alter them later (SQLite batch mode needs names), and one
helper for ``workspace_id`` keeps every tenant table pointing at its workspace the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime, utcnow

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

metadata = SQLModel.metadata

# String lengths used across tables, so that a Slack id fits everywhere it is copied to.
SLACK_ID = 32
CRM_ID = 128
NAME = 512


def workspace_fk() -> Any:
    """The ``workspace_id`` column every tenant table carries (indexed through its constraints)."""
    return Field(foreign_key="workspace.id", nullable=False)


def created_at_field() -> Any:
    """Creation time, aware UTC."""
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def timestamp_field(*, nullable: bool = True) -> Any:
    """An optional aware-UTC timestamp."""
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable)


class Timestamped(SQLModel):
    """Creation and last-change times for tables whose rows change."""

    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
