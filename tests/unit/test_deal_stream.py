"""Tests for DealStream: a deals file typed while it is read must say exactly what read_deals says.

read_deals holds every row; DealStream reads the file twice instead (once to check it and settle
the date formats, once to type the rows) so that a million-row export never sits in memory. Each
record is typed by a quick path first and by the careful one when anything looks wrong, so both
are held to the same results on messy generated files.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icp_engine.readers import (
    BATCH_BYTES,
    AccountMatcher,
    AccountRow,
    CsvFormatError,
    DealRow,
    DealStream,
    RowError,
    join_deals,
    parse_dates,
    read_deals,
)

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

OPTIONAL_COLUMNS = (
    "Account ID",
    "Account Name",
    "Stage",
    "IsWon",
    "IsClosed",
    "Amount",
    "Created Date",
    "Close Date",
    "Deal Name",
    "Source",
)
STAGES = ("Closed Won", "Closed Lost", "Prospecting", "won", "lost", "", "3", "Closed", " Won ")
FLAGS = ("true", "false", "", "maybe", "1", "0", "Yes")
GOOD_FLAGS = ("true", "false", "maybe")
AMOUNTS = (
    "100",
    "1234.50",
    "5k",
    "$2.5M",
    "-3",
    "abc",
    "",
    "1,000-5,000",
    "١٢٣",
    "0001",
    " 42 ",
    "1e3",
    "12%",
)
DATE_STYLES = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d %b %Y", "%Y-%m-%d %H:%M")
GOOD = {
    "IsWon": GOOD_FLAGS,
    "IsClosed": GOOD_FLAGS,
    "Stage": ("Closed Won", "Closed Lost", "Prospecting"),
    "Amount": ("100", "1234.50", "", "5k"),
    "Created Date": ("2024-01-02",),
    "Close Date": ("2024-03-04", ""),
}
JUNK_DATES = ("", "notadate", "31/02/2020", "1800-01-01", "2020-13-01")


@st.composite
def deal_files(draw: st.DrawFn) -> str:
    """A deals CSV: some of the usual columns, good and bad values, duplicate ids, ragged rows."""
    columns = ["Deal ID", *draw(st.lists(st.sampled_from(OPTIONAL_COLUMNS), unique=True, max_size=8))]
    draw(st.randoms()).shuffle(columns)
    styles = draw(st.lists(st.sampled_from(DATE_STYLES), min_size=1, max_size=2, unique=True))
    days = st.dates(min_value=date(1995, 1, 1), max_value=date(2030, 12, 31))
    cell = {
        "Deal ID": st.integers(0, 10_000).map(lambda i: f"X{i}") | st.sampled_from(["D1", "D2", "", " D 4 "]),
        "Account ID": st.sampled_from(["A1", "A2", "", "A1;A3", "A9"]),
        "Account Name": st.sampled_from(["Acme Inc", "ACME", "Globex GmbH", "", "Initech", "Globx"]),
        "Stage": st.sampled_from(STAGES),
        "IsWon": st.sampled_from(FLAGS),
        "IsClosed": st.sampled_from(FLAGS),
        "Amount": st.sampled_from(AMOUNTS),
        "Deal Name": st.sampled_from(["Renewal", "", "x" * 20]),
        "Source": st.sampled_from(["inbound", "", "Zürich"]),
    }
    date_cell = st.one_of(
        st.tuples(days, st.sampled_from(styles)).map(lambda d: d[0].strftime(d[1])),
        st.sampled_from(JUNK_DATES),
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    clean = draw(st.booleans())  # mostly good values, so that repeated good rows reach the quick path
    for _ in range(draw(st.integers(1, 25))):
        row = [draw(date_cell if column.endswith("Date") else cell[column]) for column in columns]
        if clean and draw(st.integers(0, 3)):
            row = [
                draw(st.sampled_from(GOOD[c])) if c in GOOD else v for c, v in zip(columns, row, strict=True)
            ]
        shape = draw(st.sampled_from(["ok"] * 12 + ["short", "long", "blank"]))
        if shape == "short":
            row = row[:-1]
        elif shape == "long":
            row = [*row, "extra"]
        elif shape == "blank":
            out.write("\n")
        writer.writerow(row)
    return out.getvalue()


def write(tmp_path: Path, text: str, name: str = "deals.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def streamed(
    path: Path, *, quick: bool = True, batch_bytes: int = BATCH_BYTES
) -> tuple[list[DealRow], list[RowError], list[str]]:
    """Rows, errors (ragged rows first, as read_deals lists them) and findings of one pass."""
    stream = DealStream(path, batch_bytes=batch_bytes)
    rows: list[DealRow] = []
    errors = list(stream.table_errors)
    with stream.rows(quick=quick) as typed:
        for _, deal, row_errors in typed:
            errors.extend(row_errors)
            if deal is not None:
                rows.append(deal)
    return rows, errors, stream.findings


def outcome(read: object) -> object:
    """What a reading produced, or the file-level error's message."""
    try:
        return read()  # type: ignore[operator]
    except CsvFormatError as exc:
        return f"CsvFormatError: {exc}"


@SETTINGS
@given(text=deal_files())
def test_streaming_gives_what_read_deals_gives(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)

    def held() -> tuple[list[DealRow], list[RowError], list[str]]:
        result = read_deals(path)
        return result.rows, result.errors, result.findings

    assert outcome(lambda: streamed(path)) == outcome(held)


@SETTINGS
@given(text=deal_files())
def test_the_quick_path_agrees_with_the_careful_one(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    assert outcome(lambda: streamed(path, quick=True)) == outcome(lambda: streamed(path, quick=False))


@SETTINGS
@given(text=deal_files(), batch_bytes=st.sampled_from([1, 30, 200]))
def test_batches_of_any_size_give_the_same_deals(tmp_path: Path, text: str, batch_bytes: int) -> None:
    """One-byte batches put every record in a batch of its own: a repeated id is found across them."""
    path = write(tmp_path, text)
    assert outcome(lambda: streamed(path, batch_bytes=batch_bytes)) == outcome(lambda: streamed(path))


def test_a_repeated_id_far_from_the_first_is_found(tmp_path: Path) -> None:
    rows = [f"D{i},Won,{i}" for i in range(1, 300)]
    rows[250] = "D17,Lost,5"
    path = write(tmp_path, "Deal ID,Stage,Amount\n" + "\n".join(rows) + "\n")
    deals, errors, _ = streamed(path, batch_bytes=128)
    assert [str(e) for e in errors] == [
        "deals.csv line 252, column 'Deal ID': duplicate deal id 'D17' (first seen on line 18)"
    ]
    assert len(deals) == 298


def test_the_quick_path_takes_the_clean_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Deal ID,Stage,Amount,Created Date\nD1,Closed Won,100,2024-01-02\nD2,Won,12.5,2024-01-03\n"
        "D3,Lost,,\nD1,Open,-5,2024-13-01\n",
    )
    rows, errors, _ = streamed(path)
    assert [(r.deal_id, r.stage, r.amount, r.created_date) for r in rows] == [
        ("D1", "won", 100.0, date(2024, 1, 2)),
        ("D2", "won", 12.5, date(2024, 1, 3)),
        ("D3", "lost", None, None),
    ]
    assert [str(e) for e in errors] == [
        "deals.csv line 5, column 'Deal ID': duplicate deal id 'D1' (first seen on line 2)",
        "deals.csv line 5, column 'Amount': negative value: '-5'",
        "deals.csv line 5, column 'Created Date': not a valid date: '2024-13-01' (read as YYYY-MM-DD)",
    ]


def test_a_problem_is_reported_on_every_row_that_has_it(tmp_path: Path) -> None:
    """Stages are worked out once per distinct text; the errors they carry are not forgotten."""
    path = write(
        tmp_path, "Deal ID,IsWon,IsClosed\nD1,maybe,true\nD2,maybe,true\nD3,true,false\nD4,true,false\n"
    )
    rows, errors, _ = streamed(path)
    assert [(r.deal_id, r.stage) for r in rows] == [("D3", "won"), ("D4", "won")]
    assert [str(e) for e in errors] == [
        f"deals.csv line {line}, column 'IsWon': not a yes/no value: 'maybe'" for line in (2, 3)
    ]


def test_a_second_pass_reads_the_file_again(tmp_path: Path) -> None:
    path = write(tmp_path, "Deal ID,Stage\nD1,Won\nD2,Lost\n")
    stream = DealStream(path)
    for _ in range(2):
        with stream.rows() as typed:
            assert [deal.deal_id for _, deal, _ in typed if deal] == ["D1", "D2"]


def test_ragged_rows_are_found_by_the_first_read(tmp_path: Path) -> None:
    stream = DealStream(write(tmp_path, "Deal ID,Stage\nD1,Won\nD2,Lost,extra\nD3\n"))
    assert [str(e) for e in stream.table_errors] == [
        "deals.csv line 3: has 3 fields but the header has 2 columns (an unquoted comma inside a value?)",
        "deals.csv line 4: has 1 fields but the header has 2 columns",
    ]
    assert stream.records == 1


def test_file_problems_are_raised_before_any_row_is_typed(tmp_path: Path) -> None:
    unclosed = write(tmp_path, 'Deal ID,Stage\nD1,Won\nD2,"Lost\n', "unclosed.csv")
    with pytest.raises(CsvFormatError, match="a quoted field is never closed"):
        DealStream(unclosed)
    no_stage = write(tmp_path, "Deal ID,Amount\nD1,5\n", "nostage.csv")
    with pytest.raises(CsvFormatError, match="no column for 'stage'"):
        DealStream(no_stage)


def test_a_file_changed_between_the_two_reads_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "Deal ID,Stage,Created Date\nD1,Won,2024-01-02\n")
    stream = DealStream(path)
    path.write_text("Deal ID,Stage,Created Date\nD1,Won,2024-01-03\n", encoding="utf-8")
    with pytest.raises(CsvFormatError, match="changed while it was being read"), stream.rows() as typed:
        list(typed)
    path.write_text("Deal ID,Stage,Amount\nD1,Won,5\n", encoding="utf-8")
    with pytest.raises(CsvFormatError, match="changed while it was being read"), stream.rows() as typed:
        list(typed)


def test_an_abandoned_pass_releases_the_reader(tmp_path: Path) -> None:
    """A pass left half-way (an error while writing) must not block the next read of a file."""
    path = write(tmp_path, "Deal ID,Stage\nD1,Won\nD2,Lost\n")
    stream = DealStream(path)
    with stream.rows() as typed:
        next(typed)
    assert [d.deal_id for d in read_deals(path).rows] == ["D1", "D2"]


@given(
    texts=st.lists(
        st.sampled_from(
            ["2024-01-02", "02/01/2024", "13/01/2024", "01/13/2024", "3.4.2021", "", "x", "5 Mar 2020"]
        ),
        max_size=30,
    )
)
def test_a_date_reads_the_same_on_every_line(texts: list[str]) -> None:
    parsed, problems = parse_dates(list(enumerate(texts, 2)))
    by_text: dict[str, object] = {}
    for line, text in enumerate(texts, 2):
        found = parsed.get(line, problems.get(line))
        assert (found is None) == (text == "")
        assert by_text.setdefault(text, found) == found


def test_account_matcher_joins_one_row_at_a_time_like_join_deals(tmp_path: Path) -> None:
    accounts = [
        AccountRow(1, "A1", "Acme Inc", None, {}),
        AccountRow(2, "A2", "Globex GmbH", None, {}),
        AccountRow(3, None, "Acme Holdings", None, {}),
    ]
    deals = read_deals(
        write(
            tmp_path,
            "Deal ID,Stage,Account ID,Account Name\nD1,Won,A1,\nD2,Won,,globex\nD3,Won,A9,\n"
            "D4,Won,,Nobody\nD5,Won,,\nD6,Won,A9;A2,\n",
        )
    )
    joined = join_deals(accounts, deals)
    matcher = AccountMatcher(accounts, file=deals.file, columns=deals.columns)
    one_by_one = [matcher.match(deal) for deal in deals.rows]
    assert [account for account, _ in one_by_one] == [account for _, account in joined.pairs]
    assert [error for _, error in one_by_one if error] == joined.errors
    assert (
        matcher.joined_finding("deal")
        == joined.findings[0]
        == ("3 deals joined to an account (2 by account id, 1 by name)")
    )
