"""CRM import into the real store (SQLite and PostgreSQL): what is stored, joins, repeats, counts.

Every test runs on both backends (``store_engine`` is parametrised in conftest) and works in a
fresh workspace. Files are real CSV files written to tmp_path; nothing is mocked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from bot.services.imports.service import (
    AUDIT_ACTION,
    ImportSummary,
    import_accounts,
    import_deals,
    import_health,
)
from bot.store import session_scope
from bot.store.models import Account, DealStage, ImportKind, ImportStatus
from bot.store.repo import audit as audit_repo
from bot.store.repo import crm as crm_repo
from bot.store.repo import imports as imports_repo
from tests.support.import_support import ACCOUNTS_CSV, MAVEN, new_team, table_counts, workspace_id, write

DB_SETTINGS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

DEALS_CSV = (
    "Deal ID,Deal Name,Stage,Amount,Account ID,Account Name,Close Date,Created Date,Currency,Source\n"
    "D1,Acme renewal,Closed Won,12000,A1,,2022-03-01,2022-01-10,USD,inbound\n"
    "D2,Globex pilot,Closed Lost,5k,,GLOBEX gmbh,2022-04-15,2022-02-01,EUR,\n"
    "D3,Early talk,Qualification,,,,,2022-05-01,,\n"
    "D4,Initech deal,Negotiation/Review,800,A3,Initech,,2022-06-01,,outbound\n"
)


def run(
    service: Callable[..., ImportSummary], engine: Engine, team: str, path: Path, **options: Any
) -> ImportSummary:
    options.setdefault("overrides", {})
    options.setdefault("skip_bad_rows", False)
    options.setdefault("actor", "tester")
    return service(engine=engine, workspace=team, path=path, **options)


def accounts_of(engine: Engine, team: str) -> dict[str, Account]:
    ws = workspace_id(engine, team)
    with session_scope(engine) as session:
        return {a.crm_id: a for a in crm_repo.list_accounts(session=session, workspace_id=ws)}


def stored_state(engine: Engine, team: str) -> list[tuple[Any, ...]]:
    """Everything an import writes for a workspace, to compare before and after."""
    ws = workspace_id(engine, team)
    with session_scope(engine) as session:
        rows: list[tuple[Any, ...]] = [
            (a.crm_id, a.content_hash, a.updated_at, a.import_run_id)
            for a in crm_repo.list_accounts(session=session, workspace_id=ws)
        ]
        rows += [
            (d.crm_id, d.content_hash, d.updated_at, d.import_run_id)
            for d in crm_repo.list_deals(session=session, workspace_id=ws)
        ]
        rows += [
            (r.id, r.status, r.rows_added)
            for r in imports_repo.list_import_runs(session=session, workspace_id=ws)
        ]
    return rows


@pytest.fixture
def team() -> str:
    return new_team()


@pytest.fixture
def accounts_file(tmp_path: Path) -> Path:
    return write(tmp_path / "companies.csv", ACCOUNTS_CSV)


# --------------------------------------------------------------------------- accounts


def test_accounts_are_normalised_into_typed_columns(
    store_engine: Engine, team: str, accounts_file: Path
) -> None:
    summary = run(import_accounts, store_engine, team, accounts_file, actor="alice")

    assert summary.status == "imported", summary.message
    assert (summary.rows, summary.added, summary.updated, summary.unchanged, summary.rejected) == (
        3,
        3,
        0,
        0,
        0,
    )
    accounts = accounts_of(store_engine, team)
    acme, globex, initech = accounts["A1"], accounts["A2"], accounts["A3"]
    assert (acme.name, acme.industry, acme.employees, acme.annual_revenue) == (
        "Acme, Inc.",
        "technology",
        250,
        25e6,
    )
    assert (acme.country, acme.region, acme.tech_stack) == ("US", "North America", ["hubspot", "salesforce"])
    assert acme.custom_attributes == {"Owner": "Jane"}
    assert (globex.industry, globex.employees, globex.annual_revenue) == ("manufacturing", 1200, 1.2e8)
    assert (globex.country, globex.region, globex.tech_stack) == ("DE", "EMEA", [])
    assert (initech.industry, initech.country, initech.region) == ("financial services", "PH", "APAC")
    assert initech.employees == 31  # the band 11-50 read as its midpoint, 30.5
    assert initech.annual_revenue is None and initech.custom_attributes == {}
    lines = summary.mapping_lines()
    assert any(line.startswith("industry: 'Technolgy' -> 'technology' (fuzzy") for line in lines), lines
    assert any(line.startswith("country: 'Philipines' -> 'PH' (fuzzy") for line in lines), lines
    assert "tech_stack: 'SFDC' -> 'salesforce' (synonym, 1 row)" in lines


def test_a_successful_import_records_its_run_and_an_audit_entry(
    store_engine: Engine, team: str, accounts_file: Path
) -> None:
    summary = run(import_accounts, store_engine, team, accounts_file, actor="alice")

    ws = workspace_id(store_engine, team)
    assert summary.import_run_id is not None
    with session_scope(store_engine) as session:
        run_row = imports_repo.get_import_run(
            session=session, workspace_id=ws, import_run_id=summary.import_run_id
        )
        audit = audit_repo.list_audit(session=session, workspace_id=ws, action=AUDIT_ACTION)
        stored = crm_repo.list_accounts(session=session, workspace_id=ws)
    assert run_row.status == ImportStatus.succeeded and run_row.kind == ImportKind.accounts
    assert run_row.checksum == imports_repo.file_checksum(accounts_file) == summary.checksum
    assert (run_row.rows_total, run_row.rows_accepted, run_row.rows_added, run_row.started_by) == (
        3,
        3,
        3,
        "alice",
    )
    assert run_row.filename == "companies.csv" and run_row.finished_at is not None
    assert {a.import_run_id for a in stored} == {summary.import_run_id}
    assert len(audit) == 1
    entry = audit[0]
    assert (entry.actor, entry.target_type, entry.target_id) == (
        "alice",
        "import_run",
        str(summary.import_run_id),
    )
    assert entry.details["kind"] == "accounts" and entry.details["added"] == 3


def test_reimporting_the_same_file_changes_nothing(
    store_engine: Engine, team: str, accounts_file: Path
) -> None:
    first = run(import_accounts, store_engine, team, accounts_file)
    before, counts = stored_state(store_engine, team), table_counts(store_engine)

    again = run(import_accounts, store_engine, team, accounts_file)

    assert again.status == "unchanged" and again.ok
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    assert again.message.startswith("companies.csv: already imported on ")
    assert again.message.endswith(f"(run #{first.import_run_id}): nothing changed")
    assert again.previous is not None and again.previous.run_id == first.import_run_id
    assert stored_state(store_engine, team) == before
    assert table_counts(store_engine) == counts


def test_a_changed_file_updates_changed_rows_and_adds_new_ones(
    store_engine: Engine, team: str, accounts_file: Path, tmp_path: Path
) -> None:
    first = run(import_accounts, store_engine, team, accounts_file)
    changed = (
        ACCOUNTS_CSV.replace("Globex GmbH,Manufacturing", "Globex GmbH,Retail") + "A4,Umbrella,Biotech,,,,,\n"
    )
    second = run(import_accounts, store_engine, team, write(tmp_path / "companies-v2.csv", changed))

    assert second.status == "imported" and second.previous is None
    assert (second.added, second.updated, second.unchanged) == (1, 1, 2)
    accounts = accounts_of(store_engine, team)
    assert accounts["A2"].industry == "retail" and accounts["A2"].import_run_id == second.import_run_id
    assert accounts["A1"].import_run_id == first.import_run_id  # unchanged rows are not rewritten
    assert accounts["A4"].name == "Umbrella"


def test_revenue_unit_scales_revenue(store_engine: Engine, team: str, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", "account,sector,revenue\nAcme Corporation,software,1100.04\n")
    summary = run(import_accounts, store_engine, team, path, revenue_unit=1e6)

    assert summary.status == "imported"
    assert accounts_of(store_engine, team)["name:acme"].annual_revenue == pytest.approx(1.10004e9)


def test_small_chunks_store_the_same_rows(store_engine: Engine, tmp_path: Path, accounts_file: Path) -> None:
    whole, chunked = new_team(), new_team()
    run(import_accounts, store_engine, whole, accounts_file)
    summary = run(import_accounts, store_engine, chunked, accounts_file, chunk_size=1)

    assert summary.added == 3
    content = {k: (a.content_hash, a.industry) for k, a in accounts_of(store_engine, whole).items()}
    assert {k: (a.content_hash, a.industry) for k, a in accounts_of(store_engine, chunked).items()} == content


# --------------------------------------------------------------------------- deals


def test_deals_are_joined_to_stored_accounts_by_id_and_by_name(
    store_engine: Engine, team: str, accounts_file: Path, tmp_path: Path
) -> None:
    run(import_accounts, store_engine, team, accounts_file)
    summary = run(import_deals, store_engine, team, write(tmp_path / "deals.csv", DEALS_CSV))

    assert summary.status == "imported", summary.message
    assert (summary.added, summary.rejected) == (4, 0)
    assert "1 open deal has no account" in summary.findings
    assert "3 deals joined to an account (2 by account id, 1 by name)" in summary.findings
    with session_scope(store_engine) as session:
        deals = {
            d.crm_id: d
            for d in crm_repo.list_deals(session=session, workspace_id=workspace_id(store_engine, team))
        }
    d1, d2, d3, d4 = deals["D1"], deals["D2"], deals["D3"], deals["D4"]
    assert (d1.account_crm_id, d1.stage, d1.amount, d1.currency, d1.name) == (
        "A1",
        DealStage.won,
        12000,
        "USD",
        "Acme renewal",
    )
    assert (d1.created_on, d1.closed_on) == (date(2022, 1, 10), date(2022, 3, 1))
    assert d1.custom_attributes == {"Source": "inbound", "Stage": "Closed Won", "Account ID": "A1"}
    assert (d2.account_crm_id, d2.stage, d2.amount) == ("A2", DealStage.lost, 5000)
    assert (d3.account_crm_id, d3.stage, d3.amount) == (None, DealStage.open, None)
    assert (d4.account_crm_id, d4.stage) == ("A3", DealStage.open)


def test_a_deal_naming_an_unknown_account_rejects_the_whole_file(
    store_engine: Engine, team: str, accounts_file: Path, tmp_path: Path
) -> None:
    run(import_accounts, store_engine, team, accounts_file)
    path = write(
        tmp_path / "deals.csv",
        "Deal ID,Stage,Amount,Account Name\nD1,Won,10,Acme Inc\nD2,Lost,5,Nowhere Ltd\nD3,Won,7,initech\n",
    )
    counts = table_counts(store_engine)

    summary = run(import_deals, store_engine, team, path)

    assert summary.status == "rejected" and not summary.ok
    assert [str(e) for e in summary.errors] == [
        "deals.csv line 3, column 'Account Name': unknown account 'Nowhere Ltd'"
    ]
    assert summary.message == (
        "deals.csv: 1 of 3 rows rejected; nothing was imported "
        "(fix them, or use --skip-bad-rows to import the other 2)"
    )
    assert table_counts(store_engine) == counts


def test_skip_bad_rows_imports_the_good_rows_and_records_the_rejected_ones(
    store_engine: Engine, team: str, accounts_file: Path, tmp_path: Path
) -> None:
    run(import_accounts, store_engine, team, accounts_file)
    path = write(
        tmp_path / "deals.csv",
        "Deal ID,Stage,Amount,Account Name\nD1,Won,10,Acme Inc\nD2,Lost,5,Nowhere Ltd\nD3,Won,abc,initech\nD4,Won,7,initech\n",
    )

    summary = run(import_deals, store_engine, team, path, skip_bad_rows=True)

    assert summary.status == "imported"
    assert (summary.rows, summary.added, summary.rejected) == (4, 2, 2)
    assert [(e.line, e.column) for e in summary.errors] == [(3, "Account Name"), (4, "Amount")]
    ws = workspace_id(store_engine, team)
    with session_scope(store_engine) as session:
        assert {d.crm_id for d in crm_repo.list_deals(session=session, workspace_id=ws)} == {"D1", "D4"}
        assert summary.import_run_id is not None
        run_row = imports_repo.get_import_run(
            session=session, workspace_id=ws, import_run_id=summary.import_run_id
        )
    assert (run_row.rows_total, run_row.rows_accepted, run_row.rows_rejected) == (4, 2, 2)
    assert [e["row"] for e in run_row.errors] == [3, 4]
    assert (
        run_row.errors[0]["message"]
        == "deals.csv line 3, column 'Account Name': unknown account 'Nowhere Ltd'"
    )


def test_accounts_without_ids_are_keyed_by_name_and_joined_by_normalised_name(
    store_engine: Engine, team: str, tmp_path: Path
) -> None:
    accounts = write(
        tmp_path / "accounts.csv", 'account,sector\n"Acme, Inc.",software\nThe Globex Company,retail\n'
    )
    run(import_accounts, store_engine, team, accounts)
    assert set(accounts_of(store_engine, team)) == {"name:acme", "name:globex"}

    deals = write(
        tmp_path / "pipeline.csv", "opportunity_id,account,deal_stage\nO1,ACME inc,Won\nO2,globex co.,Lost\n"
    )
    summary = run(import_deals, store_engine, team, deals)
    assert summary.status == "imported", summary.message
    with session_scope(store_engine) as session:
        stored = crm_repo.list_deals(session=session, workspace_id=workspace_id(store_engine, team))
    assert {d.crm_id: d.account_crm_id for d in stored} == {"O1": "name:acme", "O2": "name:globex"}

    by_id = write(tmp_path / "by_id.csv", "Deal ID,Account ID,Stage\nO3,X9,Won\n")
    rejected = run(import_deals, store_engine, team, by_id)
    assert [e.reason for e in rejected.errors] == [
        "account id 'X9' cannot be matched: the accounts in this workspace have no account ids"
    ]


def test_a_name_shared_by_two_stored_accounts_is_ambiguous(
    store_engine: Engine, team: str, tmp_path: Path
) -> None:
    run(
        import_accounts,
        store_engine,
        team,
        write(tmp_path / "a.csv", "Account ID,Account Name\nB1,Acme\nB2,ACME Inc\n"),
    )

    summary = run(
        import_deals,
        store_engine,
        team,
        write(tmp_path / "d.csv", "Deal ID,Account Name,Stage\nD1,acme,Won\n"),
    )

    assert [e.reason for e in summary.errors] == [
        "ambiguous account 'acme': matches several stored accounts ('B1', 'B2')"
    ]


def test_deals_only_join_accounts_of_their_own_workspace(
    store_engine: Engine, accounts_file: Path, tmp_path: Path
) -> None:
    mine, other, empty = new_team(), new_team(), new_team()
    run(import_accounts, store_engine, mine, accounts_file)
    run(
        import_accounts,
        store_engine,
        other,
        write(tmp_path / "other.csv", "Account ID,Account Name\nZ1,Zeta\n"),
    )
    deals = write(tmp_path / "deals.csv", "Deal ID,Account Name,Stage\nD1,Acme Inc,Won\n")
    counts = table_counts(store_engine)

    crossing = run(import_deals, store_engine, other, deals)
    nowhere = run(import_deals, store_engine, empty, deals)

    assert [e.reason for e in crossing.errors] == ["unknown account 'Acme Inc'"]
    assert nowhere.status == "failed"
    assert nowhere.message.startswith(f"deals.csv: workspace '{empty}' has no accounts yet")
    assert "import the accounts first" in nowhere.message
    assert table_counts(store_engine) == counts


# --------------------------------------------------------------------------- customer health


def test_health_rows_are_joined_to_accounts(
    store_engine: Engine, team: str, accounts_file: Path, tmp_path: Path
) -> None:
    run(import_accounts, store_engine, team, accounts_file)
    path = write(
        tmp_path / "health.csv",
        "Account ID,Account Name,ARR,NPS,Churned,Churn Date,Referrals,Customer Since,CSM\n"
        "A1,,120000,45,no,,2,2020-01-15,Ana\n"
        ",Globex GmbH,80k,-20,yes,2022-06-01,0,,Ben\n",
    )

    summary = run(import_health, store_engine, team, path)

    assert summary.status == "imported", summary.message
    ws = workspace_id(store_engine, team)
    with session_scope(store_engine) as session:
        health = {h.crm_id: h for h in crm_repo.list_health(session=session, workspace_id=ws)}
    acme, globex = health["A1"], health["A2"]
    assert (acme.arr, acme.nps, acme.churned, acme.referrals, acme.churned_on) == (120000, 45, False, 2, None)
    assert acme.custom_attributes == {"CSM": "Ana", "Customer Since": "2020-01-15"}
    assert (globex.arr, globex.nps, globex.churned, globex.churned_on) == (80000, -20, True, date(2022, 6, 1))


def test_nps_survey_responses_are_not_stored_as_account_nps(
    store_engine: Engine, team: str, accounts_file: Path, tmp_path: Path
) -> None:
    run(import_accounts, store_engine, team, accounts_file)
    path = write(tmp_path / "health.csv", "Account ID,NPS\nA1,9\nA2,7\n")

    summary = run(import_health, store_engine, team, path)

    with session_scope(store_engine) as session:
        health = {
            h.crm_id: h
            for h in crm_repo.list_health(session=session, workspace_id=workspace_id(store_engine, team))
        }
    assert health["A1"].nps is None and health["A1"].custom_attributes == {"NPS": 9}
    assert any("survey responses" in f for f in summary.findings)


def test_two_health_rows_for_one_account_are_rejected(
    store_engine: Engine, team: str, accounts_file: Path, tmp_path: Path
) -> None:
    run(import_accounts, store_engine, team, accounts_file)
    path = write(tmp_path / "health.csv", 'Account ID,Account Name,ARR\nA1,,100\n,"ACME inc",200\n')
    counts = table_counts(store_engine)

    summary = run(import_health, store_engine, team, path)

    assert summary.status == "rejected"
    assert [str(e) for e in summary.errors] == [
        "health.csv line 3, column 'Account ID': a second health row for the account of line 2 ('A1')"
    ]
    assert table_counts(store_engine) == counts


# --------------------------------------------------------------------------- all or nothing, varied


@DB_SETTINGS
@given(
    flags=st.lists(st.booleans(), min_size=1, max_size=12),
    skip=st.booleans(),
)
def test_a_file_with_bad_rows_imports_nothing_unless_they_are_skipped(
    store_engine: Engine, tmp_path_factory: pytest.TempPathFactory, flags: list[bool], skip: bool
) -> None:
    """Whatever rows are bad: without skipping nothing is written; with it exactly the good rows are."""
    team = new_team()
    lines = ["Account ID,Account Name,Employees"]
    lines += [f"C{i},Company {i},{'lots' if bad else i * 10}" for i, bad in enumerate(flags)]
    path = write(tmp_path_factory.mktemp("prop") / "accounts.csv", "\n".join(lines) + "\n")
    good = {f"C{i}" for i, bad in enumerate(flags) if not bad}
    counts = table_counts(store_engine)

    summary = run(import_accounts, store_engine, team, path, skip_bad_rows=skip)

    assert summary.rejected == len(flags) - len(good)
    assert [e.line for e in summary.errors] == [i + 2 for i, bad in enumerate(flags) if bad]
    if good and (skip or good == {f"C{i}" for i in range(len(flags))}):
        assert summary.status == "imported" and summary.added == len(good)
        assert set(accounts_of(store_engine, team)) == good
        assert {k: a.employees for k, a in accounts_of(store_engine, team).items()} == {
            f"C{i}": i * 10 for i, bad in enumerate(flags) if not bad
        }
        repeat = run(import_accounts, store_engine, team, path, skip_bad_rows=skip)
        assert repeat.status == "unchanged" and (repeat.added, repeat.updated) == (0, 0)
    else:
        assert summary.status == "rejected"
        assert table_counts(store_engine) == counts


# --------------------------------------------------------------------------- the Maven CRM export


@pytest.mark.shared_data
def test_maven_crm_imports_with_the_right_counts_and_findings(store_engine: Engine, team: str) -> None:
    if not MAVEN.is_dir():
        pytest.skip(f"shared data not found at {MAVEN} (a clone without ../shared/data)")

    accounts = run(import_accounts, store_engine, team, MAVEN / "accounts.csv")
    deals = run(import_deals, store_engine, team, MAVEN / "sales_pipeline.csv")

    assert accounts.status == "imported", accounts.message
    assert (accounts.added, accounts.rejected) == (85, 0)
    mappings = accounts.mapping_lines()
    assert "industry: 'technolgy' -> 'technology' (fuzzy 95, 12 rows)" in mappings
    assert "country: 'Philipines' -> 'PH' (fuzzy 95, 1 row)" in mappings
    assert deals.status == "imported", deals.message
    assert (deals.added, deals.rejected) == (8800, 0)
    assert "1,425 open deals have no account" in deals.findings
    assert "7,375 deals joined to an account (0 by account id, 7,375 by name)" in deals.findings
    ws = workspace_id(store_engine, team)
    with session_scope(store_engine) as session:
        assert crm_repo.count_crm_rows(session=session, workspace_id=ws) == {
            "accounts": 85,
            "deals": 8800,
            "health": 0,
        }
        stored = crm_repo.list_deals(session=session, workspace_id=ws)
        names = {a.crm_id: a.name for a in crm_repo.list_accounts(session=session, workspace_id=ws)}
    joined = [d for d in stored if d.account_crm_id is not None]
    assert len(joined) == 7375 and all(d.account_crm_id in names for d in joined)
    stages = {stage: sum(d.stage == stage for d in stored) for stage in DealStage}
    assert stages == {DealStage.won: 4238, DealStage.lost: 2473, DealStage.open: 2089}
    assert not any(d.account_crm_id for d in stored if d.custom_attributes.get("account") is None)

    again = run(import_deals, store_engine, team, MAVEN / "sales_pipeline.csv")
    assert again.status == "unchanged" and (again.added, again.updated, again.unchanged) == (0, 0, 8800)
