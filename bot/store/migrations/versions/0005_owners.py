"""ICP owners kept by us (each workspace's first installer, owners added by an owner), and which
workspaces uninstalled the app (their reminders stop).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workspace_installer",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_workspace_installer_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_workspace_installer")),
    )
    op.create_table(
        "icp_owner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("added_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_icp_owner_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_icp_owner")),
        sa.UniqueConstraint(
            "workspace_id", "slack_user_id", name=op.f("uq_icp_owner_workspace_id_slack_user_id")
        ),
    )
    op.create_table(
        "workspace_uninstalled",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("uninstalled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_workspace_uninstalled_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_workspace_uninstalled")),
    )


def downgrade() -> None:
    op.drop_table("workspace_uninstalled")
    op.drop_table("icp_owner")
    op.drop_table("workspace_installer")
