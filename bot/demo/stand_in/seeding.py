"""Put an approved ICP straight into the store: for the demo world, benchmarks and tests.

The product reaches an approved version through drafting and the Approve button; scenarios that
only need one to exist (scoring under load, tenancy, chat) start from here instead.
"""

from __future__ import annotations

from typing import Any

from bot.store.db import Session
from bot.store.models import IcpStatus, IcpVersion, IcpVersionCreate
from bot.store.repo.icp import create_icp_draft, set_icp_status
from bot.store.repo.workspaces import get_or_create_workspace


def approved_icp(
    session: Session, *, team_id: str, icp_json: dict[str, Any], author: str, name: str | None = None
) -> IcpVersion:
    """Create the workspace if needed, store ``icp_json`` as a draft and approve it."""
    workspace_id = get_or_create_workspace(session=session, slack_team_id=team_id).id
    assert workspace_id is not None
    row = create_icp_draft(
        session=session,
        workspace_id=workspace_id,
        data=IcpVersionCreate(
            name=name or str(icp_json.get("name") or "ICP"), icp_json=icp_json, author=author
        ),
    )
    assert row.id is not None
    return set_icp_status(
        session=session, workspace_id=workspace_id, version_id=row.id, status=IcpStatus.approved, actor=author
    )
