"""The `icp` command line, driven as a user drives it: real CSV files in, exit codes and output out.

Most tests run the typer app in-process with CliRunner on small files from the seeded sample
company; two run the installed console script in a subprocess (the demo, and the progress bar,
which only shows on a real terminal).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from bot.cli.main import app
from bot.console.files import write_atomically
from icp_engine.model import ICP, load_icp
from icp_engine.sample import generate, write_csv
from tests.support.terminal import run_on_terminal

RUNNER = CliRunner()
N_ACCOUNTS = 400
SEED = 7
ICP_SCRIPT = Path(sys.executable).parent / "icp"
COMMANDS = ("analyze", "learn", "score", "backtest", "demo")

# A hand-written ICP, so single-account scores are known in advance: 100 points in all.
HAND_ICP: dict[str, Any] = {
    "name": "Mid-market SaaS",
    "criteria": [
        {"attribute": "industry", "op": "in", "values": ["software", "fintech"], "points": 40},
        {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 30},
        {"attribute": "country", "op": "in", "values": ["US", "CA"], "points": 20},
        {"attribute": "tech_stack", "op": "contains_any", "values": ["salesforce"], "points": 10},
    ],
    "disqualifiers": [{"attribute": "employees", "op": "lt", "values": [5], "reason": "too small"}],
    "tiers": {"A": 70, "B": 40},
}


# --- helpers ----------------------------------------------------------------------------------


def run(*args: str | Path) -> Result:
    return RUNNER.invoke(app, [str(a) for a in args])


def no_traceback(result: Result) -> None:
    """The command ended through an exit code, never through an exception reaching the user."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


def ok(*args: str | Path) -> Result:
    result = run(*args)
    no_traceback(result)
    assert result.exit_code == 0, result.stderr
    return result


def ok_json(*args: str | Path) -> dict[str, Any]:
    return json.loads(ok(*args, "--json").stdout)


def fails(code: int, args: Sequence[str | Path], *needles: str) -> str:
    """Our own errors: exit `code`, nothing on stdout, exactly one 'error:' line naming the problem."""
    result = run(*args)
    no_traceback(result)
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def usage_error(args: Sequence[str | Path], *needles: str) -> None:
    """Errors that typer reports itself (missing or malformed options): exit 2 with the option named."""
    result = run(*args)
    no_traceback(result)
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


def leftovers(folder: Path) -> list[str]:
    """Temporary files an interrupted write would leave behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def write_rows(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --- shared inputs ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample company's HubSpot-style exports: accounts.csv, deals.csv, health.csv."""
    return write_csv(generate(seed=SEED, n_accounts=N_ACCOUNTS), tmp_path_factory.mktemp("crm"))


@pytest.fixture(scope="module")
def closed_counts(crm: dict[str, Path]) -> tuple[int, int]:
    """(closed deals, won deals), counted straight from the deals file."""
    stages = pd.read_csv(crm["deals"], dtype=str)["Deal Stage"]
    return int(stages.isin(["closedwon", "closedlost"]).sum()), int((stages == "closedwon").sum())


@pytest.fixture(scope="module")
def flat(crm: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One flat table of closed deals with their account's attributes, as `icp backtest` reads."""
    accounts = pd.read_csv(crm["accounts"], dtype=str)
    deals = pd.read_csv(crm["deals"], dtype=str)
    deals = deals[deals["Deal Stage"].isin(["closedwon", "closedlost"])]
    joined = deals.merge(accounts, left_on="Associated Company ID", right_on="Record ID", suffixes=("", "_a"))
    table = pd.DataFrame(
        {
            "deal_id": joined["Record ID"],
            "close_date": joined["Close Date"],
            "industry": joined["Industry"],
            "employees": joined["Number of Employees"],
            "country": joined["Country/Region"],
            "tech_stack": joined["Technologies"],
            "lead_source": joined["Lead Source"],
            "amount": joined["Amount"],
            "outcome": joined["Deal Stage"],
        }
    )
    # Newest first in the file, so an ordered split has to sort by --holdout-by itself.
    table = table.sort_values("close_date", ascending=False, kind="stable")
    path = tmp_path_factory.mktemp("flat") / "deals_flat.csv"
    table.to_csv(path, index=False, lineterminator="\n")
    return path


@pytest.fixture(scope="module")
def learned_icp(crm: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("learned") / "icp.yaml"
    ok("learn", "--accounts", crm["accounts"], "--deals", crm["deals"], "-o", path)
    return path


@pytest.fixture(scope="module")
def hand_icp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hand") / "icp.yaml"
    path.write_text(yaml.safe_dump(HAND_ICP), encoding="utf-8")
    return path


# --- help -------------------------------------------------------------------------------------


def test_top_level_help_lists_every_command() -> None:
    result = ok("--help")
    for command in COMMANDS:
        assert command in result.stdout


def test_every_registered_command_has_help_text() -> None:
    """Also covers commands added later: each needs a docstring and a working --help."""
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    assert set(COMMANDS) <= set(group.commands)
    for name, command in group.commands.items():
        assert (command.help or "").strip(), f"icp {name} has no help text"
        result = ok(name, "--help")
        assert "Usage: icp " + name in " ".join(result.stdout.split()), result.stdout
        first_words = " ".join((command.help or "").split()[:3])
        assert first_words in " ".join(result.stdout.split()), (name, first_words)


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("analyze", ["--accounts", "--deals", "--health", "--map", "--best-by", "--json"]),
        ("learn", ["--accounts", "--deals", "--output", "--json"]),
        ("score", ["--icp", "--accounts", "--out", "--json"]),
        (
            "backtest",
            ["--outcome", "--won", "--features", "--holdout-by", "--holdout", "--holdout-seed", "--icp"],
        ),
        ("demo", ["--out", "--seed", "--accounts", "--engine-only"]),
    ],
)
def test_help_names_the_options_the_issue_requires(command: str, options: list[str]) -> None:
    text = ok(command, "--help").stdout
    for option in options:
        assert option in text, (command, option)


def test_no_command_shows_help_and_an_unknown_one_is_a_usage_error() -> None:
    result = run()
    assert result.exit_code == 2
    assert "Commands" in result.stdout
    usage_error(["bogus"], "No such command 'bogus'")


# --- analyze ----------------------------------------------------------------------------------


def test_analyze_json_counts_the_closed_deals_in_the_files(
    crm: dict[str, Path], closed_counts: tuple[int, int]
) -> None:
    data = ok_json("analyze", "--accounts", crm["accounts"], "--deals", crm["deals"])
    assert {"overall", "segments", "summary", "significant", "input"} <= set(data)
    closed, wins = closed_counts
    assert data["overall"]["deals"] == closed
    assert data["overall"]["wins"] == wins
    # The sample company plants "software wins more": it must be a significant segment.
    software = [s for s in data["segments"] if s["id"] == "stat:industry=software"]
    assert software and software[0]["significant"] and software[0]["lift"] > 1
    assert data["significant"] is True
    assert isinstance(data["input"]["errors"], list) and isinstance(data["input"]["findings"], list)


def test_analyze_json_is_byte_stable(crm: dict[str, Path]) -> None:
    args = ["analyze", "--accounts", crm["accounts"], "--deals", crm["deals"], "--health", crm["health"]]
    first, second = ok(*args, "--json").stdout, ok(*args, "--json").stdout
    assert first == second
    assert json.loads(first)["cohort"] is not None  # health data makes a best-customers cohort


def test_analyze_human_output_is_tables_not_json(crm: dict[str, Path]) -> None:
    out = ok("analyze", "--accounts", crm["accounts"], "--deals", crm["deals"]).stdout
    assert "Findings" in out
    assert "Segments that differ significantly" in out
    assert "software" in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


def test_analyze_map_option_points_a_field_at_a_renamed_column(crm: dict[str, Path], tmp_path: Path) -> None:
    renamed = tmp_path / "deals_renamed.csv"
    deals = pd.read_csv(crm["deals"], dtype=str).rename(columns={"Deal Stage": "Phase"})
    deals.to_csv(renamed, index=False, lineterminator="\n")
    base = ["analyze", "--accounts", crm["accounts"], "--deals", renamed]
    fails(1, base, "deals_renamed.csv", "'stage'", "--map stage=")
    mapped = ok_json(*base, "--map", "deals.stage=Phase")
    original = ok_json("analyze", "--accounts", crm["accounts"], "--deals", crm["deals"])
    assert mapped["overall"] == original["overall"]
    assert mapped["segments"] == original["segments"]


def test_analyze_bad_input_names_the_file(crm: dict[str, Path], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.csv"
    fails(1, ["analyze", "--accounts", missing, "--deals", crm["deals"]], "nowhere.csv", "not found")
    # Accounts given where deals belong: the deals file has no stage column.
    fails(
        1, ["analyze", "--accounts", crm["accounts"], "--deals", crm["accounts"]], "accounts.csv", "'stage'"
    )
    doubled = write_rows(tmp_path / "twice.csv", ["Record ID", "Industry", "Industry"], [["1", "a", "b"]])
    fails(1, ["analyze", "--accounts", doubled, "--deals", crm["deals"]], "twice.csv", "line 1", "'Industry'")


def test_analyze_deals_joined_to_no_account_is_an_error(crm: dict[str, Path], tmp_path: Path) -> None:
    other = write_rows(tmp_path / "other.csv", ["Record ID", "Company name"], [["1", "Nobody Ltd"]])
    fails(1, ["analyze", "--accounts", other, "--deals", crm["deals"]], "deals.csv", "no closed")


def test_analyze_usage_errors_exit_2(crm: dict[str, Path]) -> None:
    fails(
        2,
        ["analyze", "--accounts", crm["accounts"], "--deals", crm["deals"], "--best-by", "size"],
        "--best-by",
        "'size'",
    )
    usage_error(["analyze", "--accounts", crm["accounts"]], "--deals")
    usage_error(
        ["analyze", "--accounts", crm["accounts"], "--deals", crm["deals"], "--alpha", "x"], "--alpha"
    )


# --- learn ------------------------------------------------------------------------------------


def test_learn_writes_a_loadable_icp_and_reports_it(crm: dict[str, Path], tmp_path: Path) -> None:
    out_file = tmp_path / "icp.yaml"
    result = ok("learn", "--accounts", crm["accounts"], "--deals", crm["deals"], "-o", out_file)
    icp = load_icp(out_file)
    assert icp.criteria, "the sample company has planted patterns to learn"
    assert {"industry"} <= {a for c in icp.criteria for a in c.attributes}
    assert f"Wrote {out_file}\n" in result.stdout  # one line, however long the path
    assert "ICP 'Learned ICP'" in result.stdout
    assert leftovers(tmp_path) == []


def test_learn_json_matches_the_file_and_is_byte_stable(crm: dict[str, Path], tmp_path: Path) -> None:
    runs = []
    for name in ("a.json", "b.json"):
        path = tmp_path / name
        out = ok("learn", "--accounts", crm["accounts"], "--deals", crm["deals"], "-o", path, "--json").stdout
        runs.append((out, path.read_bytes()))
    assert runs[0] == runs[1]
    data = json.loads(runs[0][0])
    assert set(data) == {"icp", "significant", "target", "characteristics", "selection", "notes"}
    assert data["significant"] is True and data["target"] == "win"
    icp = ICP.from_dict(data["icp"])
    # Per characteristic: its bins with their signed points and how the deals in each bin did.
    assert [c["name"] for c in data["characteristics"]] == [ch.name for ch in icp.characteristics]
    for stats, ch in zip(data["characteristics"], icp.characteristics, strict=True):
        assert [b["points"] for b in stats["bins"]] == [b.points for b in ch.bins]
        assert all(b["deals"] > 0 for b in stats["bins"])
    assert any(b.points < 0 for b in icp.criteria), "centred points: some bins win less than average"
    assert ICP.from_dict(data["icp"]) == load_icp(tmp_path / "a.json")


def test_learn_usage_and_output_errors_write_nothing(crm: dict[str, Path], tmp_path: Path) -> None:
    base = ["learn", "--accounts", crm["accounts"], "--deals", crm["deals"]]
    fails(2, [*base, "-o", tmp_path / "icp.txt"], "icp.txt", ".yaml")
    fails(1, [*base, "-o", tmp_path / "no" / "icp.yaml"], "-o/--output", "does not exist")
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    fails(1, [*base, "-o", folder], "-o/--output", "is a folder")
    usage_error(base, "--output")
    assert [p.name for p in tmp_path.iterdir()] == ["folder.yaml"]
    assert list(folder.iterdir()) == []


def test_learn_failure_leaves_an_existing_icp_untouched(crm: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "icp.yaml"
    target.write_text("previous version\n", encoding="utf-8")
    fails(1, ["learn", "--accounts", crm["accounts"], "--deals", crm["accounts"], "-o", target], "'stage'")
    assert target.read_text(encoding="utf-8") == "previous version\n"
    assert leftovers(tmp_path) == []


# --- score: one account -----------------------------------------------------------------------


def test_score_one_account_json(hand_icp: Path) -> None:
    best = ok_json(
        "score",
        "--icp",
        hand_icp,
        "industry=Software",
        "employees=500",
        "country=USA",
        "tech_stack=Salesforce",
    )
    # 100 points = five doublings of the average account's odds: 100 / (1 + 2**-5) = 97.0.
    assert (best["score"], best["earned"], best["tier"], best["disqualified"]) == (97.0, 100.0, "A", False)
    assert [c["points"] for c in best["characteristics"]] == [40, 30, 20, 10]
    assert best["icp_name"] == "Mid-market SaaS"
    small = ok_json("score", "--icp", hand_icp, "industry=software", "employees=3", "country=US")
    assert (small["tier"], small["disqualified"]) == ("C", True)
    partial = ok_json("score", "--icp", hand_icp, "industry=retail", "employees=500", "country=DE")
    statuses = {line["criterion"].split()[0]: line["status"] for line in partial["lines"]}
    assert statuses == {
        "industry": "missed",
        "employees": "matched",
        "country": "missed",
        "tech_stack": "unknown",
    }
    assert partial["unknown"] == ["tech_stack"]


def test_score_one_account_human_card(hand_icp: Path) -> None:
    out = ok("score", "--icp", hand_icp, "industry=fintech", "employees=300", "country=CA").stdout
    assert "tier A" in out and "Mid-market SaaS" in out
    assert "+90 points" in out and "Why: ✓ industry: fintech (+40)" in out
    assert "Unknown: tech_stack — add them: icp score … tech_stack=…" in out
    assert "Play: Work it now" in out


def test_score_json_is_byte_stable(learned_icp: Path) -> None:
    args = ["score", "--icp", learned_icp, "industry=software", "employees=250", "country=US", "--json"]
    assert ok(*args).stdout == ok(*args).stdout


def test_score_usage_errors_exit_2(hand_icp: Path, crm: dict[str, Path], tmp_path: Path) -> None:
    fails(2, ["score", "--icp", hand_icp], "attribute=value", "--accounts")
    fails(2, ["score", "--icp", hand_icp, "industry"], "expected attribute=value", "'industry'")
    fails(2, ["score", "--icp", hand_icp, "=software"], "'=software'")
    both = [
        "score",
        "--icp",
        hand_icp,
        "industry=x",
        "--accounts",
        crm["accounts"],
        "--out",
        tmp_path / "s.csv",
    ]
    fails(2, both, "not both")
    fails(2, ["score", "--icp", hand_icp, "--accounts", crm["accounts"]], "--out")
    # A usage error is reported before any file is read, even when the ICP does not exist.
    fails(2, ["score", "--icp", tmp_path / "missing.yaml"], "attribute=value")
    assert list(tmp_path.iterdir()) == []


def test_score_bad_values_and_bad_icp_files_exit_1(hand_icp: Path, tmp_path: Path) -> None:
    fails(1, ["score", "--icp", hand_icp, "employees=lots"], "employees", "'lots'")
    fails(1, ["score", "--icp", tmp_path / "gone.yaml", "industry=x"], "gone.yaml", "not found")
    broken = dict(
        HAND_ICP, criteria=[{"attribute": "employees", "op": "between", "values": [1], "points": 5}]
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(broken), encoding="utf-8")
    fails(1, ["score", "--icp", bad, "industry=x"], "bad.yaml", "criteria[0]")
    garbage = tmp_path / "garbage.yaml"
    garbage.write_text("just: [unclosed\n", encoding="utf-8")
    fails(1, ["score", "--icp", garbage, "industry=x"], "garbage.yaml")


pair_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30
).filter(lambda s: "=" not in s and s.strip() != "")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=pair_text)
def test_a_malformed_pair_is_quoted_exactly_as_typed(hand_icp: Path, text: str) -> None:
    """Whatever the user typed (rich markup, ':emoji:' codes, brackets) comes back verbatim, one line."""
    line = fails(2, ["score", "--icp", hand_icp, "--", text], "expected attribute=value")
    assert f"got '{text}'" in line


def test_markup_like_values_print_as_written(tmp_path: Path, flat: Path) -> None:
    """ICP names and values with '[/b]' or ':rocket:' must neither crash rich nor turn into emoji."""
    icp = dict(
        HAND_ICP,
        name="[bold]Acme[/bold] :rocket:",
        criteria=[{"attribute": "industry", "op": "in", "values": ["[/x]", "software"], "points": 50}],
    )
    path = tmp_path / "odd.yaml"
    path.write_text(yaml.safe_dump(icp), encoding="utf-8")
    out = ok("backtest", flat, "--outcome", "outcome", "--won", "closedwon", "--icp", path).stdout
    assert "[bold]Acme[/bold] :rocket:" in out and "🚀" not in out
    assert "[/x]" in out  # the ICP table lists the bin's values as written
    card = ok("score", "--icp", path, "industry=[/x]").stdout
    assert "[bold]Acme[/bold] :rocket:" in card
    assert "Why: ✓ industry: [/x] (+50)" in card  # the value as typed, not rich markup


# --- score: a file of accounts ----------------------------------------------------------------


def test_score_batch_writes_one_row_per_account(
    learned_icp: Path, crm: dict[str, Path], tmp_path: Path
) -> None:
    out_file = tmp_path / "scores.csv"
    result = ok("score", "--icp", learned_icp, "--accounts", crm["accounts"], "--out", out_file)
    scores = pd.read_csv(out_file, dtype={"account_id": str})
    accounts = pd.read_csv(crm["accounts"], dtype=str)
    assert list(scores.columns[:4]) == ["account_id", "name", "score", "tier"]
    assert list(scores["account_id"]) == list(accounts["Record ID"])
    assert scores["score"].between(0, 100).all()
    assert set(scores["tier"]) <= {"A", "B", "C"}
    assert f"Scored {N_ACCOUNTS:,} accounts" in result.stdout
    assert "Scoring" not in result.stdout  # no progress bar when stdout is not a terminal
    assert leftovers(tmp_path) == []


def test_score_batch_json_summary_matches_the_file(
    learned_icp: Path, crm: dict[str, Path], tmp_path: Path
) -> None:
    runs = []
    for name in ("one.csv", "two.csv"):
        path = tmp_path / name
        out = ok("score", "--icp", learned_icp, "--accounts", crm["accounts"], "--out", path, "--json").stdout
        runs.append((out.replace(name, "X"), path.read_bytes()))
    assert runs[0] == runs[1]
    summary = json.loads(runs[0][0])
    tiers = pd.read_csv(tmp_path / "one.csv")["tier"].value_counts().to_dict()
    assert summary["scored"] == N_ACCOUNTS and summary["rejected"] == 0
    assert summary["tiers"] == {t: int(tiers.get(t, 0)) for t in ("A", "B", "C")}
    assert summary["icp"] == "Learned ICP"


def test_score_single_and_batch_agree(learned_icp: Path, crm: dict[str, Path], tmp_path: Path) -> None:
    out_file = tmp_path / "scores.csv"
    ok("score", "--icp", learned_icp, "--accounts", crm["accounts"], "--out", out_file)
    batch = pd.read_csv(out_file, dtype={"account_id": str}).set_index("account_id")
    columns = {
        "Industry": "industry",
        "Number of Employees": "employees",
        "Annual Revenue": "annual_revenue",
        "Country/Region": "country",
        "Technologies": "tech_stack",
        "Lead Source": "Lead Source",
    }
    accounts = pd.read_csv(crm["accounts"], dtype=str, keep_default_na=False).head(30)
    for _, row in accounts.iterrows():
        pairs = [f"{field}={row[column]}" for column, field in columns.items()]
        single = ok_json("score", "--icp", learned_icp, *pairs)
        expected = batch.loc[row["Record ID"]]
        assert single["score"] == pytest.approx(expected["score"], abs=1e-9), row.to_dict()
        assert single["tier"] == expected["tier"]


FIELDS = ("industry", "employees", "annual_revenue", "country", "tech_stack")
field_values = {
    "industry": st.sampled_from(["Software", "SaaS", "fintech", "Retail", "Technolgy", "Aerospace", ""]),
    "employees": st.one_of(
        st.integers(0, 60_000).map(str), st.sampled_from(["5k", "2,000-5,000", "1.4k", "10,000+", ""])
    ),
    "annual_revenue": st.sampled_from(["$2.5M", "10M+", "1200000", "€40,000,000", ""]),
    "country": st.sampled_from(["US", "USA", "United States", "Canada", "Deutschland", "Atlantis", ""]),
    "tech_stack": st.sampled_from(["Salesforce; Slack", "hubspot, jira", "Salesforce", "", "SFDC"]),
}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.fixed_dictionaries(field_values), min_size=1, max_size=4))
def test_score_single_and_batch_agree_on_any_values(
    hand_icp: Path, tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, str]]
) -> None:
    folder = tmp_path_factory.mktemp("agree")
    accounts = write_rows(
        folder / "accounts.csv",
        ["account_id", "name", *FIELDS],
        [[f"a{i}", f"Company {i}", *(row[f] for f in FIELDS)] for i, row in enumerate(rows)],
    )
    summary = ok_json("score", "--icp", hand_icp, "--accounts", accounts, "--out", folder / "s.csv")
    assert summary["scored"] == len(rows)
    batch = pd.read_csv(folder / "s.csv")
    for i, row in enumerate(rows):
        single = ok_json("score", "--icp", hand_icp, *(f"{f}={row[f]}" for f in FIELDS))
        assert single["score"] == pytest.approx(batch["score"][i], abs=1e-9), row
        assert single["tier"] == batch["tier"][i]


def test_score_batch_reports_skipped_rows_with_file_and_line(hand_icp: Path, tmp_path: Path) -> None:
    accounts = write_rows(
        tmp_path / "acc.csv",
        ["account_id", "name", "industry", "employees"],
        [
            ["1", "Good Co", "software", "500"],
            ["2", "Bad Co", "software", "lots"],
            ["3", "Fine Co", "retail", "50"],
        ],
    )
    out_file = tmp_path / "s.csv"
    result = ok("score", "--icp", hand_icp, "--accounts", accounts, "--out", out_file)
    assert "skipped: acc.csv line 3, column 'employees'" in result.stderr
    assert "'lots'" in result.stderr
    assert list(pd.read_csv(out_file)["name"]) == ["Good Co", "Fine Co"]
    summary = ok_json("score", "--icp", hand_icp, "--accounts", accounts, "--out", out_file)
    assert summary["rejected"] == 1 and summary["scored"] == 2
    assert summary["errors"] == [e for e in summary["errors"] if "acc.csv line 3" in e]


def test_score_batch_errors_leave_no_partial_output(
    hand_icp: Path, crm: dict[str, Path], tmp_path: Path
) -> None:
    target = tmp_path / "scores.csv"
    target.write_text("previous scores\n", encoding="utf-8")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    fails(1, ["score", "--icp", hand_icp, "--accounts", empty, "--out", target], "empty.csv", "empty")
    fails(
        1, ["score", "--icp", tmp_path / "x.yaml", "--accounts", crm["accounts"], "--out", target], "x.yaml"
    )
    assert target.read_text(encoding="utf-8") == "previous scores\n"
    fails(
        1,
        ["score", "--icp", hand_icp, "--accounts", crm["accounts"], "--out", tmp_path],
        "--out",
        "is a folder",
    )
    lost = tmp_path / "no" / "s.csv"
    fails(
        1,
        ["score", "--icp", hand_icp, "--accounts", crm["accounts"], "--out", lost],
        "--out",
        "does not exist",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv", "scores.csv"]


def test_write_atomically_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n", encoding="utf-8")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("half a fi", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, half_then_fail)
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    write_atomically(target, lambda tmp: tmp.write_text("new\n", encoding="utf-8"))
    assert target.read_text(encoding="utf-8") == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_score_batch_shows_a_progress_bar_on_a_terminal(
    hand_icp: Path, crm: dict[str, Path], tmp_path: Path
) -> None:
    out_file = tmp_path / "scores.csv"
    run = run_on_terminal(
        [ICP_SCRIPT, "score", "--icp", hand_icp, "--accounts", crm["accounts"], "--out", out_file], timeout=60
    )
    assert run.returncode == 0, run.stderr
    text = run.screen
    assert "Scoring" in text and "100%" in text
    assert f"Scored {N_ACCOUNTS:,} accounts" in text
    assert len(pd.read_csv(out_file)) == N_ACCOUNTS


# --- backtest ---------------------------------------------------------------------------------

BACKTEST = ["--outcome", "outcome", "--won", "closedwon"]
FEATURES = ["--features", "industry,employees,country,tech_stack,lead_source"]


def test_backtest_json_shape(flat: Path, closed_counts: tuple[int, int]) -> None:
    data = ok_json("backtest", flat, *BACKTEST, *FEATURES, "--holdout-by", "close_date", "--holdout", "0.2")
    required = {"auc", "top_tier_lift", "tiers", "n_train", "n_test", "criteria_count", "significant"}
    assert required <= set(data)
    closed, _ = closed_counts
    assert data["n_train"] + data["n_test"] == closed
    assert data["n_test"] == round(closed * 0.2)
    assert isinstance(data["significant"], bool) and data["significant"] is True
    icp = ICP.from_dict(data["icp"])
    assert isinstance(data["criteria_count"], int) and data["criteria_count"] == len(icp.criteria)
    assert data["characteristic_count"] == len(icp.characteristics) == len(data["characteristics"]) > 0
    assert 0.0 <= data["auc"] <= 1.0
    assert data["auc"] > 0.55, "the sample company's planted patterns should rank held-out deals"
    assert [t["tier"] for t in data["tiers"]] == ["A", "B", "C"]
    for tier in data["tiers"]:
        assert {"tier", "n", "win_rate"} <= set(tier)
        assert isinstance(tier["n"], int) and 0.0 <= tier["win_rate"] <= 1.0
    assert sum(t["n"] for t in data["tiers"]) == data["n_test"]
    assert data["tiers"][0]["win_rate"] > data["tiers"][-1]["win_rate"]


def test_backtest_json_is_byte_stable(flat: Path) -> None:
    for split in (["--holdout-by", "close_date"], ["--holdout-seed", "3"]):
        args = ["backtest", flat, *BACKTEST, *split, "--holdout", "0.25", "--json"]
        assert ok(*args).stdout == ok(*args).stdout


def test_backtest_without_features_skips_id_and_date_columns(flat: Path) -> None:
    data = ok_json("backtest", flat, *BACKTEST, "--holdout-by", "close_date", "--holdout", "0.2")
    assert "deal_id" not in data["features"]
    assert "amount" not in data["features"]
    assert "close_date" not in data["features"]
    assert {"industry", "country"} <= set(data["features"])


def test_backtest_holds_out_the_latest_rows_by_the_given_column(tmp_path: Path) -> None:
    """Segment X wins in the older 80% and loses in the newest 20%: only an ordered split sees the flip."""
    rows = []
    for i in range(500):
        newest = i >= 400
        segment = "X" if i % 2 else "Y"
        x_wins = (i % 10) in (1, 3, 5, 7, 9) and (i % 20 != 19)  # X wins ~90% of its deals
        y_wins = i % 20 == 0  # Y wins ~10%
        won = (segment == "X" and x_wins) or (segment == "Y" and y_wins)
        if newest:
            won = not won
        rows.append([f"d{i}", f"2024-{1 + i // 45:02d}-{1 + i % 28:02d}", segment, "won" if won else "lost"])
    rows.reverse()  # file order is newest first: the split must sort by --holdout-by
    table = write_rows(tmp_path / "drift.csv", ["deal_id", "signed_on", "segment", "result"], rows)
    args = [
        "backtest",
        table,
        "--outcome",
        "result",
        "--won",
        "won",
        "--features",
        "segment",
        "--holdout",
        "0.2",
    ]
    ordered = ok_json(*args, "--holdout-by", "signed_on")
    assert ordered["n_test"] == 100
    assert ordered["auc"] < 0.2  # learned "X wins", tested on rows where X loses
    shuffled = ok_json(*args, "--holdout-seed", "1")
    assert shuffled["auc"] > 0.6


def test_backtest_a_given_icp(flat: Path, hand_icp: Path, closed_counts: tuple[int, int]) -> None:
    data = ok_json("backtest", flat, *BACKTEST, "--icp", hand_icp)
    closed, _ = closed_counts
    assert (data["n_train"], data["n_test"]) == (0, closed)
    assert data["criteria_count"] == len(HAND_ICP["criteria"])
    assert sum(t["n"] for t in data["tiers"]) == closed
    out = ok("backtest", flat, *BACKTEST, "--icp", hand_icp).stdout
    assert "Backtest: AUC" in out and "Held-out" not in out


def test_backtest_human_output(flat: Path) -> None:
    out = ok("backtest", flat, *BACKTEST, *FEATURES, "--holdout-by", "close_date", "--holdout", "0.2").stdout
    assert "Held-out test (" in " ".join(out.split())
    assert "AUC" in out and "A Best match" in out


def test_backtest_usage_errors_exit_2(flat: Path, hand_icp: Path) -> None:
    base = ["backtest", flat, *BACKTEST]
    fails(2, base, "--holdout", "--icp")
    fails(
        2, [*base, "--holdout", "0.2", "--holdout-by", "close_date", "--icp", hand_icp], "--holdout", "--icp"
    )
    fails(2, [*base, "--holdout", "1.5", "--holdout-by", "close_date"], "--holdout", "1.5")
    fails(2, [*base, "--holdout", "0", "--holdout-by", "close_date"], "--holdout")
    fails(2, [*base, "--holdout", "0.2"], "--holdout-by", "--holdout-seed")
    fails(2, [*base, "--holdout", "0.2", "--holdout-by", "close_date", "--holdout-seed", "1"], "--holdout-by")
    usage_error(["backtest", flat, "--won", "closedwon", "--holdout", "0.2"], "--outcome")
    usage_error([*base, "--holdout", "abc", "--holdout-by", "close_date"], "--holdout")


def test_backtest_bad_input_exit_1(flat: Path, tmp_path: Path) -> None:
    split = ["--holdout", "0.2", "--holdout-by", "close_date"]
    line = fails(
        1, ["backtest", flat, "--outcome", "result", "--won", "won", *split], "deals_flat.csv", "'result'"
    )
    assert "columns are: deal_id, close_date" in line
    fails(
        1,
        ["backtest", flat, *BACKTEST, "--holdout", "0.2", "--holdout-by", "signed"],
        "deals_flat.csv",
        "'signed'",
    )
    fails(1, ["backtest", flat, *BACKTEST, "--features", "industry,size", *split], "'size'")
    fails(
        1,
        ["backtest", flat, "--outcome", "outcome", "--won", "Won!", *split],
        "deals_flat.csv",
        "Won!",
        "closedlost",
    )
    fails(1, ["backtest", tmp_path / "none.csv", *BACKTEST, *split], "none.csv", "not found")
    tiny = write_rows(
        tmp_path / "tiny.csv",
        ["close_date", "industry", "outcome"],
        [["2024-01-01", "a", "closedwon"], ["2024-01-02", "b", "closedlost"]],
    )
    fails(1, ["backtest", tiny, *BACKTEST, *split], "tiny.csv", "too few")


# --- demo -------------------------------------------------------------------------------------


def test_demo_in_process_is_deterministic(tmp_path: Path) -> None:
    outputs = []
    for name in ("one", "two"):
        folder = tmp_path / name
        result = ok("demo", "--engine-only", "--accounts", "300", "--seed", "3", "--out", folder)
        outputs.append((folder / "icp.yaml").read_bytes())
        assert result.stdout.count("─") > 0  # rich rules between the sections
    assert outputs[0] == outputs[1]
    usage_error(["demo", "--accounts", "0"], "--accounts")


@pytest.mark.slow
def test_demo_console_script_runs_the_whole_engine_flow(tmp_path: Path) -> None:
    """`icp demo --engine-only` as installed: every engine stage prints, and the artefacts are
    usable (the Slack part is tests/integration/test_demo.py)."""
    assert ICP_SCRIPT.exists(), f"console script not installed at {ICP_SCRIPT}"
    out_dir = tmp_path / "demo"
    process = subprocess.run(
        [ICP_SCRIPT, "demo", "--engine-only", "--out", out_dir],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "100"},
        cwd=tmp_path,
    )
    assert process.returncode == 0, process.stderr
    assert "Traceback" not in process.stderr
    for heading in (
        "1. A sample company's CRM exports",
        "2. What the data says",
        "3. A data-backed draft ICP",
        "4. Backtest on the newest 20% of deals",
        "5. Scoring accounts",
    ):
        assert heading in process.stdout
    assert "Generated 2,000 accounts (seed 7)" in process.stdout
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "accounts.csv",
        "deals.csv",
        "health.csv",
        "icp.yaml",
        "transcript.md",
    ]
    icp = load_icp(out_dir / "icp.yaml")
    assert icp.name == "Sample company ICP" and icp.version == 1 and icp.criteria
    transcript = (out_dir / "transcript.md").read_text(encoding="utf-8")
    assert "5. Scoring accounts" in transcript and "Held-out deals: AUC" in transcript
    # The artefacts feed the other commands.
    scored = ok_json(
        "score",
        "--icp",
        out_dir / "icp.yaml",
        "--accounts",
        out_dir / "accounts.csv",
        "--out",
        tmp_path / "scores.csv",
    )
    assert scored["scored"] == 2000
