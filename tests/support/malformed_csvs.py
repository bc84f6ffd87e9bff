"""The malformed CRM files: more than thirty real files that `icp import` must refuse clearly.

Each :class:`Case` makes its file (or missing file, folder, bad option) in a folder and says which
command reads it and what the error must say. ``tests/integration/test_import_malformed.py``
imports each with the CLI; the bad-input reliability suite uploads the ones a user can upload.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.import_support import write

BASE_ACCOUNTS = "Account ID,Account Name,Industry\nA1,Acme Inc,Software\nA2,Globex GmbH,Manufacturing\n"
HUGE_LINE_BYTES = 200 * 2**20


@dataclass(frozen=True)
class Case:
    """One malformed input: how to make it, which command reads it, what the error must say."""

    id: str
    kind: str  # accounts | deals | health
    make: Callable[[Path], Path]
    expect: tuple[str, ...]
    options: tuple[str, ...] = ()
    needs_accounts: bool = False
    names_file: bool = True
    marks: tuple[pytest.MarkDecorator, ...] = field(default_factory=tuple)


def text_file(name: str, content: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    return lambda folder: write(folder / name, content, encoding)


def bytes_file(name: str, content: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content)
        return path

    return make


def png_bytes() -> bytes:
    """A real 1x1 PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def zip_bytes(folder: Path) -> bytes:
    import zipfile

    archive = folder / "book.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    return archive.read_bytes()


def huge_line(folder: Path) -> Path:
    """A 200 MB data line, written in 1 MB blocks (never held in memory)."""
    path = folder / "huge.csv"
    block = b"x" * 2**20
    with path.open("wb") as handle:
        handle.write(b"account,notes\nAcme,")
        for _ in range(HUGE_LINE_BYTES // len(block)):
            handle.write(block)
        handle.write(b"\n")
    return path


def mixed_encodings(folder: Path) -> Path:
    path = folder / "mixed.csv"
    path.write_bytes(
        b"account,country\n"
        + "Société Générale,France\n".encode()
        + "Müller GmbH,Germany\n".encode("latin-1")
    )
    return path


def bom_then_latin1(folder: Path) -> Path:
    path = folder / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfaccount,country\n" + "Müller GmbH,Germany\n".encode("latin-1"))
    return path


def folder_instead_of_file(folder: Path) -> Path:
    path = folder / "exports.csv"
    path.mkdir()
    return path


def unreadable(folder: Path) -> Path:
    path = write(folder / "locked.csv", "account\nAcme\n")
    path.chmod(0)
    return path


def zip_file(folder: Path) -> Path:
    path = folder / "accounts.xlsx"
    path.write_bytes(zip_bytes(folder))
    return path


ROOT = os.name == "posix" and os.geteuid() == 0

CASES = [
    # --- the file as a whole
    Case("empty-file", "accounts", text_file("empty.csv", ""), ("empty.csv is empty",)),
    Case("blank-lines-only", "accounts", text_file("blank.csv", "\n\n  \n"), ("blank.csv is empty",)),
    Case(
        "header-only",
        "accounts",
        text_file("header.csv", "account,sector\n"),
        ("header.csv has a header but no data rows",),
    ),
    Case(
        "png-image",
        "accounts",
        bytes_file("logo.csv", png_bytes()),
        ("logo.csv is not a text CSV file (binary content",),
    ),
    Case(
        "zip-workbook",
        "accounts",
        zip_file,
        ("accounts.xlsx is an Excel workbook or a zip archive", "export it as CSV"),
    ),
    Case("200-mb-line", "accounts", huge_line, ("huge.csv line 2: field larger than 10 MB",)),
    Case(
        "mixed-encodings",
        "accounts",
        mixed_encodings,
        ("mixed.csv mixes text encodings: line 2 is UTF-8 but line 3 is not valid UTF-8",),
    ),
    Case(
        "utf8-bom-then-latin1",
        "accounts",
        bom_then_latin1,
        ("bom.csv starts with a UTF-8 byte-order mark but line 2",),
    ),
    Case(
        "utf16-without-bom",
        "accounts",
        bytes_file("unicode.csv", "account,sector\nAcme,software\n".encode("utf-16-le")),
        ("unicode.csv is not a text CSV file",),
    ),
    Case(
        "nul-bytes",
        "accounts",
        bytes_file("nul.csv", b"account,sector\nAc\x00me,software\n"),
        ("nul.csv is not a text CSV file",),
    ),
    Case(
        "html-page",
        "accounts",
        text_file("page.csv", "<!DOCTYPE html><html><body>Login</body></html>\n"),
        ("page.csv looks like an HTML",),
    ),
    Case(
        "json-document",
        "accounts",
        text_file("data.csv", '[{"account": "Acme"}]\n'),
        ("data.csv looks like a JSON document",),
    ),
    Case(
        "wrong-delimiter",
        "accounts",
        text_file(
            "semi.csv", "account;sector;revenue\nAcme,software,100\nGlobex,retail,200\nInitech,finance,300\n"
        ),
        ("semi.csv: the header line is separated by semicolons", "but the data rows by commas"),
    ),
    Case(
        "unclosed-quote",
        "accounts",
        text_file("quote.csv", 'account,sector\n"Acme,software\nGlobex,retail\n'),
        ("quote.csv line 2: a quoted field is never closed",),
    ),
    Case(
        "duplicate-header",
        "accounts",
        text_file("twice.csv", "account,sector,sector\nAcme,a,b\n"),
        ("twice.csv line 1: the header names column 'sector' twice",),
    ),
    Case(
        "no-header-line",
        "accounts",
        text_file("nohead.csv", "1,2,3\n4,5,6\n"),
        ("nohead.csv line 1: the first line looks like data, not a header",),
    ),
    Case("folder", "accounts", folder_instead_of_file, ("exports.csv is a folder, not a CSV file",)),
    Case("missing-file", "accounts", lambda folder: folder / "nowhere.csv", ("nowhere.csv: file not found",)),
    Case(
        "unreadable",
        "accounts",
        unreadable,
        ("locked.csv cannot be opened: Permission denied",),
        marks=(
            pytest.mark.skipif(ROOT, reason="root reads any file, so permissions cannot make one unreadable"),
        ),
    ),
    # --- columns and --map
    Case(
        "missing-required-column",
        "accounts",
        text_file("cols.csv", "sector,revenue\nsoftware,100\n"),
        ("cols.csv: no column for 'name' or 'account_id'", "use --map name=<column>"),
    ),
    Case(
        "deals-without-id-column",
        "deals",
        text_file("deals.csv", "account,deal_stage\nAcme Inc,Won\n"),
        ("deals.csv: no column for 'deal_id'",),
        needs_accounts=True,
    ),
    Case(
        "deals-without-stage-column",
        "deals",
        text_file("deals.csv", "Deal ID,account\nD1,Acme Inc\n"),
        ("deals.csv: no column for 'stage'",),
        needs_accounts=True,
    ),
    Case(
        "map-to-missing-column",
        "accounts",
        text_file("accounts.csv", "company,sector\nAcme,software\n"),
        (
            "accounts.csv: --map name=Company Name: no column 'Company Name'",
            "the file's columns are: 'company', 'sector'",
        ),
        options=("--map", "name=Company Name"),
    ),
    Case(
        "map-unknown-field",
        "accounts",
        text_file("accounts.csv", "company,sector\nAcme,software\n"),
        ("accounts.csv: --map colour=sector: unknown field 'colour'",),
        options=("--map", "colour=sector"),
    ),
    Case(
        "map-bad-syntax",
        "accounts",
        text_file("accounts.csv", "company,sector\nAcme,software\n"),
        ("--map expects field=column, got 'industry'",),
        options=("--map", "industry"),
        names_file=False,
    ),
    # --- rows
    Case(
        "ragged-row",
        "accounts",
        text_file("ragged.csv", "account,sector,revenue\nAcme,software,1\nGlobex,retail\n"),
        ("ragged.csv line 3: has 2 fields but the header has 3 columns",),
    ),
    Case(
        "bad-number",
        "accounts",
        text_file("accounts.csv", "account,employees\nAcme,lots\n"),
        ("accounts.csv line 2, column 'employees': not a number: 'lots'",),
    ),
    Case(
        "negative-number",
        "accounts",
        text_file("accounts.csv", "account,revenue\nAcme,-5000\n"),
        ("accounts.csv line 2, column 'revenue': negative value: '-5000'",),
    ),
    Case(
        "employees-beyond-integer",
        "accounts",
        text_file("accounts.csv", "account,employees\nAcme,5000000000000\n"),
        ("accounts.csv line 2, column 'employees': more employees than can be stored",),
    ),
    Case(
        "duplicate-account-ids",
        "accounts",
        text_file("accounts.csv", "Account ID,Account Name\nA1,Acme\nA1,Globex\n"),
        ("accounts.csv line 3, column 'Account ID': duplicate account id 'A1' (first seen on line 2)",),
    ),
    Case(
        "duplicate-company-names",
        "accounts",
        text_file("accounts.csv", 'account,sector\nAcme Inc,software\n"ACME, Inc.",software\n'),
        (
            "accounts.csv line 3, column 'account': duplicate account 'ACME, Inc.' (same company as 'Acme Inc' on line 2)",
        ),
    ),
    Case(
        "account-id-too-long",
        "accounts",
        text_file("accounts.csv", f"Account ID,Account Name\n{'7' * 200},Acme\n"),
        ("accounts.csv line 2, column 'Account ID': account id is too long: 200 characters, at most 128",),
    ),
    Case(
        "industry-too-long",
        "accounts",
        text_file("accounts.csv", f"account,sector\nAcme,{'widgets ' * 30}\n"),
        ("accounts.csv line 2, column 'sector': industry is too long: 239 characters, at most 128",),
    ),
    Case(
        "deal-id-too-long",
        "deals",
        text_file("deals.csv", f"Deal ID,Account Name,Stage\n{'D' * 129},Acme Inc,Won\n"),
        ("deals.csv line 2, column 'Deal ID': deal id is too long: 129 characters, at most 128",),
        needs_accounts=True,
    ),
    Case(
        "bad-date",
        "deals",
        text_file(
            "deals.csv",
            "Deal ID,Account Name,Stage,Close Date\nD1,Acme Inc,Won,2022-03-01\nD2,Acme Inc,Won,yesterday\n",
        ),
        ("deals.csv line 3, column 'Close Date': not a date: 'yesterday'",),
        needs_accounts=True,
    ),
    Case(
        "impossible-date",
        "deals",
        text_file("deals.csv", "Deal ID,Account Name,Stage,Close Date\nD1,Acme Inc,Won,2022-02-30\n"),
        ("deals.csv line 2, column 'Close Date': not a valid date: '2022-02-30'",),
        needs_accounts=True,
    ),
    Case(
        "ambiguous-dates",
        "deals",
        text_file("deals.csv", "Deal ID,Account Name,Stage,Close Date\nD1,Acme Inc,Won,03/04/2022\n"),
        ("deals.csv line 2, column 'Close Date': ambiguous date '03/04/2022'",),
        needs_accounts=True,
    ),
    Case(
        "negative-amount",
        "deals",
        text_file("deals.csv", "Deal ID,Account Name,Stage,Amount\nD1,Acme Inc,Won,-10\n"),
        ("deals.csv line 2, column 'Amount': negative value: '-10'",),
        needs_accounts=True,
    ),
    Case(
        "duplicate-deal-ids",
        "deals",
        text_file("deals.csv", "Deal ID,Account Name,Stage\nD1,Acme Inc,Won\nD1,Globex GmbH,Lost\n"),
        ("deals.csv line 3, column 'Deal ID': duplicate deal id 'D1' (first seen on line 2)",),
        needs_accounts=True,
    ),
    Case(
        "unknown-account-name",
        "deals",
        text_file("deals.csv", "Deal ID,Account Name,Stage\nD1,Acme Inc,Won\nD2,Nowhere Ltd,Lost\n"),
        ("deals.csv line 3, column 'Account Name': unknown account 'Nowhere Ltd'",),
        needs_accounts=True,
    ),
    Case(
        "unknown-account-misspelt",
        "deals",
        text_file("deals.csv", "Deal ID,Account Name,Stage\nD1,Globexx GmbH,Won\n"),
        (
            "deals.csv line 2, column 'Account Name': unknown account 'Globexx GmbH' (did you mean 'Globex GmbH'?)",
        ),
        needs_accounts=True,
    ),
    Case(
        "unknown-account-id",
        "deals",
        text_file("deals.csv", "Deal ID,Account ID,Stage\nD1,A9,Won\n"),
        ("deals.csv line 2, column 'Account ID': unknown account id 'A9'",),
        needs_accounts=True,
    ),
    Case(
        "unknown-deal-stage-closed",
        "deals",
        text_file("deals.csv", "Deal ID,Account Name,Stage\nD1,Acme Inc,Closed\n"),
        ("deals.csv line 2, column 'Stage': unknown deal stage 'Closed'", "not a stage read as won or lost"),
        needs_accounts=True,
    ),
    Case(
        "unknown-deal-stage-number",
        "deals",
        text_file("deals.csv", "Deal ID,Account Name,Stage\nD1,Acme Inc,104729\n"),
        ("deals.csv line 2, column 'Stage': unknown deal stage '104729': a number, not a stage name",),
        needs_accounts=True,
    ),
    Case(
        "bad-won-flag",
        "deals",
        text_file("deals.csv", "Id,AccountId,StageName,IsWon,IsClosed\nD1,A1,Closed Won,maybe,true\n"),
        ("deals.csv line 2, column 'IsWon': not a yes/no value: 'maybe'",),
        needs_accounts=True,
    ),
    Case(
        "deals-before-accounts",
        "deals",
        text_file("deals.csv", "Deal ID,Account Name,Stage\nD1,Acme Inc,Won\n"),
        ("deals.csv: workspace", "has no accounts yet", "import the accounts first"),
    ),
    Case(
        "health-before-accounts",
        "health",
        text_file("health.csv", "Account ID,ARR\nA1,100\n"),
        ("health.csv: workspace", "has no accounts yet"),
    ),
    Case(
        "health-unknown-account",
        "health",
        text_file("health.csv", "Account Name,ARR\nAcme Inc,100\nNowhere Ltd,50\n"),
        ("health.csv line 3, column 'Account Name': unknown account 'Nowhere Ltd'",),
        needs_accounts=True,
    ),
    Case(
        "health-nps-out-of-range",
        "health",
        text_file("health.csv", "Account ID,NPS\nA1,150\n"),
        ("health.csv line 2, column 'NPS': above 100: '150'",),
        needs_accounts=True,
    ),
    Case(
        "health-bad-churn-flag",
        "health",
        text_file("health.csv", "Account ID,Churned\nA1,perhaps\n"),
        ("health.csv line 2, column 'Churned': not a yes/no value: 'perhaps'",),
        needs_accounts=True,
    ),
    Case(
        "health-fractional-referrals",
        "health",
        text_file("health.csv", "Account ID,Referrals\nA1,2.5\n"),
        ("health.csv line 2, column 'Referrals': not a whole number: 2.5",),
        needs_accounts=True,
    ),
    Case(
        "health-duplicate-account",
        "health",
        text_file("health.csv", "Account ID,ARR\nA1,100\nA1,200\n"),
        ("health.csv line 3, column 'Account ID': duplicate account 'A1' (first seen on line 2)",),
        needs_accounts=True,
    ),
]
