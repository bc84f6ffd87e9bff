"""Who the data belongs to: a workspace (one Slack team) and its go-to-market stakeholders.

Every other table points at ``workspace.id``; nothing in the store is shared between workspaces.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models.base import NAME, SLACK_ID, Timestamped, created_at_field, workspace_fk
from bot.store.types import enum_column


class GtmRole(StrEnum):
    """The go-to-market role that decides which interview questions a stakeholder gets."""

    sales = "sales"
    marketing = "marketing"
    customer_success = "customer_success"
    product = "product"
    leadership = "leadership"
    other = "other"


class WorkspaceBase(SQLModel):
    slack_team_id: str = Field(min_length=1, max_length=SLACK_ID)
    name: str | None = Field(default=None, max_length=NAME)


class WorkspaceCreate(WorkspaceBase):
    pass


class Workspace(WorkspaceBase, table=True):
    """One Slack team: the unit of tenancy."""

    __tablename__ = "workspace"

    id: int | None = Field(default=None, primary_key=True)
    slack_team_id: str = Field(max_length=SLACK_ID, unique=True)
    created_at: datetime = created_at_field()


class StakeholderBase(SQLModel):
    slack_user_id: str = Field(min_length=1, max_length=SLACK_ID)
    display_name: str | None = Field(default=None, max_length=NAME)
    title: str | None = Field(default=None, max_length=NAME)
    gtm_role: GtmRole = Field(default=GtmRole.other, sa_type=enum_column(GtmRole))


class StakeholderCreate(StakeholderBase):
    pass


class StakeholderUpdate(SQLModel):
    display_name: str | None = Field(default=None, max_length=NAME)
    title: str | None = Field(default=None, max_length=NAME)
    gtm_role: GtmRole | None = None


class Stakeholder(StakeholderBase, Timestamped, table=True):
    """A person in the workspace who is (or can be) interviewed."""

    __tablename__ = "stakeholder"
    __table_args__ = (
        UniqueConstraint("workspace_id", "slack_user_id"),
        UniqueConstraint("workspace_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = workspace_fk()
    slack_user_id: str = Field(max_length=SLACK_ID)
    # Chat outside a DM with an ICP owner names them only when they said so (`/icp privacy names on`).
    names_allowed: bool = Field(default=False, nullable=False)
