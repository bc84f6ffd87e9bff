"""ICP versions and their buyer personas.

The ICP itself is the engine's serialisable object, stored as its JSON dict (``icp_json``): the
store does not interpret it. Versions move draft → in_review → approved → superseded; at most one
version per workspace and segment is approved at a time (a partial unique index enforces it).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ForeignKeyConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models.base import NAME, SLACK_ID, Timestamped, created_at_field, timestamp_field, workspace_fk
from bot.store.types import enum_column

DEFAULT_SEGMENT = "default"


class IcpStatus(StrEnum):
    draft = "draft"
    in_review = "in_review"
    approved = "approved"
    superseded = "superseded"


class IcpVersionBase(SQLModel):
    segment: str = Field(default=DEFAULT_SEGMENT, min_length=1, max_length=128)
    name: str = Field(max_length=NAME)
    icp_json: dict[str, Any] = Field(sa_type=sa.JSON, description="The engine's ICP as a JSON dict.")
    backtest: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON(none_as_null=True))
    draft_json: dict[str, Any] | None = Field(
        default=None,
        sa_type=sa.JSON(none_as_null=True),
        description="What drafting produced besides the ICP: pains, triggers, narrative, conflicts, citations.",
    )
    change_note: str | None = Field(default=None, sa_type=sa.Text)
    author: str = Field(max_length=SLACK_ID, description="Slack user id, or 'system'.")


class IcpVersionCreate(IcpVersionBase):
    pass


class IcpVersion(IcpVersionBase, Timestamped, table=True):
    """One version of the ICP for one segment of the workspace."""

    __tablename__ = "icp_version"
    __table_args__ = (
        UniqueConstraint("workspace_id", "id"),
        UniqueConstraint("workspace_id", "segment", "version"),
        Index(
            "ix_icp_version_one_approved",
            "workspace_id",
            "segment",
            unique=True,
            postgresql_where=sa.text("status = 'approved'"),
            sqlite_where=sa.text("status = 'approved'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = workspace_fk()
    version: int = Field(description="1, 2, 3… per workspace and segment.")
    status: IcpStatus = Field(default=IcpStatus.draft, sa_type=enum_column(IcpStatus))
    approver: str | None = Field(default=None, max_length=SLACK_ID)
    submitted_at: datetime | None = timestamp_field()
    approved_at: datetime | None = timestamp_field()
    superseded_at: datetime | None = timestamp_field()


class PersonaBase(SQLModel):
    name: str = Field(max_length=NAME)
    position: int = Field(default=0, ge=0, description="Display order within the ICP version.")
    persona_json: dict[str, Any] = Field(
        sa_type=sa.JSON, description="Role, seniority, goals, challenges, objections, channels, hooks…"
    )


class PersonaCreate(PersonaBase):
    pass


class Persona(PersonaBase, table=True):
    """A buyer persona that belongs to one ICP version."""

    __tablename__ = "persona"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "icp_version_id"],
            ["icp_version.workspace_id", "icp_version.id"],
            ondelete="CASCADE",
        ),
        Index("ix_persona_workspace_id_icp_version_id", "workspace_id", "icp_version_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = workspace_fk()
    icp_version_id: int
    created_at: datetime = created_at_field()
