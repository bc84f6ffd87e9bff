"""Live CRM sync: the workspace's connection (encrypted credentials, cursors), sync runs, written scores.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 06:28:59
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_connection",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("connected_by", sa.String(length=32), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accounts_cursor", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deals_cursor", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fields_ready", sa.Boolean(), nullable=False),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sync_status", sa.String(length=32), nullable=True),
        sa.Column("last_sync_message", sa.Text(), nullable=True),
        sa.Column("auth_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("auth_reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_crm_connection_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_connection")),
        sa.UniqueConstraint("workspace_id", name=op.f("uq_crm_connection_workspace_id")),
    )
    op.create_index("ix_crm_connection_next_sync_at", "crm_connection", ["next_sync_at"], unique=False)

    op.create_table(
        "crm_score_written",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("crm_id", sa.String(length=128), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=64), nullable=False),
        sa.Column("icp_version", sa.Integer(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_crm_score_written_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_score_written")),
        sa.UniqueConstraint("workspace_id", "crm_id", name=op.f("uq_crm_score_written_workspace_id_crm_id")),
    )
    op.create_table(
        "crm_sync_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_crm_sync_run_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_sync_run")),
    )
    op.create_index("ix_crm_sync_run_workspace_id_id", "crm_sync_run", ["workspace_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_crm_sync_run_workspace_id_id", table_name="crm_sync_run")

    op.drop_table("crm_sync_run")
    op.drop_table("crm_score_written")
    op.drop_index("ix_crm_connection_next_sync_at", table_name="crm_connection")

    op.drop_table("crm_connection")
