"""``account_values`` gives the stored accounts' columns as the ORM reads them, on both backends.

Why: on SQLite it decodes the JSON columns itself, each distinct text once (the statistics read
every account of a workspace), so its columns must still hold what the models hold.
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
        columns = crm_repo.account_values(session=session, workspace_id=workspace_id)
        stored = crm_repo.list_accounts(session=session, workspace_id=workspace_id)
        expected = {
            name: [getattr(account, name) for account in stored] for name in crm_repo.ACCOUNT_VALUE_COLUMNS
        }
    assert columns == expected
    assert list(columns) == list(crm_repo.ACCOUNT_VALUE_COLUMNS)
    assert columns["tech_stack"][:3] == [["salesforce", "stripe"], [], ["hubspot"]]
    assert columns["custom_attributes"][2] == {"plan": "pro", "visits": 3, "tags": ["a"]}
