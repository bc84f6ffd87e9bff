"""Index account(workspace_id, updated_at) for the account-lookup freshness check.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_account_workspace_id_updated_at", "account", ["workspace_id", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_account_workspace_id_updated_at", table_name="account")
