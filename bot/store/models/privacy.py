"""Slack messages the bot posted that quote or name a stakeholder, so erasure can redact them.

Slack keeps what the bot posted; only the bot can edit it again (``chat.update``). One row per
(message, person) says where to find a message that drew on that person's interview answers:
never the text itself, so this table adds nothing to erase.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models.base import SLACK_ID, created_at_field, workspace_fk


class PostedQuote(SQLModel, table=True):
    """A posted message (``channel``, ``ts``) that quotes or names ``slack_user_id``."""

    __tablename__ = "posted_quote"
    __table_args__ = (UniqueConstraint("workspace_id", "slack_user_id", "channel", "ts"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = workspace_fk()
    slack_user_id: str = Field(max_length=SLACK_ID)
    channel: str = Field(max_length=SLACK_ID)
    ts: str = Field(max_length=SLACK_ID)
    kind: str = Field(max_length=16, description="draft or chat: how the message is redacted")
    version_id: int | None = Field(default=None, description="the ICP version a draft message shows")
    created_at: datetime = created_at_field()
