"""Formula-safe CSV: a text cell a spreadsheet would run gets a leading quote, numbers stay numbers."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from bot.cli.main import app
from icp_engine.safe_csv import FORMULA_STARTS, safe_cell, safe_frame, write_frame
from icp_engine.sample import generate, write_csv

HOSTILE = [
    '=HYPERLINK("https://evil.example","click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1",
    "\r=1",
]


def _runs_as_formula(cell: str) -> bool:
    return cell.startswith(FORMULA_STARTS) and not _number(cell)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.security
@given(st.sampled_from(FORMULA_STARTS), st.text(max_size=40))
def test_text_starting_like_a_formula_is_quoted(start: str, rest: str) -> None:
    cell = start + rest
    safe = safe_cell(cell)
    if _number(cell):
        assert safe == cell  # "-12.5" is a number, not a formula
    else:
        assert safe == "'" + cell


@given(st.text(max_size=40).filter(lambda t: not t.startswith(FORMULA_STARTS)))
def test_other_text_is_untouched(cell: str) -> None:
    assert safe_cell(cell) == cell


@given(st.one_of(st.integers(), st.floats(allow_nan=False)))
def test_numbers_stay_numbers_negative_ones_included(value: float) -> None:
    assert safe_cell(value) == value
    frame = pd.DataFrame({"score": [value], "name": ["-5"]})
    safe = safe_frame(frame)
    assert safe["score"].tolist() == [value] and safe["name"].tolist() == ["-5"]


@pytest.mark.security
def test_written_file_has_no_cell_a_spreadsheet_would_run(tmp_path: Path) -> None:
    frame = pd.DataFrame({"name": HOSTILE, "score": [-1.5, 2, -3, 4, 5, 6]})
    path = tmp_path / "out.csv"
    write_frame(frame, path, index=False)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert not any(_runs_as_formula(cell) for row in rows for cell in row)
    assert [row[0] for row in rows[1:]] == ["'" + h for h in HOSTILE]
    assert [row[1] for row in rows[1:]] == ["-1.5", "2.0", "-3.0", "4.0", "5.0", "6.0"]


@pytest.mark.security
def test_batch_score_csv_quotes_formula_names(tmp_path: Path) -> None:
    files = write_csv(generate(seed=7, n_accounts=40), tmp_path / "crm")
    accounts = pd.read_csv(files["accounts"], dtype=str, keep_default_na=False)
    hostile = [h.strip() for h in HOSTILE]  # the reader trims names
    accounts.loc[: len(hostile) - 1, "Company name"] = hostile
    accounts.to_csv(files["accounts"], index=False)
    runner = CliRunner()
    icp = tmp_path / "icp.yaml"
    learned = runner.invoke(
        app,
        ["learn", "--accounts", str(files["accounts"]), "--deals", str(files["deals"]), "--output", str(icp)],
    )
    assert learned.exit_code == 0, learned.output
    out = tmp_path / "scores.csv"
    scored = runner.invoke(
        app, ["score", "--icp", str(icp), "--accounts", str(files["accounts"]), "--out", str(out)]
    )
    assert scored.exit_code == 0, scored.output
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = [row["name"] for row in rows]
    assert names[: len(hostile)] == ["'" + h for h in hostile]
    assert not any(_runs_as_formula(cell) for row in rows for cell in row.values())
