"""Initial schema: workspaces, stakeholders, interviews, CRM records, imports, ICP versions,
personas, reminders and the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 08:26:15.672789
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workspace",
        sa.Column("name", sa.String(length=512), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slack_team_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace")),
        sa.UniqueConstraint("slack_team_id", name=op.f("uq_workspace_slack_team_id")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=64), nullable=True),
        sa.Column("target_id", sa.String(length=128), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_audit_log_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_workspace_id_at", "audit_log", ["workspace_id", "at"], unique=False)

    op.create_table(
        "icp_version",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("segment", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("icp_json", sa.JSON(), nullable=False),
        sa.Column("backtest", sa.JSON(), nullable=True),
        sa.Column("change_note", sa.Text(), nullable=True),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("approver", sa.String(length=32), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_icp_version_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_icp_version")),
        sa.UniqueConstraint("workspace_id", "id", name=op.f("uq_icp_version_workspace_id_id")),
        sa.UniqueConstraint(
            "workspace_id", "segment", "version", name=op.f("uq_icp_version_workspace_id_segment_version")
        ),
    )
    op.create_index(
        "ix_icp_version_one_approved",
        "icp_version",
        ["workspace_id", "segment"],
        unique=True,
        postgresql_where=sa.text("status = 'approved'"),
        sqlite_where=sa.text("status = 'approved'"),
    )

    op.create_table(
        "import_run",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=1024), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("started_by", sa.String(length=32), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("rows_added", sa.Integer(), nullable=False),
        sa.Column("rows_updated", sa.Integer(), nullable=False),
        sa.Column("rows_unchanged", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_import_run_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_run")),
    )
    op.create_index(
        "ix_import_run_workspace_id_checksum", "import_run", ["workspace_id", "checksum"], unique=False
    )

    op.create_table(
        "review_reminder",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("segment", sa.String(length=128), nullable=False),
        sa.Column("cadence", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_review_reminder_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_reminder")),
    )
    op.create_index(
        "ix_review_reminder_enabled_next_run_at", "review_reminder", ["enabled", "next_run_at"], unique=False
    )

    op.create_table(
        "stakeholder",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("display_name", sa.String(length=512), nullable=True),
        sa.Column("title", sa.String(length=512), nullable=True),
        sa.Column("gtm_role", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_stakeholder_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stakeholder")),
        sa.UniqueConstraint("workspace_id", "id", name=op.f("uq_stakeholder_workspace_id_id")),
        sa.UniqueConstraint(
            "workspace_id", "slack_user_id", name=op.f("uq_stakeholder_workspace_id_slack_user_id")
        ),
    )
    op.create_table(
        "account",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("import_run_id", sa.Integer(), nullable=True),
        sa.Column("crm_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("industry", sa.String(length=128), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("annual_revenue", sa.Float(), nullable=True),
        sa.Column("country", sa.String(length=64), nullable=True),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("tech_stack", sa.JSON(), nullable=False),
        sa.Column("custom_attributes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_run_id"],
            ["import_run.id"],
            name=op.f("fk_account_import_run_id_import_run"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_account_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("workspace_id", "crm_id", name=op.f("uq_account_workspace_id_crm_id")),
    )
    op.create_table(
        "customer_health",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("import_run_id", sa.Integer(), nullable=True),
        sa.Column("crm_id", sa.String(length=128), nullable=False),
        sa.Column("arr", sa.Float(), nullable=True),
        sa.Column("acv", sa.Float(), nullable=True),
        sa.Column("tenure_months", sa.Float(), nullable=True),
        sa.Column("churned", sa.Boolean(), nullable=True),
        sa.Column("churned_on", sa.Date(), nullable=True),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column("health_score", sa.Float(), nullable=True),
        sa.Column("expansion_arr", sa.Float(), nullable=True),
        sa.Column("referrals", sa.Integer(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("custom_attributes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_run_id"],
            ["import_run.id"],
            name=op.f("fk_customer_health_import_run_id_import_run"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_customer_health_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_health")),
        sa.UniqueConstraint("workspace_id", "crm_id", name=op.f("uq_customer_health_workspace_id_crm_id")),
    )
    op.create_table(
        "deal",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("import_run_id", sa.Integer(), nullable=True),
        sa.Column("crm_id", sa.String(length=128), nullable=False),
        sa.Column("account_crm_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=512), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(length=8), nullable=True),
        sa.Column("created_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("custom_attributes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_run_id"],
            ["import_run.id"],
            name=op.f("fk_deal_import_run_id_import_run"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_deal_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal")),
        sa.UniqueConstraint("workspace_id", "crm_id", name=op.f("uq_deal_workspace_id_crm_id")),
    )
    op.create_index(
        "ix_deal_workspace_id_account_crm_id", "deal", ["workspace_id", "account_crm_id"], unique=False
    )

    op.create_table(
        "interview",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("question_set", sa.String(length=64), nullable=False),
        sa.Column("dm_channel_id", sa.String(length=32), nullable=True),
        sa.Column("started_by", sa.String(length=32), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("stakeholder_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id", "stakeholder_id"],
            ["stakeholder.workspace_id", "stakeholder.id"],
            name=op.f("fk_interview_workspace_id_stakeholder_id_stakeholder"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_interview_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview")),
        sa.UniqueConstraint("workspace_id", "id", name=op.f("uq_interview_workspace_id_id")),
    )
    op.create_index(
        "ix_interview_workspace_id_stakeholder_id",
        "interview",
        ["workspace_id", "stakeholder_id"],
        unique=False,
    )
    op.create_index(
        "ix_interview_one_active",
        "interview",
        ["workspace_id", "stakeholder_id"],
        unique=True,
        postgresql_where=sa.text("state IN ('pending', 'in_progress', 'paused')"),
        sqlite_where=sa.text("state IN ('pending', 'in_progress', 'paused')"),
    )

    op.create_table(
        "persona",
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("persona_json", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("icp_version_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "icp_version_id"],
            ["icp_version.workspace_id", "icp_version.id"],
            name=op.f("fk_persona_workspace_id_icp_version_id_icp_version"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_persona_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persona")),
    )
    op.create_index(
        "ix_persona_workspace_id_icp_version_id", "persona", ["workspace_id", "icp_version_id"], unique=False
    )

    op.create_table(
        "interview_question",
        sa.Column("question_key", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("slack_message_ts", sa.String(length=32), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "interview_id"],
            ["interview.workspace_id", "interview.id"],
            name=op.f("fk_interview_question_workspace_id_interview_id_interview"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_interview_question_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_question")),
        sa.UniqueConstraint("workspace_id", "id", name=op.f("uq_interview_question_workspace_id_id")),
    )
    op.create_index(
        "ix_interview_question_workspace_id_interview_id",
        "interview_question",
        ["workspace_id", "interview_id"],
        unique=False,
    )

    op.create_table(
        "answer",
        sa.Column("slack_event_id", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("stakeholder_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "interview_id"],
            ["interview.workspace_id", "interview.id"],
            name=op.f("fk_answer_workspace_id_interview_id_interview"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "question_id"],
            ["interview_question.workspace_id", "interview_question.id"],
            name=op.f("fk_answer_workspace_id_question_id_interview_question"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "stakeholder_id"],
            ["stakeholder.workspace_id", "stakeholder.id"],
            name=op.f("fk_answer_workspace_id_stakeholder_id_stakeholder"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_answer_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer")),
        sa.UniqueConstraint(
            "workspace_id", "slack_event_id", name=op.f("uq_answer_workspace_id_slack_event_id")
        ),
    )
    op.create_index(
        "ix_answer_workspace_id_interview_id", "answer", ["workspace_id", "interview_id"], unique=False
    )
    op.create_index(
        "ix_answer_workspace_id_stakeholder_id", "answer", ["workspace_id", "stakeholder_id"], unique=False
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; children before parents.
    for table in (
        "answer",
        "interview_question",
        "persona",
        "interview",
        "deal",
        "customer_health",
        "account",
        "stakeholder",
        "review_reminder",
        "import_run",
        "icp_version",
        "audit_log",
        "workspace",
    ):
        op.drop_table(table)
