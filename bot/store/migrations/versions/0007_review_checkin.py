"""Review check-ins: who was asked the two review questions, and what they answered in the DM.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_checkin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("reminder_id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("asked_by", sa.String(length=32), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("slack_event_id", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["reminder_id"],
            ["review_reminder.id"],
            name=op.f("fk_review_checkin_reminder_id_review_reminder"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_review_checkin_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_checkin")),
        sa.UniqueConstraint(
            "workspace_id", "slack_event_id", name=op.f("uq_review_checkin_workspace_id_slack_event_id")
        ),
    )
    op.create_index(
        "ix_review_checkin_workspace_id_reminder_id",
        "review_checkin",
        ["workspace_id", "reminder_id"],
        unique=False,
    )
    op.create_index(
        "ix_review_checkin_workspace_id_slack_user_id",
        "review_checkin",
        ["workspace_id", "slack_user_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_review_checkin_workspace_id_slack_user_id", table_name="review_checkin")
    op.drop_index("ix_review_checkin_workspace_id_reminder_id", table_name="review_checkin")
    op.drop_table("review_checkin")
