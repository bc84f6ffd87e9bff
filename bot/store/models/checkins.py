"""Review check-ins: the two questions a stakeholder is DMed when a review starts, and their reply.

One row per person asked in one review round of one reminder. The reply is a plain DM to the bot;
its Slack event id is unique per workspace, so a redelivered event is applied once. The answer
text is interview-grade content: owners see it in the decision modal, ``icp forget`` deletes it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models.base import SLACK_ID, created_at_field, timestamp_field, workspace_fk


class ReviewCheckin(SQLModel, table=True):
    """``slack_user_id`` was asked by ``asked_by`` at ``sent_at``; open until ``answered_at``."""

    __tablename__ = "review_checkin"
    __table_args__ = (
        UniqueConstraint("workspace_id", "slack_event_id"),
        Index("ix_review_checkin_workspace_id_reminder_id", "workspace_id", "reminder_id"),
        Index("ix_review_checkin_workspace_id_slack_user_id", "workspace_id", "slack_user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = workspace_fk()
    reminder_id: int = Field(foreign_key="review_reminder.id", ondelete="CASCADE")
    slack_user_id: str = Field(max_length=SLACK_ID)
    asked_by: str = Field(max_length=SLACK_ID)
    sent_at: datetime = created_at_field()
    answer: str | None = Field(default=None, sa_type=sa.Text)
    answered_at: datetime | None = timestamp_field()
    slack_event_id: str | None = Field(default=None, max_length=128, description="The answering DM's event.")
