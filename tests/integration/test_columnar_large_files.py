"""Accounts files larger than one read block: same outcome as the row-wise reader, bounded memory.

The columnar pass scans bytes and parses the body a block at a time, and keys names a slice at a
time; the property tests in ``tests/unit/test_columnar_readers.py`` use files far smaller than a
block, so these files cross block and slice boundaries. The row-wise pass
(``columnar.ENABLED = False``) is the reference.
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from icp_engine.readers import columnar, read_account_table, read_accounts
from icp_engine.readers.account_table import from_rows
from icp_engine.readers.csv_table import _CsvSource
from icp_engine.readers.text_hashing import _SLICE as _KEY_SLICE

REPO = Path(__file__).resolve().parents[2]
NAMES = ["Acme", "Acme Inc", "ACME, Inc.", "The Acme Co", "Globex & Sons", "Zoë AG", "Müller GmbH", ""]
WORDS = ["Software", "fintech", "", "Ünïcode", "x,y", "  padded  "]  # (a doubled quote goes row-wise)
NUMBERS = ["12", "12.5", "1,200", "5k", "-3", "abc", "", "  7 ", "$2.5M"]


@contextmanager
def row_wise() -> Iterator[None]:
    old = columnar.ENABLED
    columnar.ENABLED = False
    try:
        yield
    finally:
        columnar.ENABLED = old


def _cell(value: str) -> str:
    if "," in value or '"' in value or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


def _assert_same_as_rows(path: Path) -> None:
    assert _CsvSource.open(path, 2**20).columns() is not None  # the columnar pass takes this file
    fast = read_account_table(path)
    with row_wise():
        slow = from_rows(read_accounts(path))
    assert fast.errors == slow.errors
    assert fast.findings == slow.findings
    pd.testing.assert_frame_equal(fast.frame, slow.frame)


def test_file_over_one_block_reads_like_rows(tmp_path: Path) -> None:
    """Quoted, non-ASCII, blank and repeated records on both sides of a block boundary."""
    pick = random.Random(16)
    lines = ["Account ID,Account Name,Industry,Employees,Annual Revenue"]
    size = 0
    while size <= columnar._BLOCK + 100_000:
        if pick.random() < 0.01:
            line = pick.choice(["", "  ", ",,,,"])
        else:
            account = f"A{pick.randrange(200_000)}" if pick.random() < 0.95 else ""
            name = f"{pick.choice(NAMES)} {pick.randrange(20_000)}".strip()
            values = [account, name, pick.choice(WORDS), pick.choice(NUMBERS), pick.choice(NUMBERS)]
            line = ",".join(_cell(v) for v in values)
        lines.append(line)
        size += len(line.encode()) + 2
    path = tmp_path / "accounts.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    assert path.stat().st_size > columnar._BLOCK
    _assert_same_as_rows(path)


def test_names_alike_in_different_slices_are_duplicates(tmp_path: Path) -> None:
    """Without ids, a name that normalises like one a slice of names earlier is still rejected."""
    rows = [f"Company {i},{i % 50}" for i in range(_KEY_SLICE + 10)]
    rows[3] = "Acme Inc,5"
    rows[_KEY_SLICE + 5] = '"ACME, Inc.",9'
    path = tmp_path / "accounts.csv"
    path.write_text("Company name,Employees\n" + "\n".join(rows) + "\n")
    table = read_account_table(path)
    assert [str(e) for e in table.errors] == [
        f"accounts.csv line {_KEY_SLICE + 7}, column 'Company name': duplicate account 'ACME, Inc.' "
        "(same company as 'Acme Inc' on line 5)"
    ]
    _assert_same_as_rows(path)


def test_quotes_at_the_first_and_last_byte(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(b'"Account ID","Account Name"\n"A1","Acme"\n"A2","Globex"')
    table = read_account_table(path)
    assert table.frame["name"].tolist() == ["Acme", "Globex"]
    _assert_same_as_rows(path)


def test_text_after_a_closing_quote_at_the_end_goes_row_wise(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(b'"Account ID","Account Name"\n"A1","Acme"x')
    assert _CsvSource.open(path, 2**20).columns() is None


_PEAK = """
import sys
from icp_engine.readers import read_account_table

def status(key):
    return next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith(key))

read_account_table(sys.argv[2])  # modules and Arrow's kernels loaded before measuring
before = status("VmRSS:")
table = read_account_table(sys.argv[1])
print(status("VmHWM:") - before, len(table.frame), len(table.errors))
"""


def test_reading_a_large_file_takes_a_few_times_its_size(tmp_path: Path) -> None:
    """Issue 16: the import worker's peak. Reading used to take 10-11x the file above the process."""
    header = "Record ID,Company name,Website,Industry,Employees,Annual Revenue,Country,Technologies\n"
    big, small = tmp_path / "big.csv", tmp_path / "small.csv"
    for path, size in ((big, 20_000_000), (small, 2_000)):
        with path.open("w") as out:
            out.write(header)
            i = 0
            while out.tell() < size:
                i += 1
                out.write(
                    f'{i},Company {i} Inc,company{i}.com,Software,{i % 500},"${i % 90 + 1},000,000",'
                    "Canada,Salesforce; Jira\n"
                )
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, str(big), str(small)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    growth, accepted, errors = map(int, done.stdout.split())
    assert (accepted, errors) == (_records(big), 0)
    assert growth < 8 * big.stat().st_size, f"{growth / big.stat().st_size:.1f}x the file"


def _records(path: Path) -> int:
    with path.open("rb") as data:
        return sum(1 for _ in data) - 1
