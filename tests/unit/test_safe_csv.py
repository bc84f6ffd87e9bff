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
from icp_engine.csv_columns import csv_bytes
from icp_engine.safe_csv import FORMULA_STARTS, safe_cell, safe_frame, write_frame, write_frame_rowwise
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
    """A number a spreadsheet reads as one: "+NAN" or "-nan" is a name in a formula, not a number."""
    try:
        value = float(text)
    except ValueError:
        return False
    return value == value or text.strip().lower() == "nan"


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


# --- the columnar writer writes the row-by-row writer's bytes ---------------------------------

NAME = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.text(alphabet=st.sampled_from(list("ab ,\"\n\t=+-@'é😀0.5;\x00")), max_size=8),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=6),  # any text Python can encode
)
FLOATS = st.sampled_from([0.0, -0.0, 85.8, 1e16, 1e-05, float("nan"), float("inf"), -7.25])


@given(rows=st.data(), line_end=st.sampled_from(["\n", "\r\n", None]), width=st.sampled_from([32, 64]))
def test_columnar_writer_writes_the_rowwise_bytes(
    tmp_path_factory: pytest.TempPathFactory, rows: st.DataObject, line_end: str | None, width: int
) -> None:
    names = rows.draw(st.lists(NAME, max_size=12))
    n = len(names)
    ids = rows.draw(st.lists(st.one_of(st.none(), st.text(max_size=4)), min_size=n, max_size=n))
    frame = pd.DataFrame(
        {
            # two Arrow chunks, as a column concatenated from parts has
            "account_id": pd.concat(
                [pd.Series(ids[: n // 2], dtype="str"), pd.Series(ids[n // 2 :], dtype="str")],
                ignore_index=True,
            ),
            "name": pd.Series(names, dtype=object),
            "score": pd.Series(
                rows.draw(st.lists(FLOATS | st.floats(width=width), min_size=n, max_size=n)),
                dtype=f"float{width}",
            ),
            'n, "quoted"': pd.Series(
                rows.draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n))
            ),
            "disqualified": pd.Series(rows.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool),
            "=tier": pd.Series([v if isinstance(v, str) else None for v in names], dtype="str"),
        }
    )
    options: dict[str, Any] = {"index": False} | ({} if line_end is None else {"lineterminator": line_end})
    folder = tmp_path_factory.mktemp("w")
    write_frame(frame, folder / "columns.csv", **options)
    write_frame_rowwise(frame, folder / "rows.csv", **options)
    assert (folder / "columns.csv").read_bytes() == (folder / "rows.csv").read_bytes()
    if not any(isinstance(v, str) and "\r" in v for v in [*names, *ids]):  # a CR: every text cell quoted
        pieces = csv_bytes(safe_frame(frame), options, rows_per_piece=rows.draw(st.integers(1, 4)))
        assert pieces is not None  # the columnar writer wrote that file, in pieces of a few lines
        assert b"".join(bytes(piece) for piece in pieces) == (folder / "rows.csv").read_bytes()


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([1, "=a", None], dtype=object),  # not only text
        pd.Series(pd.to_datetime(["2024-01-02", None, "2025-03-04"])),
        pd.Series(["a", "b,c", None], dtype="category"),
    ],
)
def test_columns_the_columnar_writer_does_not_take_are_written_row_by_row(
    tmp_path: Path, column: pd.Series
) -> None:
    frame = pd.DataFrame({"name": column, "score": [1.5, -0.0, float("nan")]})
    assert csv_bytes(safe_frame(frame), {"index": False}) is None
    write_frame(frame, tmp_path / "out.csv", index=False)
    write_frame_rowwise(frame, tmp_path / "rows.csv", index=False)
    assert (tmp_path / "out.csv").read_bytes() == (tmp_path / "rows.csv").read_bytes()


def test_labels_other_than_text_are_written_by_pandas(tmp_path: Path) -> None:
    frame = pd.DataFrame({0: ["=a", "b"], float("nan"): [1.5, 2.0]})
    assert csv_bytes(safe_frame(frame), {"index": False}) is None
    write_frame(frame, tmp_path / "out.csv", index=False)
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == "0.0,\n'=a,1.5\nb,2.0\n"  # pandas' labels


def test_a_compressed_file_is_still_compressed(tmp_path: Path) -> None:
    frame = pd.DataFrame({"name": ["=a", "b,c"], "score": [1.5, 2.0]})
    write_frame(frame, tmp_path / "out.csv.gz", index=False)
    assert pd.read_csv(tmp_path / "out.csv.gz")["name"].tolist() == ["'=a", "b,c"]
