"""The scoring world the e2e suites share: three accounts and an ICP (approved unless asked not to)."""

from __future__ import annotations

from typing import Any

from bot.store.db import session_scope
from bot.store.models import AccountCreate, IcpStatus, IcpVersionCreate, PersonaCreate
from bot.store.repo.crm import bulk_upsert_accounts
from bot.store.repo.icp import create_icp_draft, replace_personas, set_icp_status
from bot.store.repo.workspaces import get_or_create_workspace
from tests.support.harness import ADMIN_ID, SlackEnv

ICP_DOC: dict[str, Any] = {
    "name": "Mid-market SaaS",
    "criteria": [
        {"attribute": "industry", "op": "in", "values": ["software", "fintech"], "points": 25},
        {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 20},
        {"attribute": "country", "op": "in", "values": ["US", "CA"], "points": 15},
    ],
    "disqualifiers": [
        {"attribute": "employees", "op": "lt", "values": [20], "reason": "too small to need us"}
    ],
}
ACCOUNTS = [
    AccountCreate(
        crm_id="A1", name="Acme, Inc.", domain="acme.com", industry="software", employees=500, country="US"
    ),
    AccountCreate(
        crm_id="A2",
        name="Umbrella Group",
        domain="umbrella.com",
        industry="retail",
        employees=12,
        country="DE",
    ),
    AccountCreate(
        crm_id="A3",
        name="Umbrella Group",
        domain="umbrella.de",
        industry="fintech",
        employees=900,
        country="CA",
    ),
]


def seed(env: SlackEnv, *, approve: bool = True) -> None:
    team = env.driver.team_id
    with session_scope(env.engine) as session:
        wid = get_or_create_workspace(session=session, slack_team_id=team).id
        assert wid is not None
        bulk_upsert_accounts(session=session, workspace_id=wid, rows=ACCOUNTS)
        row = create_icp_draft(
            session=session,
            workspace_id=wid,
            data=IcpVersionCreate(name="v1", icp_json=ICP_DOC, author=ADMIN_ID),
        )
        assert row.id is not None
        replace_personas(
            session=session,
            workspace_id=wid,
            icp_version_id=row.id,
            personas=[PersonaCreate(name="Ops Olivia", persona_json={"role": "VP Operations"})],
        )
        if approve:
            set_icp_status(
                session=session,
                workspace_id=wid,
                version_id=row.id,
                status=IcpStatus.approved,
                actor=ADMIN_ID,
            )
