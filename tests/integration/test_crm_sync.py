"""The CRM sync end to end against a HubSpot stand-in over HTTP, on SQLite and PostgreSQL.

Connect (credentials checked, stored encrypted), a first full sync, incremental syncs with
updates, deletions and merges, dry runs, a sync that fails half way (nothing applied, the next
one completes it), a refused token (stops the schedule, told once), and the write-back of the
approved ICP's scores onto the stand-in's companies, only where they changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.connectors.records import Provider
from bot.services.crm_sync.connect import connect_crm, connection_status
from bot.services.crm_sync.credentials import CrmCredentials
from bot.services.crm_sync.schedule import claim_auth_report, due_workspaces
from bot.services.crm_sync.sync import SyncContext, SyncRequest, SyncSummary, run_sync
from bot.settings import Settings
from bot.store.db import read_scope, session_scope
from bot.store.models import CrmConnection, IcpStatus, IcpVersionCreate
from bot.store.repo.crm import get_account, get_deal, list_crm_ids
from bot.store.repo.icp import create_icp_draft, set_icp_status
from bot.store.repo.sync import claim_sync, get_connection, list_sync_runs
from bot.store.types import utcnow
from tests.support.crm.hubspot_api import StandInHubSpot
from tests.support.import_support import new_team, workspace_id

TOKEN = "pat-na1-test-token-0123456789"
ICP_DOC = {
    "name": "Software mid-market",
    "criteria": [
        {"attribute": "industry", "op": "in", "values": ["software"], "points": 30},
        {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 20},
    ],
}


@pytest.fixture
def hubspot() -> Iterator[StandInHubSpot]:
    with StandInHubSpot(token=TOKEN) as stand_in:
        stand_in.add_property("companies", "plan_tier")
        yield stand_in


@pytest.fixture
def settings(tmp_path: Path, hubspot: StandInHubSpot) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, hubspot_api_url=hubspot.base_url, crm_call_deadline_seconds=2.0
    )


def _seed(hubspot: StandInHubSpot) -> None:
    at = hubspot.now - timedelta(days=3)
    hubspot.add_company(
        "101",
        {
            "name": "Acme Software",
            "industry": "COMPUTER_SOFTWARE",
            "numberofemployees": "500",
            "country": "United States",
            "plan_tier": "gold",
        },
        modified=at,
    )
    hubspot.add_company(
        "102",
        {"name": "Beta Retail", "industry": "RETAIL", "numberofemployees": "40", "country": "Germany"},
        modified=at,
    )
    hubspot.add_company(
        "103",
        {
            "name": "Gamma GmbH",
            "industry": "COMPUTER_SOFTWARE",
            "numberofemployees": "900",
            "country": "Germany",
        },
        modified=at,
    )
    hubspot.add_deal(
        "9001",
        {
            "dealname": "Acme renewal",
            "dealstage": "closedwon",
            "pipeline": "default",
            "amount": "12000",
            "closedate": "2025-11-02T10:00:00Z",
        },
        modified=at,
        company_id="101",
    )
    hubspot.add_deal(
        "9002",
        {
            "dealname": "Beta pilot",
            "dealstage": "closedlost",
            "pipeline": "default",
            "amount": "3000",
            "closedate": "2025-10-01T10:00:00Z",
        },
        modified=at,
        company_id="102",
    )
    hubspot.add_deal(
        "9003",
        {"dealname": "Gamma", "dealstage": "qualifiedtobuy", "pipeline": "default", "amount": "8000"},
        modified=at,
        company_id="103",
    )


def _connect(store_engine: Engine, settings: Settings, team: str, token: str = TOKEN) -> None:
    outcome = connect_crm(
        engine=store_engine,
        settings=settings,
        workspace=team,
        credentials=CrmCredentials(Provider.hubspot, token=token),
        actor="U0OWNER",
    )
    assert outcome.ok, outcome.message


def _sync(store_engine: Engine, settings: Settings, team: str, **request: object) -> SyncSummary:
    return run_sync(
        SyncContext(engine=store_engine, settings=settings),
        SyncRequest(workspace=team, actor="U0OWNER", **request),
    )  # type: ignore[arg-type]


def _connection(store_engine: Engine, team: str) -> CrmConnection:
    with read_scope(store_engine) as session:
        found = get_connection(session=session, workspace_id=workspace_id(store_engine, team))
    assert found is not None
    return found


def test_connect_checks_the_token_and_stores_it_encrypted(
    store_engine: Engine, settings: Settings, hubspot: StandInHubSpot
) -> None:
    team = new_team()
    refused = connect_crm(
        engine=store_engine,
        settings=settings,
        workspace=team,
        credentials=CrmCredentials(Provider.hubspot, token="pat-wrong"),
        actor="U0OWNER",
    )
    assert not refused.ok and "refused" in refused.message and "pat-wrong" not in refused.message
    assert connection_status(engine=store_engine, workspace=team) is None
    _connect(store_engine, settings, team)
    row = _connection(store_engine, team)
    assert TOKEN not in row.credentials and row.provider == "hubspot"
    status = connection_status(engine=store_engine, workspace=team)
    assert status is not None and status.last_sync_at is None and not status.token_refused


def test_a_first_sync_imports_everything_and_a_repeat_changes_nothing(
    store_engine: Engine, settings: Settings, hubspot: StandInHubSpot
) -> None:
    team = new_team()
    _seed(hubspot)
    _connect(store_engine, settings, team)
    first = _sync(store_engine, settings, team, write_back=False)
    assert first.status == "synced", first.message
    assert first.mode == "full"
    assert first.accounts is not None and first.accounts.added == 3
    assert first.deals is not None and first.deals.added == 3
    wid = workspace_id(store_engine, team)
    with read_scope(store_engine) as session:
        acme = get_account(session=session, workspace_id=wid, crm_id="101")
        won = get_deal(session=session, workspace_id=wid, crm_id="9001")
        lost = get_deal(session=session, workspace_id=wid, crm_id="9002")
        open_deal = get_deal(session=session, workspace_id=wid, crm_id="9003")
    assert acme is not None and acme.name == "Acme Software" and acme.employees == 500
    assert acme.custom_attributes.get("plan_tier") == "gold"
    assert (
        won is not None and won.stage.value == "won" and won.account_crm_id == "101" and won.amount == 12000
    )
    assert lost is not None and lost.stage.value == "lost"
    assert open_deal is not None and open_deal.stage.value == "open"
    connected = connection_status(engine=store_engine, workspace=team)
    second = _sync(store_engine, settings, team, write_back=False)
    assert second.status == "synced" and second.mode == "incremental", second.message
    after = connection_status(engine=store_engine, workspace=team)
    assert connected is not None and after is not None
    assert after.connected_at == connected.connected_at  # a sync is not a (re)connect
    for result in (second.accounts, second.deals):
        assert result is None or result.added == result.updated == 0
    with read_scope(store_engine) as session:
        runs = list_sync_runs(session=session, workspace_id=wid)
    assert [r.status.value for r in runs] == ["succeeded", "succeeded"]


def test_incremental_sync_applies_updates_deletions_and_merges(
    store_engine: Engine, settings: Settings, hubspot: StandInHubSpot
) -> None:
    team = new_team()
    _seed(hubspot)
    _connect(store_engine, settings, team)
    assert _sync(store_engine, settings, team, write_back=False).ok
    hubspot.advance(hours=1)
    hubspot.update_company("102", {"numberofemployees": "4500"})
    hubspot.archive("deals", "9003")
    hubspot.merge("101", "103")  # Gamma merged into Acme: its deals move there
    summary = _sync(store_engine, settings, team, write_back=False)
    assert summary.status == "synced", summary.message
    assert summary.accounts is not None and summary.accounts.updated >= 1
    assert summary.accounts_removed == 1 and summary.accounts_merged == 1
    assert summary.deals_removed == 1
    wid = workspace_id(store_engine, team)
    with read_scope(store_engine) as session:
        assert sorted(list_crm_ids(session=session, workspace_id=wid, kind="accounts")) == ["101", "102"]
        assert sorted(list_crm_ids(session=session, workspace_id=wid, kind="deals")) == ["9001", "9002"]
        beta = get_account(session=session, workspace_id=wid, crm_id="102")
    assert beta is not None and beta.employees == 4500


def test_a_dry_run_reports_changes_and_writes_nothing(
    store_engine: Engine, settings: Settings, hubspot: StandInHubSpot
) -> None:
    team = new_team()
    _seed(hubspot)
    _connect(store_engine, settings, team)
    summary = _sync(store_engine, settings, team, dry_run=True)
    assert summary.status == "dry_run", summary.message
    assert summary.accounts is not None and summary.accounts.added == 3
    assert "would change" in summary.message
    wid = workspace_id(store_engine, team)
    with read_scope(store_engine) as session:
        assert list_crm_ids(session=session, workspace_id=wid, kind="accounts") == []
    assert _connection(store_engine, team).accounts_cursor is None


def test_a_sync_that_fails_half_way_changes_nothing_and_the_next_completes_it(
    store_engine: Engine, settings: Settings, hubspot: StandInHubSpot
) -> None:
    team = new_team()
    _seed(hubspot)
    _connect(store_engine, settings, team)
    # 503s until the call's deadline (2 s) runs out: 3 attempts (0, 0.5, 1.5 s); one is left over
    hubspot.fail_next(503, times=4)
    failed = _sync(store_engine, settings, team)
    assert failed.status == "failed" and "nothing was changed" in failed.message
    wid = workspace_id(store_engine, team)
    with read_scope(store_engine) as session:
        assert list_crm_ids(session=session, workspace_id=wid, kind="accounts") == []
    assert _connection(store_engine, team).accounts_cursor is None
    done = _sync(store_engine, settings, team, write_back=False)
    assert done.status == "synced" and done.mode == "full", done.message
    with read_scope(store_engine) as session:
        assert len(list_crm_ids(session=session, workspace_id=wid, kind="deals")) == 3


def test_a_refused_token_stops_the_schedule_and_is_told_once(
    store_engine: Engine, settings: Settings, hubspot: StandInHubSpot
) -> None:
    team = new_team()
    _seed(hubspot)
    _connect(store_engine, settings, team)
    assert team in due_workspaces(engine=store_engine, now=utcnow() + timedelta(seconds=1))
    hubspot.expire_token()
    summary = _sync(store_engine, settings, team, trigger="schedule")
    assert summary.status == "auth_failed" and TOKEN not in summary.message
    assert "connect again" in summary.message.lower()
    assert team not in due_workspaces(engine=store_engine, now=utcnow() + timedelta(days=2))
    assert claim_auth_report(engine=store_engine, workspace=team, at=utcnow()) == "U0OWNER"
    assert claim_auth_report(engine=store_engine, workspace=team, at=utcnow()) is None
    skipped = _sync(store_engine, settings, team, trigger="schedule")
    assert skipped.status == "auth_failed" and skipped.run_id is None  # no call was made
    status = connection_status(engine=store_engine, workspace=team)
    assert status is not None and status.token_refused


def test_a_token_refused_at_the_write_back_keeps_what_was_synced_and_says_so(
    store_engine: Engine, settings: Settings, hubspot: StandInHubSpot
) -> None:
    team = new_team()
    _seed(hubspot)
    _connect(store_engine, settings, team)
    _approve(store_engine, team)
    # the reads all pass; the token expires at the write-back's first write (creating the score fields)
    hubspot.expire_token(at=lambda call: call.method == "POST" and "/properties/" in call.path)

    summary = _sync(store_engine, settings, team)

    assert summary.status == "auth_failed" and TOKEN not in summary.message
    assert summary.accounts is not None and summary.accounts.added == 3
    assert summary.message.startswith("HubSpot full sync of workspace")
    assert "accounts: 3 added" in summary.message and "deals: 3 added" in summary.message
    assert "write-back stopped: HubSpot refused the token" in summary.message
    assert "nothing was changed" not in summary.message and "connect again" in summary.message.lower()
    with read_scope(store_engine) as session:  # the synced records and the cursors stay
        assert (
            len(list_crm_ids(session=session, workspace_id=workspace_id(store_engine, team), kind="accounts"))
            == 3
        )
    assert _connection(store_engine, team).accounts_cursor is not None
    status = connection_status(engine=store_engine, workspace=team)
    assert status is not None and status.token_refused
    assert "icp_score" not in hubspot.companies["101"].properties


def test_a_second_sync_while_one_runs_is_refused(
    store_engine: Engine, settings: Settings, hubspot: StandInHubSpot
) -> None:
    team = new_team()
    _connect(store_engine, settings, team)
    with session_scope(store_engine) as session:
        assert claim_sync(
            session=session,
            workspace_id=workspace_id(store_engine, team),
            worker="other",
            now=utcnow(),
            hold=timedelta(minutes=5),
        )
    summary = _sync(store_engine, settings, team)
    assert summary.status == "busy" and "already running" in summary.message


def _approve(store_engine: Engine, team: str) -> None:
    with session_scope(store_engine) as session:
        wid = workspace_id(store_engine, team)
        row = create_icp_draft(
            session=session,
            workspace_id=wid,
            data=IcpVersionCreate(name="v1", icp_json=ICP_DOC, author="U0OWNER"),
        )
        assert row.id is not None
        set_icp_status(
            session=session, workspace_id=wid, version_id=row.id, status=IcpStatus.approved, actor="U0OWNER"
        )


def test_scores_are_written_back_only_where_they_changed(
    store_engine: Engine, settings: Settings, hubspot: StandInHubSpot
) -> None:
    team = new_team()
    _seed(hubspot)
    _connect(store_engine, settings, team)
    first = _sync(store_engine, settings, team)
    assert first.write_back is not None and first.write_back.status == "no_icp"
    _approve(store_engine, team)
    second = _sync(store_engine, settings, team)
    assert second.write_back is not None and second.write_back.status == "written", second.message
    assert second.write_back.written == 3 and sorted(second.write_back.fields_created) == [
        "icp_score",
        "icp_tier",
        "icp_version",
    ]
    acme, beta = hubspot.companies["101"].properties, hubspot.companies["102"].properties
    assert int(acme["icp_score"]) > int(beta["icp_score"])
    assert acme["icp_version"] == "1"
    third = _sync(store_engine, settings, team)
    assert third.write_back is not None and third.write_back.written == 0
    before = int(beta["icp_score"])
    hubspot.advance(hours=1)
    hubspot.update_company("102", {"industry": "COMPUTER_SOFTWARE", "numberofemployees": "800"})
    fourth = _sync(store_engine, settings, team)
    assert fourth.write_back is not None and fourth.write_back.written == 1
    assert int(hubspot.companies["102"].properties["icp_score"]) > before


def test_approving_an_icp_brings_the_next_sync_forward(
    store_engine: Engine, settings: Settings, hubspot: StandInHubSpot
) -> None:
    from bot.services.icp.review import approve

    team = new_team()
    _connect(store_engine, settings, team)
    assert _sync(store_engine, settings, team, write_back=False).ok
    next_at = _connection(store_engine, team).next_sync_at
    assert next_at is not None and next_at > utcnow() + timedelta(hours=23)
    with session_scope(store_engine) as session:
        row = create_icp_draft(
            session=session,
            workspace_id=workspace_id(store_engine, team),
            data=IcpVersionCreate(name="v1", icp_json=ICP_DOC, author="U0OWNER"),
        )
    assert row.id is not None
    approve(store_engine, knowledge=None, team_id=team, version_id=row.id, actor="U0OWNER")
    due_at = _connection(store_engine, team).next_sync_at
    assert due_at is not None and due_at <= utcnow()
    assert team in due_workspaces(engine=store_engine, now=utcnow())
