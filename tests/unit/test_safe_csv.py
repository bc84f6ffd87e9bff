"""Formula-safe CSV: a text cell a spreadsheet would run gets a leading quote, numbers stay numbers."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

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


# --- the column-wise writer writes what pandas writes -----------------------------------------

CELL_TEXT = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(list("ab ,\"\n\r\t=+-@'é😀0.5;")), max_size=8),
    st.text(max_size=6),
)


@given(
    texts=st.lists(CELL_TEXT, min_size=0, max_size=12),
    numbers=st.data(),
    terminator=st.sampled_from(["\n", "\r\n", None]),
)
def test_columnwise_writer_writes_the_bytes_pandas_writes(
    tmp_path_factory: pytest.TempPathFactory,
    texts: list[str | None],
    numbers: st.DataObject,
    terminator: str | None,
) -> None:
    n = len(texts)
    # few distinct values (as scores have), so each is formatted once; signed zeros and extremes among them
    some = st.sampled_from([0.0, -0.0, 1.0, 85.8, 1e16, 1e-05, 2.5e-300, float("nan"), float("inf"), -7.25])
    pool = numbers.draw(st.lists(st.one_of(some, st.floats()), min_size=1, max_size=3))
    floats = numbers.draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    ints = numbers.draw(st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n))
    flags = numbers.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    frame = pd.DataFrame(
        {
            "name": pd.Series(texts, dtype="str"),
            "score": pd.Series(floats, dtype="float64"),
            'n, "quoted"': pd.Series(ints, dtype="int64"),
            "flag": pd.Series(flags, dtype="bool"),
            "=tier": pd.Series([t and t.upper() for t in texts], dtype="str"),
        }
    )
    folder = tmp_path_factory.mktemp("w")
    options: dict[str, Any] = {} if terminator is None else {"lineterminator": terminator}
    write_frame(frame, folder / "fast.csv", index=False, **options)
    # the reference: pandas itself, with the safe cells and the carriage-return rule write_frame applies
    safe = safe_frame(frame)
    if safe.map(lambda v: isinstance(v, str) and "\r" in v).any().any():
        options["quoting"] = csv.QUOTE_NONNUMERIC
    safe.to_csv(folder / "pandas.csv", index=False, **options)
    assert (folder / "fast.csv").read_bytes() == (folder / "pandas.csv").read_bytes()
