"""`icp import ...` and `icp db upgrade` as a user runs them, against SQLite and PostgreSQL.

The sub-apps are mounted on a small root app the way bot/cli/main.py mounts them; the database is
chosen through DATABASE_URL, as in production. Exit codes, stdout, stderr and --json are checked.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect
from typer.testing import CliRunner

from bot.services.imports.service import AUDIT_ACTION
from bot.store import head_revision, make_engine, session_scope
from bot.store.repo import audit as audit_repo
from bot.store.repo import crm as crm_repo
from tests.support.import_support import (
    ACCOUNTS_CSV,
    cli_root,
    engine_url,
    new_team,
    run_cli,
    table_counts,
    workspace_id,
    write,
)

SUMMARY_KEYS = {
    "ok",
    "status",
    "message",
    "kind",
    "file",
    "workspace",
    "rows",
    "added",
    "updated",
    "unchanged",
    "rejected",
    "import_run_id",
    "checksum",
    "previous_import",
    "errors",
    "errors_omitted",
    "findings",
    "mappings",
    "statistics_indexed",
    "statistics_error",
}


@pytest.fixture
def url(store_engine: Engine) -> str:
    return engine_url(store_engine)


@pytest.fixture
def accounts_file(tmp_path: Path) -> Path:
    return write(tmp_path / "companies.csv", ACCOUNTS_CSV)


def test_the_import_commands_are_mounted() -> None:
    result = CliRunner().invoke(cli_root(), ["import", "--help"])
    assert result.exit_code == 0
    assert all(name in result.stdout for name in ("accounts", "deals", "health"))


def test_import_accounts_prints_a_summary_and_exits_0(
    url: str, store_engine: Engine, accounts_file: Path
) -> None:
    team = new_team()
    result = run_cli(url, ["import", "accounts", str(accounts_file), "--workspace", team])

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"companies.csv: imported 3 accounts into workspace '{team}' (run #")
    assert lines[0].endswith("3 added, 0 updated, 0 unchanged, 0 rejected")
    assert "Data quality:" in lines
    assert any(line.startswith("  - industry: 'Technolgy' -> 'technology' (fuzzy") for line in lines)
    ws = workspace_id(store_engine, team)
    with session_scope(store_engine) as session:
        audit = audit_repo.list_audit(session=session, workspace_id=ws, action=AUDIT_ACTION)
    assert [entry.actor for entry in audit] == [getpass.getuser()]


def test_json_output_is_one_stable_object(url: str, accounts_file: Path, tmp_path: Path) -> None:
    team = new_team()
    first = run_cli(url, ["import", "accounts", str(accounts_file), "--workspace", team, "--json"])
    again = run_cli(url, ["import", "accounts", str(accounts_file), "--workspace", team, "--json"])

    assert first.exit_code == 0 and again.exit_code == 0
    doc, repeat = json.loads(first.stdout), json.loads(again.stdout)
    assert set(doc) == set(repeat) == SUMMARY_KEYS
    assert (doc["ok"], doc["status"], doc["kind"], doc["workspace"]) == (True, "imported", "accounts", team)
    assert (doc["rows"], doc["added"], doc["updated"], doc["unchanged"], doc["rejected"]) == (3, 3, 0, 0, 0)
    fuzzy = [m for m in doc["mappings"] if m["method"] == "fuzzy"]
    assert {(m["field"], m["raw"], m["value"], m["rows"]) for m in fuzzy} == {
        ("industry", "Technolgy", "technology", 1),
        ("country", "Philipines", "PH", 1),
    }
    assert (repeat["status"], repeat["added"], repeat["updated"], repeat["unchanged"]) == (
        "unchanged",
        0,
        0,
        3,
    )
    assert repeat["previous_import"]["run_id"] == doc["import_run_id"] == repeat["import_run_id"]


def test_reimporting_says_it_was_already_imported(url: str, accounts_file: Path) -> None:
    team = new_team()
    run_cli(url, ["import", "accounts", str(accounts_file), "--workspace", team])
    again = run_cli(url, ["import", "accounts", str(accounts_file), "--workspace", team])

    assert again.exit_code == 0
    first_line = again.stdout.splitlines()[0]
    assert first_line.startswith("companies.csv: already imported on ")
    assert first_line.endswith("): nothing changed")


def test_rejected_rows_are_all_listed_up_to_a_cap_and_nothing_is_imported(
    url: str, store_engine: Engine, tmp_path: Path
) -> None:
    rows = "".join(f"C{i},Company {i},{'lots' if i % 2 else i}\n" for i in range(120))
    path = write(tmp_path / "accounts.csv", "Account ID,Account Name,Employees\n" + rows)
    before = table_counts(store_engine)

    result = run_cli(url, ["import", "accounts", str(path), "--workspace", new_team()])

    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "error: accounts.csv: 60 of 120 rows rejected; nothing was imported "
        "(fix them, or use --skip-bad-rows to import the other 60)"
    )
    assert lines[1] == "  accounts.csv line 3, column 'Employees': not a number: 'lots'"
    assert len(lines) == 1 + 50 + 1 and lines[-1] == "  ... and 10 more"
    assert table_counts(store_engine) == before


def test_skip_bad_rows_imports_the_rest_and_lists_what_was_skipped(
    url: str, store_engine: Engine, tmp_path: Path
) -> None:
    team = new_team()
    path = write(
        tmp_path / "accounts.csv", "Account ID,Account Name,Employees\nC1,One,10\nC2,Two,lots\nC3,Three,-3\n"
    )

    result = run_cli(url, ["import", "accounts", str(path), "--workspace", team, "--skip-bad-rows"])

    assert result.exit_code == 0, result.output
    assert "1 added, 0 updated, 0 unchanged, 2 rejected" in result.stdout
    assert "Rejected rows (skipped, 2):" in result.stdout
    assert "  accounts.csv line 3, column 'Employees': not a number: 'lots'" in result.stdout
    assert "  accounts.csv line 4, column 'Employees': negative value: '-3'" in result.stdout
    with session_scope(store_engine) as session:
        stored = crm_repo.list_accounts(session=session, workspace_id=workspace_id(store_engine, team))
    assert [a.crm_id for a in stored] == ["C1"]


def test_a_failure_with_json_prints_the_document_and_one_error_line(
    url: str, store_engine: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path / "accounts.csv", "Account ID,Account Name,Employees\nC1,One,10\nC2,Two,lots\n")

    result = run_cli(url, ["import", "accounts", str(path), "--workspace", new_team(), "--json"])

    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert (doc["ok"], doc["status"], doc["rejected"], doc["import_run_id"]) == (False, "rejected", 1, None)
    assert doc["errors"] == [
        {
            "file": "accounts.csv",
            "line": 3,
            "column": "Employees",
            "reason": "not a number: 'lots'",
            "message": "accounts.csv line 3, column 'Employees': not a number: 'lots'",
        }
    ]
    assert result.stderr.splitlines() == [f"error: {doc['message']}"]


def test_deals_and_health_follow_accounts(
    url: str, store_engine: Engine, accounts_file: Path, tmp_path: Path
) -> None:
    team = new_team()
    deals = write(tmp_path / "deals.csv", "Deal ID,Account ID,Stage,Amount\nD1,A1,Won,100\nD2,A2,Lost,50\n")
    health = write(tmp_path / "health.csv", "Account ID,ARR\nA1,1000\n")

    early = run_cli(url, ["import", "deals", str(deals), "--workspace", team])
    assert early.exit_code == 1
    assert early.stderr.splitlines() == [
        f"error: deals.csv: workspace '{team}' has no accounts yet; deals are joined to stored accounts, "
        f"so import the accounts first (icp import accounts FILE --workspace {team})"
    ]

    assert run_cli(url, ["import", "accounts", str(accounts_file), "--workspace", team]).exit_code == 0
    deal_run = run_cli(url, ["import", "deals", str(deals), "--workspace", team])
    health_run = run_cli(url, ["import", "health", str(health), "--workspace", team])

    assert deal_run.exit_code == 0 and health_run.exit_code == 0, deal_run.output + health_run.output
    assert "imported 2 deals" in deal_run.stdout and "imported 1 health record " in health_run.stdout
    with session_scope(store_engine) as session:
        counts = crm_repo.count_crm_rows(session=session, workspace_id=workspace_id(store_engine, team))
    assert counts == {"accounts": 3, "deals": 2, "health": 1}


def test_map_options_pick_columns_the_aliases_do_not_know(
    url: str, store_engine: Engine, tmp_path: Path
) -> None:
    team = new_team()
    path = write(tmp_path / "firmen.csv", "Nummer,Firma,Branche,Land\n17,Acme AG,Software,Deutschland\n")

    result = run_cli(
        url,
        [
            "import",
            "accounts",
            str(path),
            "--workspace",
            team,
            "--map",
            "account_id=Nummer",
            "--map",
            "name=Firma",
            "--map",
            "industry=Branche",
            "--map",
            "country=Land",
        ],
    )

    assert result.exit_code == 0, result.output
    with session_scope(store_engine) as session:
        (acme,) = crm_repo.list_accounts(session=session, workspace_id=workspace_id(store_engine, team))
    assert (acme.crm_id, acme.name, acme.industry, acme.country, acme.custom_attributes) == (
        "17",
        "Acme AG",
        "software",
        "DE",
        {},
    )


def test_the_default_workspace_comes_from_the_settings(
    url: str, store_engine: Engine, accounts_file: Path
) -> None:
    team = new_team()
    result = run_cli(url, ["import", "accounts", str(accounts_file)], DEFAULT_WORKSPACE=team)

    assert result.exit_code == 0, result.output
    assert f"into workspace '{team}'" in result.stdout
    workspace_id(store_engine, team)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workspace", "W" * 40], "error: workspace id must be 1 to 32 characters, got '" + "W" * 40 + "'"),
        (["--revenue-unit", "-1"], "error: --revenue-unit must be a positive number (got -1.0)"),
    ],
    ids=["workspace-too-long", "negative-revenue-unit"],
)
def test_bad_options_give_one_error_line(
    url: str, store_engine: Engine, accounts_file: Path, args: list[str], message: str
) -> None:
    before = table_counts(store_engine)
    result = run_cli(url, ["import", "accounts", str(accounts_file), *args])

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [message]
    assert table_counts(store_engine) == before


def test_an_unusable_database_url_is_one_error_line(accounts_file: Path) -> None:
    result = run_cli("mysql://somewhere/db", ["import", "accounts", str(accounts_file)])

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: DATABASE_URL 'mysql://somewhere/db': only sqlite and postgresql are supported"
    ]


def test_db_upgrade_brings_an_empty_database_to_head(empty_db_url: str) -> None:
    result = run_cli(empty_db_url, ["db", "upgrade"])
    repeat = run_cli(empty_db_url, ["db", "upgrade"])

    assert result.exit_code == 0 and repeat.exit_code == 0, result.output
    assert result.stdout.strip().endswith(f"is at revision {head_revision()}")
    assert repeat.stdout == result.stdout
    engine = make_engine(empty_db_url)
    try:
        assert {"account", "deal", "customer_health", "import_run"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_an_import_needs_an_upgraded_postgresql_but_sqlite_upgrades_itself(
    empty_db_url: str, accounts_file: Path
) -> None:
    result = run_cli(empty_db_url, ["import", "accounts", str(accounts_file), "--workspace", new_team()])

    if empty_db_url.startswith("sqlite"):
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [
            f"error: the database schema is at nothing, this version needs {head_revision()}: run `icp db upgrade`"
        ]


def test_an_import_regenerates_the_statistic_summaries(url: str, tmp_path: Path) -> None:
    from bot.knowledge.store import KnowledgeStore
    from icp_engine import sample

    paths = sample.write_csv(sample.generate(5, 600), tmp_path / "crm")
    team, data_dir = new_team(), tmp_path / "data"
    accounts = run_cli(url, ["import", "accounts", str(paths["accounts"]), "-w", team], data_dir=data_dir)
    deals = run_cli(url, ["import", "deals", str(paths["deals"]), "-w", team, "--json"], data_dir=data_dir)
    again = run_cli(url, ["import", "deals", str(paths["deals"]), "-w", team, "--json"], data_dir=data_dir)

    assert accounts.exit_code == 0 and "statistic summaries regenerated" in accounts.stdout
    doc = json.loads(deals.stdout)
    assert doc["statistics_error"] is None and doc["statistics_indexed"] >= 2
    repeat = json.loads(again.stdout)  # nothing written, so nothing to regenerate
    assert (repeat["status"], repeat["statistics_indexed"]) == ("unchanged", None)
    store = KnowledgeStore(path=data_dir / "chroma")
    assert store.count(workspace=team, kind="statistic") == doc["statistics_indexed"]
    hits = store.search(workspace=team, query="which industry wins most often", kinds=["statistic"], k=3)
    assert hits and all(hit.kind == "statistic" for hit in hits)
