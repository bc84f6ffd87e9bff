"""The columnar readers agree with the row-wise ones on random files: records, lines, errors, findings.

The row-wise pass (``columnar.ENABLED = False``) is the reference: it is what every message and
line number in the reader tests was written against. Random files mix what CRM exports hold:
delimiters, quoting, CRLF, BOMs, blank and delimiter-only lines, ragged rows, bad and odd numbers,
repeated ids and names that normalise alike, non-ASCII text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icp_engine.crm import accounts_frame, table_frame
from icp_engine.readers import (
    columnar,
    join_deal_table,
    join_deals,
    read_account_table,
    read_accounts,
    read_deal_table,
    read_deals,
    read_table,
)
from icp_engine.readers.account_table import from_rows

NAMES = [
    "Acme",
    "Acme Inc",
    "ACME, Inc.",
    "The Acme Co",
    "Globex",
    "Globex & Sons",
    "Initech_ltd",
    "Zoë AG",
    "Müller GmbH",
    "",
]
NUMBERS = ["12", "12.5", "1,200", "5k", "-3", "abc", "", "n/a", "  7 ", "$2.5M", "10-20"]
WORDS = ["Software", "fintech", "Health Care", "", "Ünïcode", "a;b", "x,y", 'say "hi"', "  padded  "]
DATES = ["2024-01-05", "2024-02-30", "05/01/2024", "13/01/2024", "", "soon", "2023-12-31"]
STAGES = ["Closed Won", "Closed Lost", "Prospecting", "won", "", "Lost - no budget"]


@contextmanager
def row_wise() -> Iterator[None]:
    old = columnar.ENABLED
    columnar.ENABLED = False
    try:
        yield
    finally:
        columnar.ENABLED = old


def _cell(value: str, delimiter: str, quote_all: bool) -> str:
    if quote_all or delimiter in value or '"' in value or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


@st.composite
def csv_files(draw: st.DrawFn, header: list[str], columns: list[list[str]]) -> bytes:
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    quote_all = draw(st.booleans())
    lines = [delimiter.join(_cell(h, delimiter, quote_all) for h in header)]
    kinds = ["row"] * 8 + ["blank", "delims"] + (["short", "long"] if draw(st.booleans()) else [])
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(kinds))
        values = [draw(st.sampled_from(choices)) for choices in columns]
        if kind == "blank":
            lines.append(draw(st.sampled_from(["", "  ", "\t"])))
        elif kind == "delims":
            lines.append(delimiter * (len(header) - 1))
        elif kind == "short":
            lines.append(delimiter.join(values[:-1]))
        elif kind == "long":
            lines.append(delimiter.join([*values, "extra"]))
        else:
            lines.append(delimiter.join(_cell(v, delimiter, quote_all) for v in values))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    return bom + text.encode("utf-8")


ACCOUNT_HEADER = ["Account ID", "Account Name", "Industry", "Employees", "Annual Revenue", "Plan"]
ACCOUNT_VALUES = [["A1", "A2", "A3", "", "a1"], NAMES, WORDS, NUMBERS, NUMBERS, ["pro", "", "7", "free"]]
NAME_ONLY_HEADER = ["Company name", "Industry", "Employees", "Country"]
NAME_ONLY_VALUES = [NAMES, WORDS, NUMBERS, ["US", "Germany", "", "Deutschland"]]
DEAL_HEADER = ["Deal ID", "Account ID", "Stage", "Amount", "Created Date", "Close Date", "Owner"]
DEAL_VALUES = [["D1", "D2", "D3", "", "D4"], ["A1", "", "A2"], STAGES, NUMBERS, DATES, DATES, WORDS]

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _outcome(read: object, path: Path) -> object:
    try:
        return read(path)  # type: ignore[operator]
    except Exception as exc:  # the same file-level error either way
        return f"{type(exc).__name__}: {exc}"


@SETTINGS
@given(data=csv_files(ACCOUNT_HEADER, ACCOUNT_VALUES))
def test_read_table_agrees(tmp_path: Path, data: bytes) -> None:
    path = _write(tmp_path, "t.csv", data)
    fast = _outcome(read_table, path)
    with row_wise():
        slow = _outcome(read_table, path)
    assert fast == slow


def _same_accounts(path: Path) -> None:
    try:
        fast = read_account_table(path)
    except Exception as exc:
        with row_wise(), pytest.raises(type(exc), match="^" + __import__("re").escape(str(exc)) + "$"):
            read_accounts(path)
        return
    with row_wise():
        rows = read_accounts(path)
    slow = from_rows(rows)
    assert fast.errors == slow.errors
    assert fast.findings == slow.findings
    assert fast.columns == slow.columns
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
    pd.testing.assert_frame_equal(table_frame(fast)[0], accounts_frame(rows.rows)[0])
    assert fast.read_result() == rows


@SETTINGS
@given(data=csv_files(ACCOUNT_HEADER, ACCOUNT_VALUES))
def test_account_table_agrees_with_account_rows(tmp_path: Path, data: bytes) -> None:
    _same_accounts(_write(tmp_path, "accounts.csv", data))


@SETTINGS
@given(data=csv_files(NAME_ONLY_HEADER, NAME_ONLY_VALUES))
def test_account_table_agrees_without_ids(tmp_path: Path, data: bytes) -> None:
    _same_accounts(_write(tmp_path, "accounts.csv", data))


@SETTINGS
@given(data=csv_files(DEAL_HEADER, DEAL_VALUES))
def test_read_deals_agrees(tmp_path: Path, data: bytes) -> None:
    path = _write(tmp_path, "deals.csv", data)
    fast = _outcome(read_deals, path)
    with row_wise():
        slow = _outcome(read_deals, path)
    assert fast == slow


def test_plain_file_takes_the_columnar_path_with_physical_lines(tmp_path: Path) -> None:
    """Blank lines, a delimiter-only line and an Excel sep= hint still count as physical lines."""
    path = _write(
        tmp_path,
        "a.csv",
        b"sep=;\r\nid;name;employees\r\n\r\nA1;Acme;10\r\n;;\r\nA2;Globex;abc\r\n   \r\nA1;Initech;5\r\n",
    )
    table = read_account_table(path)
    assert [str(e) for e in table.errors] == [
        "a.csv line 6, column 'employees': not a number: 'abc'",
        "a.csv line 8, column 'id': duplicate account id 'A1' (first seen on line 4)",
    ]
    assert table.frame["_line"].tolist() == [4]
    from icp_engine.readers.csv_table import _CsvSource

    assert _CsvSource.open(path, 2**20).columns() is not None  # the fast path read it


def test_quoted_line_break_goes_row_wise_with_the_same_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", b'id,name,notes\nA1,Acme,"two\nlines"\nA2,Globex,x\nA2,Dup,y\n')
    from icp_engine.readers.csv_table import _CsvSource

    assert _CsvSource.open(path, 2**20).columns() is None
    table = read_account_table(path)
    assert [str(e) for e in table.errors] == [
        "a.csv line 5, column 'id': duplicate account id 'A2' (first seen on line 4)"
    ]
    assert table.frame["_line"].tolist() == [2, 4]


# --- deals as columns (analyze, learn) vs deal rows and their join ---------------------------

JOIN_ACCOUNTS = (
    b"Account ID,Account Name,Industry\nA1,Acme Inc,software\nA2,Globex,fintech\n,Initech,retail\n"
)
DEAL_TABLE_HEADER = ["Deal ID", "Account ID", "Account Name", "Stage", "Amount", "Created Date", "Close Date"]
DEAL_TABLE_VALUES = [
    ["D1", "D2", "D3", "", "D4", "D5"],
    ["A1", "", "A2", "A9", "A1;A2", "a1"],
    ["", "Acme", "Initech", "Initech Ltd", "Globx", "Nobody"],
    [*STAGES, "Negotiation"],
    [*NUMBERS, "1500.25"],
    DATES,
    DATES,
]


def _deals_as_columns_agree(accounts_path: Path, path: Path) -> None:
    accounts = read_accounts(accounts_path)
    try:
        table = read_deal_table(path)
    except Exception as exc:
        with pytest.raises(type(exc), match="^" + __import__("re").escape(str(exc)) + "$"):
            read_deals(path)
        return
    rows = read_deals(path)
    assert table.errors == rows.errors
    assert table.findings == rows.findings
    assert table.columns == rows.columns
    expected = {
        "lines": [r.line for r in rows.rows],
        "deal_id": [r.deal_id for r in rows.rows],
        "account_id": [r.account_id for r in rows.rows],
        "account_name": [r.account_name for r in rows.rows],
        "stage": [r.stage for r in rows.rows],
        "amount": [r.amount for r in rows.rows],
        "created_date": [r.created_date for r in rows.rows],
        "close_date": [r.close_date for r in rows.rows],
    }
    got = {name: getattr(table, name).tolist() for name in expected}
    got["amount"] = [None if a != a else a for a in got["amount"]]  # NaN: no amount
    assert got == expected
    index, errors, findings = join_deal_table(read_account_table(accounts_path), table)
    joined = join_deals(accounts, rows)
    assert errors == joined.errors
    assert findings == joined.findings
    assert [accounts.rows[i] if i >= 0 else None for i in index.tolist()] == [a for _, a in joined.pairs]


@SETTINGS
@given(data=csv_files(DEAL_TABLE_HEADER, DEAL_TABLE_VALUES))
def test_deal_table_agrees_with_deal_rows_and_their_join(tmp_path: Path, data: bytes) -> None:
    accounts = _write(tmp_path, "accounts.csv", JOIN_ACCOUNTS)
    _deals_as_columns_agree(accounts, _write(tmp_path, "deals.csv", data))


@SETTINGS
@given(data=csv_files(DEAL_TABLE_HEADER, DEAL_TABLE_VALUES))
def test_deal_table_agrees_row_wise_too(tmp_path: Path, data: bytes) -> None:
    """Files the columnar pass does not take are typed row by row and converted: the same again."""
    accounts = _write(tmp_path, "accounts.csv", JOIN_ACCOUNTS)
    with row_wise():
        _deals_as_columns_agree(accounts, _write(tmp_path, "deals.csv", data))


def test_salesforce_flags_and_duplicates_as_columns(tmp_path: Path) -> None:
    """IsWon/IsClosed, a duplicate id, a bad date and a bad amount: each error as the rows word it."""
    accounts = _write(tmp_path, "accounts.csv", JOIN_ACCOUNTS)
    path = _write(
        tmp_path,
        "opps.csv",
        b"Id,AccountId,IsWon,IsClosed,Amount,CloseDate\n"
        b"O1,A1,true,true,100,2024-01-02\nO2,A2,false,true,abc,2024-01-03\n"
        b"O1,A2,maybe,true,5,2024-01-04\nO3,A9,false,false,7,2024-13-45\nO4,,false,false,8,\n",
    )
    from icp_engine.readers.csv_table import _CsvSource

    assert _CsvSource.open(path, 2**20).columns() is not None  # the fast path reads it
    table = read_deal_table(path)
    assert [str(e) for e in table.errors] == [
        "opps.csv line 3, column 'Amount': not a number: 'abc'",
        "opps.csv line 4, column 'Id': duplicate deal id 'O1' (first seen on line 2)",
        "opps.csv line 4, column 'IsWon': not a yes/no value: 'maybe'",
        "opps.csv line 5, column 'CloseDate': not a valid date: '2024-13-45' (read as YYYY-MM-DD)",
    ]
    assert table.lines.tolist() == [2, 6]
    _deals_as_columns_agree(accounts, path)


@SETTINGS
@given(data=csv_files(DEAL_TABLE_HEADER, DEAL_TABLE_VALUES))
def test_deal_table_joins_like_rows_to_accounts_without_ids(tmp_path: Path, data: bytes) -> None:
    """Accounts known by name only: every deal naming an account goes through the matcher."""
    accounts = _write(
        tmp_path, "accounts.csv", b"Account Name,Industry\nAcme Inc,software\nGlobex,x\nInitech,y\n"
    )
    _deals_as_columns_agree(accounts, _write(tmp_path, "deals.csv", data))
