"""``account_values`` gives each account's stored values as the ORM reads them, on both backends.

Why: on SQLite it decodes the JSON columns itself, each distinct text once (the statistics read
every account of a workspace), so its rows must still equal what the models hold.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bot.store import read_scope, session_scope
from bot.store.models import AccountCreate
from bot.store.repo import crm as crm_repo
from bot.store.repo import workspaces as workspaces_repo


@pytest.fixture
def engine(upgraded_engine: Engine) -> Engine:
    return upgraded_engine


def _accounts() -> list[AccountCreate]:
    stacks = [["salesforce", "stripe"], [], ["hubspot"]]
    customs: list[dict[str, object]] = [{"plan": "free"}, {}, {"plan": "pro", "visits": 3, "tags": ["a"]}]
    return [
        AccountCreate(
            crm_id=f"A{i}",
            name=f"Company {i}",
            industry="software" if i % 2 else None,
            employees=i * 10,
            tech_stack=stacks[i % 3],
            custom_attributes=customs[i % 3],
        )
        for i in range(7)
    ]


def test_account_values_are_the_stored_accounts(engine: Engine) -> None:
    with session_scope(engine) as session:
        ws = workspaces_repo.get_or_create_workspace(session=session, slack_team_id="TVALUES")
        assert ws.id is not None
        workspace_id = ws.id
        crm_repo.bulk_upsert_accounts(session=session, workspace_id=workspace_id, rows=_accounts())
    with read_scope(engine) as session:
        rows = crm_repo.account_values(session=session, workspace_id=workspace_id)
        stored = crm_repo.list_accounts(session=session, workspace_id=workspace_id)
        expected = [
            tuple(getattr(account, name) for name in crm_repo.ACCOUNT_VALUE_COLUMNS) for account in stored
        ]
    assert [tuple(row) for row in rows] == expected
    assert [row[-2] for row in rows][:3] == [["salesforce", "stripe"], [], ["hubspot"]]
    assert rows[2][-1] == {"plan": "pro", "visits": 3, "tags": ["a"]}
