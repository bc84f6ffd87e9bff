"""A workspace's live CRM connection, its sync runs, and the scores last written back to the CRM.

The connection's credentials are stored only as a Fernet ciphertext (``bot.store.secrets``); the
cursors are the newest last-modified times a sync has applied, so the next sync asks only for
what changed since. ``auth_failed_at`` stops syncs once the CRM refused the token, until someone
reconnects: an expired token is reported once, never retried in a loop. Written scores are kept
per account so a write-back sends only the records whose score, tier or ICP version changed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models.base import (
    CRM_ID,
    SLACK_ID,
    Timestamped,
    created_at_field,
    timestamp_field,
    workspace_fk,
)
from bot.store.types import enum_column

PROVIDER = 16


class SyncStatus(StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class CrmConnection(Timestamped, table=True):
    """The CRM a workspace syncs with (one per workspace) and where its syncs stand."""

    __tablename__ = "crm_connection"
    __table_args__ = (
        UniqueConstraint("workspace_id"),
        Index("ix_crm_connection_next_sync_at", "next_sync_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = workspace_fk()
    provider: str = Field(max_length=PROVIDER, description="hubspot or salesforce.")
    credentials: str = Field(sa_type=sa.Text, description="Fernet ciphertext of the credentials' JSON.")
    label: str = Field(default="", max_length=255, description="The portal or org, as the CRM names it.")
    connected_by: str = Field(max_length=SLACK_ID)
    connected_at: datetime = created_at_field()  # the last connect (a reconnect moves it)
    accounts_cursor: datetime | None = timestamp_field()
    deals_cursor: datetime | None = timestamp_field()
    fields_ready: bool = Field(default=False, description="The write-back fields exist in the CRM.")
    last_sync_at: datetime | None = timestamp_field()
    last_sync_status: SyncStatus | None = Field(default=None, sa_type=enum_column(SyncStatus), nullable=True)
    last_sync_message: str | None = Field(default=None, sa_type=sa.Text)
    auth_failed_at: datetime | None = timestamp_field()
    auth_reported_at: datetime | None = timestamp_field()
    next_sync_at: datetime | None = timestamp_field()
    claimed_by: str | None = Field(default=None, max_length=128, description="Replica running its sync.")
    claimed_until: datetime | None = timestamp_field()


class CrmSyncRun(SQLModel, table=True):
    """One sync: how it was started, what it read, applied and wrote back, and how it ended."""

    __tablename__ = "crm_sync_run"
    __table_args__ = (Index("ix_crm_sync_run_workspace_id_id", "workspace_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = workspace_fk()
    provider: str = Field(max_length=PROVIDER)
    mode: str = Field(max_length=16, description="full or incremental.")
    trigger: str = Field(max_length=16, description="cli, slack or schedule.")
    actor: str = Field(max_length=SLACK_ID)
    status: SyncStatus = Field(default=SyncStatus.running, sa_type=enum_column(SyncStatus))
    started_at: datetime = created_at_field()
    finished_at: datetime | None = timestamp_field()
    summary: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class CrmScoreWritten(SQLModel, table=True):
    """The score, tier and ICP version last written onto one CRM company/account."""

    __tablename__ = "crm_score_written"
    __table_args__ = (UniqueConstraint("workspace_id", "crm_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = workspace_fk()
    crm_id: str = Field(max_length=CRM_ID)
    score: int
    tier: str = Field(default="", max_length=64)
    icp_version: int
    written_at: datetime = created_at_field()
