"""`icp backtest --features` and `icp learn --attributes` refuse the outcome, or a column derived
from it, with one error line; by default such columns are left out with a note (issue 13)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli.main import app

RUNNER = CliRunner()
SPLIT = ["--holdout-by", "close_date", "--holdout", "0.25"]


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def flat(tmp_path: Path) -> Path:
    """400 closed deals; software wins more; close_value is 0 for every lost deal (like maven)."""
    rows: list[list[object]] = []
    for i in range(400):
        industry = ("software", "retail", "fintech", "media")[i % 4]
        won = (i % 10) < (5 if industry == "software" else 2)
        rows.append(
            [
                f"d{i}",
                f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
                industry,
                "won" if won else "lost",
                1000 + 7 * i if won else 0,
            ]
        )
    return _write(
        tmp_path / "deals.csv", ["deal_id", "close_date", "industry", "result", "close_value"], rows
    )


def run(*args: str | Path) -> Result:
    return RUNNER.invoke(app, [str(a) for a in args])


def one_error_line(result: Result, code: int = 1) -> str:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ")
    return line


def test_backtest_refuses_the_outcome_column_as_a_feature(flat: Path) -> None:
    result = run(
        "backtest", flat, "--outcome", "result", "--won", "won", "--features", "industry,result", *SPLIT
    )
    line = one_error_line(result)
    assert "--features: 'result' is the outcome column" in line


def test_backtest_refuses_a_column_derived_from_the_outcome(flat: Path) -> None:
    result = run(
        "backtest", flat, "--outcome", "result", "--won", "won", "--features", "industry,close_value", *SPLIT
    )
    line = one_error_line(result)
    assert "'close_value' is 0 or empty for every lost deal" in line
    assert "industry" not in line.split("--features:", 1)[1].split(".")[0]


def test_backtest_without_features_leaves_the_leak_out_and_says_so(flat: Path) -> None:
    args: list[str | Path] = ["backtest", flat, "--outcome", "result", "--won", "won", *SPLIT]
    data = json.loads(run(*args, "--json").stdout)
    assert "close_value" not in data["features"] and "industry" in data["features"]
    assert data["auc"] < 0.99
    human = run(*args)
    assert human.exit_code == 0, human.stderr
    assert "left out 'close_value'" in " ".join(human.stdout.split())


def test_backtest_with_honest_features_still_runs(flat: Path) -> None:
    result = run(
        "backtest", flat, "--outcome", "result", "--won", "won", "--features", "industry", *SPLIT, "--json"
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["features"] == ["industry"]


@pytest.fixture
def crm(tmp_path: Path) -> tuple[Path, Path]:
    """Accounts with an industry and a 'status' that is 'customer' exactly for the won deals."""
    accounts: list[list[object]] = []
    deals: list[list[object]] = []
    for i in range(300):
        industry = ("software", "retail", "fintech")[i % 3]
        won = (i % 10) < (5 if industry == "software" else 2)
        accounts.append(
            [f"A{i}", f"Company {i}", industry, "customer" if won else "prospect", 1 if won else 0]
        )
        deals.append(
            [f"D{i}", f"A{i}", "closedwon" if won else "closedlost", 1000, f"2024-{1 + i % 12:02d}-10"]
        )
    acc = _write(
        tmp_path / "accounts.csv", ["account_id", "name", "industry", "status", "is_paying"], accounts
    )
    dls = _write(tmp_path / "deals.csv", ["deal_id", "account_id", "stage", "amount", "close_date"], deals)
    return acc, dls


def test_learn_refuses_an_outcome_attribute(crm: tuple[Path, Path], tmp_path: Path) -> None:
    accounts, deals = crm
    base: list[str | Path] = ["learn", "--accounts", accounts, "--deals", deals, "-o", tmp_path / "icp.yaml"]
    line = one_error_line(run(*base, "--attributes", "industry,status"))
    assert "--attributes: 'status' names a deal outcome" in line
    line = one_error_line(run(*base, "--attributes", "Industry,is_paying"))
    assert "'is_paying' determines the outcome" in line
    line = one_error_line(run(*base, "--attributes", "industry,size"))
    assert "--attributes: no attribute 'size'; attributes are:" in line
    assert not (tmp_path / "icp.yaml").exists()


def test_learn_leaves_outcome_attributes_out_by_default(crm: tuple[Path, Path], tmp_path: Path) -> None:
    accounts, deals = crm
    output = tmp_path / "icp.yaml"
    result = run("learn", "--accounts", accounts, "--deals", deals, "-o", output)
    assert result.exit_code == 0, result.stderr
    notes = " ".join(result.stderr.split())
    assert "left out 'status'" in notes and "left out 'is_paying'" in notes
    text = output.read_text(encoding="utf-8")
    assert "status" not in text and "is_paying" not in text
    chosen = run("learn", "--accounts", accounts, "--deals", deals, "-o", output, "--attributes", "industry")
    assert chosen.exit_code == 0, chosen.stderr
