"""Review reminders keep their schedule: cron spec, time zone, anchor slot, last review.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("review_reminder") as batch:
        batch.add_column(sa.Column("cron", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("timezone", sa.String(length=64), nullable=False, server_default="UTC"))
        batch.add_column(sa.Column("anchor_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_reviewed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("review_reminder") as batch:
        batch.alter_column("timezone", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("review_reminder") as batch:
        batch.drop_column("last_reviewed_at")
        batch.drop_column("anchor_at")
        batch.drop_column("timezone")
        batch.drop_column("cron")
