"""``icp connect`` and ``icp sync`` as users run them: tokens on standard input, never echoed.

The real ``icp`` app against a SQLite file and a HubSpot stand-in on 127.0.0.1; settings come
from the environment, as they do for an operator.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from bot.cli.main import app
from bot.store import make_engine, upgrade
from tests.support.crm.hubspot_api import StandInHubSpot

TOKEN = "pat-na1-cli-token-0123456789"
TEAM = "TCLI"


@pytest.fixture
def hubspot() -> Iterator[StandInHubSpot]:
    with StandInHubSpot(token=TOKEN) as stand_in:
        stand_in.add_company(
            "11", {"name": "Acme Software", "industry": "COMPUTER_SOFTWARE", "numberofemployees": "300"}
        )
        stand_in.add_company("12", {"name": "Beta Retail", "industry": "RETAIL"})
        stand_in.add_company("13", {"name": "Gamma", "numberofemployees": "-40"})  # refused by the importer
        stand_in.add_deal(
            "91",
            {
                "dealname": "Acme",
                "dealstage": "closedwon",
                "amount": "5000",
                "closedate": "2026-01-02T00:00:00Z",
            },
            company_id="11",
        )
        yield stand_in


@pytest.fixture
def icp(tmp_path: Path, hubspot: StandInHubSpot, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    url = f"sqlite:///{tmp_path / 'icp.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    for key, value in {
        "DATABASE_URL": url,
        "DATA_DIR": str(tmp_path / "data"),
        "DEFAULT_WORKSPACE": TEAM,
        "HUBSPOT_API_URL": hubspot.base_url,
        "CRM_CALL_DEADLINE_SECONDS": "2",
        "CHROMA_HOST": "127.0.0.1",  # no vector store: the statistics refresh is reported, not fatal
        "CHROMA_PORT": "9",
    }.items():
        monkeypatch.setenv(key, value)
    yield


def run(args: list[str], stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, args, input=stdin, catch_exceptions=False)


def everything(result: Result) -> str:
    return result.stdout + result.stderr


def test_connect_reads_the_token_from_stdin_and_never_prints_it(icp: None) -> None:
    done = run(["connect", "hubspot"], stdin=TOKEN + "\n")
    assert done.exit_code == 0, everything(done)
    assert "Connected HubSpot portal 12345 to workspace 'TCLI'" in done.stdout
    assert TOKEN not in everything(done)
    status = run(["connect", "status", "--json"])
    data = json.loads(status.stdout)
    assert data["connected"] is True and data["provider"] == "hubspot" and data["last_sync_at"] is None
    assert TOKEN not in status.stdout


def test_a_refused_or_missing_token_is_one_error_line_and_nothing_is_stored(icp: None) -> None:
    refused = run(["connect", "hubspot"], stdin="pat-na1-wrong-token-999\n")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: HubSpot refused these credentials")
    assert "pat-na1-wrong-token-999" not in everything(refused)
    missing = run(["connect", "hubspot"], stdin="\n")
    assert missing.exit_code == 1 and "no hubspot private app token given" in missing.stderr
    assert json.loads(run(["connect", "status", "--json"]).stdout)["connected"] is False


def test_sync_dry_run_then_sync_then_nothing_to_do(icp: None, hubspot: StandInHubSpot) -> None:
    assert run(["connect", "hubspot"], stdin=TOKEN).exit_code == 0
    dry = run(["sync", "--dry-run", "--json"])
    assert dry.exit_code == 0, everything(dry)
    data = json.loads(dry.stdout)
    assert data["status"] == "dry_run" and data["mode"] == "full"
    assert data["accounts"]["added"] == 2 and data["deals"]["added"] == 1
    assert data["skipped"] == [
        {"record": "HubSpot company 13", "field": "employees", "reason": "negative value: '-40'"}
    ]
    assert data["write_back"]["status"] == "no_icp"
    synced = run(["sync"])
    assert synced.exit_code == 0, everything(synced)
    assert synced.stdout.startswith("HubSpot full sync of workspace 'TCLI' synced: accounts: 2 added")
    assert "  HubSpot company 13: employees: negative value: '-40'" in synced.stdout.splitlines()
    assert "statistics not refreshed" in synced.stdout  # the vector store is unreachable here: noted
    again = json.loads(run(["sync", "--json"]).stdout)
    assert again["mode"] == "incremental" and again["ok"] is True
    assert all(again[kind] is None or again[kind]["added"] == 0 for kind in ("accounts", "deals"))
    status = json.loads(run(["connect", "status", "--json"]).stdout)
    assert status["last_sync_status"] == "succeeded"
    assert all("icp_score" not in c.properties for c in hubspot.companies.values())  # nothing approved


def test_sync_without_a_connection_and_connect_without_its_url_say_what_to_do(icp: None) -> None:
    lonely = run(["sync"])
    assert lonely.exit_code == 1
    assert "has no CRM connected; connect one with `icp connect hubspot`" in lonely.stderr
    usage = run(["connect", "salesforce"], stdin="00Dx!y\n")
    assert usage.exit_code == 2 and "--instance-url" in everything(usage)
    plain_http = run(
        ["connect", "salesforce", "--instance-url", "http://acme.my.salesforce.com"], stdin="00Dx!tok\n"
    )
    assert plain_http.exit_code == 1 and "https://" in plain_http.stderr


def test_remove_forgets_the_credentials(icp: None) -> None:
    assert run(["connect", "hubspot"], stdin=TOKEN).exit_code == 0
    removed = run(["connect", "remove"])
    assert removed.exit_code == 0 and "disconnected" in removed.stdout
    assert json.loads(run(["connect", "status", "--json"]).stdout)["connected"] is False
    assert run(["connect", "remove"]).stdout.strip() == "workspace 'TCLI' had no CRM connected"
