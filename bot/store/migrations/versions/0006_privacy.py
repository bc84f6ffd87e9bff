"""Privacy: a stakeholder's consent to be named in chat, and the posted messages that quote people.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 07:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stakeholder") as batch:
        batch.add_column(sa.Column("names_allowed", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("stakeholder") as batch:
        batch.alter_column("names_allowed", server_default=None)
    op.create_table(
        "posted_quote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_posted_quote_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posted_quote")),
        sa.UniqueConstraint(
            "workspace_id",
            "slack_user_id",
            "channel",
            "ts",
            name=op.f("uq_posted_quote_workspace_id_slack_user_id_channel_ts"),
        ),
    )


def downgrade() -> None:
    op.drop_table("posted_quote")
    with op.batch_alter_table("stakeholder") as batch:
        batch.drop_column("names_allowed")
