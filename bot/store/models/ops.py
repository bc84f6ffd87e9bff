"""Operational records: import runs, review reminders and the audit log.

Import runs keep the file's sha256 so a re-import of the same file is recognised; reminders carry
claim columns so that one replica alone fires each reminder; the audit log records who did what
(never the content that was erased).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import AwareDatetime
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from bot.store.models.base import (
    CRM_ID,
    SLACK_ID,
    Timestamped,
    created_at_field,
    timestamp_field,
    workspace_fk,
)
from bot.store.models.icp import DEFAULT_SEGMENT
from bot.store.types import UTCDateTime, enum_column


class ImportKind(StrEnum):
    accounts = "accounts"
    deals = "deals"
    health = "health"


class ImportStatus(StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class ImportRunBase(SQLModel):
    kind: ImportKind = Field(sa_type=enum_column(ImportKind))
    filename: str = Field(max_length=1024)
    checksum: str = Field(min_length=64, max_length=64, description="sha256 of the file, hex.")
    started_by: str | None = Field(default=None, max_length=SLACK_ID)


class ImportRunCreate(ImportRunBase):
    pass


class ImportRun(ImportRunBase, table=True):
    """One import of one CRM file and what became of its rows."""

    __tablename__ = "import_run"
    __table_args__ = (Index("ix_import_run_workspace_id_checksum", "workspace_id", "checksum"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = workspace_fk()
    status: ImportStatus = Field(default=ImportStatus.running, sa_type=enum_column(ImportStatus))
    rows_total: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_added: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    errors: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=sa.JSON, description="[{row, field, message}], capped by the caller."
    )
    started_at: datetime = created_at_field()
    finished_at: datetime | None = timestamp_field()


class Cadence(StrEnum):
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    semiannual = "semiannual"
    yearly = "yearly"
    cron = "cron"


class ReminderBase(SQLModel):
    segment: str = Field(default=DEFAULT_SEGMENT, max_length=128)
    cadence: Cadence = Field(default=Cadence.quarterly, sa_type=enum_column(Cadence))
    channel_id: str = Field(min_length=1, max_length=SLACK_ID)
    owner: str | None = Field(default=None, max_length=SLACK_ID)
    next_run_at: AwareDatetime = Field(sa_type=UTCDateTime)
    cron: str | None = Field(default=None, max_length=128, description="5-field spec when cadence is cron.")
    timezone: str = Field(
        default="UTC", max_length=64, description="IANA zone the slots keep their wall time in."
    )
    anchor_at: AwareDatetime | None = Field(
        default=None, sa_type=UTCDateTime, description="The first slot; later slots are counted from it."
    )


class ReminderCreate(ReminderBase):
    pass


class ReminderUpdate(SQLModel):
    cadence: Cadence | None = None
    channel_id: str | None = Field(default=None, min_length=1, max_length=SLACK_ID)
    owner: str | None = Field(default=None, max_length=SLACK_ID)
    next_run_at: AwareDatetime | None = None
    enabled: bool | None = None
    cron: str | None = None
    timezone: str | None = Field(default=None, max_length=64)
    anchor_at: AwareDatetime | None = None
    last_reviewed_at: AwareDatetime | None = None


class ReviewReminder(ReminderBase, Timestamped, table=True):
    """A scheduled ICP review: when it fires next, when it last fired, who holds it now.

    ``last_reviewed_at`` is when an owner marked the review done: the review kit reports what
    happened since then.
    """

    __tablename__ = "review_reminder"
    __table_args__ = (Index("ix_review_reminder_enabled_next_run_at", "enabled", "next_run_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = workspace_fk()
    enabled: bool = True
    last_run_at: datetime | None = timestamp_field()
    last_reviewed_at: datetime | None = timestamp_field()
    claimed_by: str | None = Field(default=None, max_length=128, description="Replica holding the claim.")
    claimed_until: datetime | None = timestamp_field()


class AuditEntry(SQLModel, table=True):
    """One thing someone did; append-only, and never holds erased content."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_workspace_id_at", "workspace_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = workspace_fk()
    at: datetime = created_at_field()
    actor: str = Field(max_length=128, description="Slack user id, 'cli' or 'system'.")
    action: str = Field(max_length=64)
    target_type: str | None = Field(default=None, max_length=64)
    target_id: str | None = Field(default=None, max_length=CRM_ID)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
