"""Accounts streamed a batch at a time (what imports use) against the whole-file reference.

``AccountRows`` over an ``AccountStream`` must find, for any file and any batch size, the rows,
errors (same lines, same words, same order), findings and value mappings of
``prepare_account_table`` over ``read_account_table`` (itself held to the row-wise reader), and
hand the same values to the store, custom attributes in the same order. Batches of one byte make
every record its own batch, so every duplicate is found across batches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.imports.account_rows import AccountRows, read_accounts_for_import
from bot.services.imports.rows import prepare_account_table
from icp_engine.readers import AccountStream, CsvFormatError, read_account_table
from tests.unit.test_account_table_prepare import FILES
from tests.unit.test_columnar_readers import (
    ACCOUNT_HEADER,
    ACCOUNT_VALUES,
    NAME_ONLY_HEADER,
    NAME_ONLY_VALUES,
    NAMES,
    NUMBERS,
    SETTINGS,
    csv_files,
)

SPARSE_HEADER = ["Company name", "Account ID", "Tier", "Owner", "Country", "Employees", "Tech"]
SPARSE_VALUES = [
    NAMES,
    ["A1", "A2", "", "A3"],
    ["", "", "gold"],
    ["", "ann", ""],
    ["US", "", "Deutschland", "Narnia"],
    NUMBERS,
    ["Salesforce; Slack", "", "hubspot"],
]
BATCH_BYTES = st.sampled_from([1, 40, 300, 1 << 22])


def _outcome(rows: Any) -> tuple[Any, ...]:
    tally = rows.tally()
    errors = [(e.file, e.line, e.column, e.reason) for e in tally.errors]
    mappings = [(m.describe(n), n) for m, n in tally.mappings]
    return tally.rows, errors, tally.findings, mappings, rows.accepted


def _stored(rows: Any) -> list[tuple[dict[str, Any], list[str]]]:
    """The values to store, with the order of each row's custom attributes."""
    return [(values, list(values["custom_attributes"])) for values in rows.values()]


def _same_as_whole_file(path: Path, batch_bytes: int) -> bool:
    """Compare the two ways on one file; True when the file was streamed."""
    try:
        whole = prepare_account_table(read_account_table(path), revenue_unit=1e3)
    except CsvFormatError as exc:
        with pytest.raises(CsvFormatError) as raised:
            read_accounts_for_import(path, overrides={}, batch_bytes=batch_bytes)
        assert str(raised.value) == str(exc)
        return False
    read = read_accounts_for_import(path, overrides={}, batch_bytes=batch_bytes)
    if not isinstance(read, AccountStream):
        return False
    streamed = AccountRows(read, revenue_unit=1e3)
    assert _outcome(streamed) == _outcome(whole)
    assert _stored(streamed) == _stored(whole)
    return True


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize("batch_bytes", [1, 64, 1 << 22])
def test_the_stream_gives_what_the_whole_file_gives(tmp_path: Path, name: str, batch_bytes: int) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text(FILES[name], encoding="utf-8")
    assert _same_as_whole_file(path, batch_bytes)


SHAPES = [
    (ACCOUNT_HEADER, ACCOUNT_VALUES),
    (NAME_ONLY_HEADER, NAME_ONLY_VALUES),
    (SPARSE_HEADER, SPARSE_VALUES),
]


@settings(SETTINGS, max_examples=150)
@given(data=st.sampled_from(SHAPES).flatmap(lambda shape: csv_files(*shape)), batch_bytes=BATCH_BYTES)
def test_streamed_accounts_agree(tmp_path: Path, data: bytes, batch_bytes: int) -> None:
    """Ids and names that repeat, bad numbers, blank and ragged lines, custom columns filled late."""
    path = tmp_path / "accounts.csv"
    path.write_bytes(data)
    _same_as_whole_file(path, batch_bytes)


def test_duplicates_far_apart_are_found_across_batches(tmp_path: Path) -> None:
    """The second 'A7' and the second Acme sit in other batches than the first; both are named."""
    body = [f"A{i},Company {i},Software" for i in range(1, 200)]
    body[150] = "A7,Acme Inc,Software"
    body[20] = "A500,Acme,Retail"
    body[180] = ",ACME Inc.,Retail"
    path = tmp_path / "accounts.csv"
    path.write_text("Account ID,Account Name,Industry\n" + "\n".join(body) + "\n", encoding="utf-8")
    read = read_accounts_for_import(path, overrides={}, batch_bytes=256)
    assert isinstance(read, AccountStream)
    rows = AccountRows(read)
    assert [str(e) for e in rows.tally().errors] == [
        "accounts.csv line 152, column 'Account ID': duplicate account id 'A7' (first seen on line 8)"
    ]
    assert "1 account name appears on several accounts; deals naming them need an account id" in (
        rows.tally().findings
    )
    assert sum(1 for _ in rows.values()) == 198
    assert _same_as_whole_file(path, 256)


def test_a_file_changed_between_passes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("Account ID,Account Name\nA1,Acme\nA2,Globex\n", encoding="utf-8")
    read = read_accounts_for_import(path, overrides={}, batch_bytes=8)
    assert isinstance(read, AccountStream)
    rows = AccountRows(read)
    path.write_text("Account ID,Account Name\nA1,Acme\nA2,Globex\nA3,Initech\n", encoding="utf-8")
    with pytest.raises(
        CsvFormatError, match=r"^accounts\.csv changed while it was being read; import it again$"
    ):
        list(rows.values())


def test_files_the_column_wise_pass_leaves_are_read_whole(tmp_path: Path) -> None:
    """A quoted line break (or a legacy code page) sends the file to the row-wise reader, as before."""
    path = tmp_path / "accounts.csv"
    path.write_text('Account ID,Account Name,Notes\nA1,Acme,"two\nlines"\nA2,Globex,\n', encoding="utf-8")
    read = read_accounts_for_import(path, overrides={})
    assert not isinstance(read, AccountStream)
    assert read.frame["_line"].tolist() == [2, 4]
