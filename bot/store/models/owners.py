"""ICP owners we keep ourselves: each workspace's first installer and the owners an owner added.

The first installer is written once and never replaced by a later install, so a member who runs
the OAuth flow again gains nothing (slack_sdk's installation rows say who installed *last*).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models.base import SLACK_ID, created_at_field, timestamp_field


class WorkspaceInstaller(SQLModel, table=True):
    """Who first installed the app in a workspace; ``removed_at`` set when an owner took it away."""

    __tablename__ = "workspace_installer"

    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True)
    slack_user_id: str = Field(max_length=SLACK_ID)
    installed_at: datetime = created_at_field()
    removed_at: datetime | None = timestamp_field()
    removed_by: str | None = Field(default=None, max_length=SLACK_ID)


class IcpOwner(SQLModel, table=True):
    """An ICP owner added by another owner with ``/icp owners add``."""

    __tablename__ = "icp_owner"
    __table_args__ = (UniqueConstraint("workspace_id", "slack_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", nullable=False)
    slack_user_id: str = Field(max_length=SLACK_ID)
    added_by: str = Field(max_length=SLACK_ID)
    created_at: datetime = created_at_field()


class WorkspaceUninstalled(SQLModel, table=True):
    """A workspace that uninstalled the app: its reminders stop until it is installed again."""

    __tablename__ = "workspace_uninstalled"

    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True)
    uninstalled_at: datetime = created_at_field()
