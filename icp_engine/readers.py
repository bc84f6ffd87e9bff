"""Read accounts, deals and customer health from CSV exports (HubSpot, Salesforce, spreadsheets).

CRM exports are messy: byte-order marks, `;` or tab delimiters, Latin-1 files from old Excel,
quoted fields with embedded newlines, HubSpot's "Company name" next to Salesforce's "Account Name".
This module turns such a file into typed rows and reports every problem precisely:

- file-level problems (empty, binary, wrong delimiter, missing column, field over the size cap,
  mixed encodings) raise :class:`CsvFormatError`, whose message names the file;
- row-level problems are collected as :class:`RowError` ("deals.csv line 14, column 'amount': not a
  number: 'abc'") and never raised, so an import can show all of them at once.

Deals files can have millions of rows: :class:`DealStream` types them one at a time (reading the
file twice) instead of holding them, and :func:`read_deals` is that stream collected.

Values of canonical attributes (industry, country, ...) are kept as the raw strings of the file;
normalising them is a separate pass (``icp_engine.normalize``). Line numbers are physical: the line
on which a record starts, counting blank lines and the newlines inside quoted fields.
"""

from __future__ import annotations

import csv
import difflib
import itertools
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO, Generic, Literal, Protocol, TypeVar

from icp_engine.normalize import parse_number

__all__ = [
    "ACCOUNT_FIELDS",
    "DEAL_FIELDS",
    "DEFAULT_MAX_FIELD_BYTES",
    "HEALTH_FIELDS",
    "AccountMatcher",
    "AccountRow",
    "CsvFormatError",
    "CsvTable",
    "DealRow",
    "DealStream",
    "HealthRow",
    "JoinResult",
    "ReadResult",
    "RowError",
    "join_deals",
    "join_health",
    "normalize_company_name",
    "parse_dates",
    "parse_map_options",
    "read_accounts",
    "read_deals",
    "read_health",
    "read_table",
    "resolve_columns",
]

DEFAULT_MAX_FIELD_BYTES = 10 * 2**20

Stage = Literal["won", "lost", "open"]


# ---------------------------------------------------------------------------------------------------
# Errors and result types
# ---------------------------------------------------------------------------------------------------


class CsvFormatError(ValueError):
    """The file as a whole cannot be read; the message names the file and says what to fix."""


@dataclass(frozen=True)
class RowError:
    """One bad value or record; ``line`` is the physical line where the record starts."""

    file: str
    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file} line {self.line}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.reason}"


@dataclass
class CsvTable:
    """A decoded CSV file: header and (line, values) rows; values are whitespace-stripped strings."""

    file: str
    encoding: str
    delimiter: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class AccountRow:
    """An account; ``attributes`` holds mapped canonical fields (except id and name) and custom columns."""

    line: int
    account_id: str | None
    name: str | None
    domain: str | None
    attributes: dict[str, str]


@dataclass(frozen=True)
class DealRow:
    """A deal; ``stage_raw`` keeps the CRM's own wording, ``attributes`` the unmapped columns."""

    line: int
    deal_id: str
    account_id: str | None
    account_name: str | None
    stage: Stage
    stage_raw: str
    amount: float | None
    created_date: date | None
    close_date: date | None
    attributes: dict[str, str]


@dataclass(frozen=True)
class HealthRow:
    """Customer health for one account.

    ``nps`` is read as written, in -100..100: an account-level NPS score, or a single survey response
    on the 0..10 scale; :attr:`ReadResult.nps_scale` says which one the column holds.
    """

    line: int
    account_id: str | None
    account_name: str | None
    arr: float | None
    acv: float | None
    tenure_months: float | None
    customer_since: date | None
    churned: bool | None
    churn_date: date | None
    nps: float | None
    health_score: float | None
    expansion_arr: float | None
    referrals: float | None
    attributes: dict[str, str]


RowT = TypeVar("RowT")


@dataclass
class ReadResult(Generic[RowT]):
    """Rows without errors, the row errors, findings for the user, and how the file was read.

    ``columns`` is the field -> column mapping used. ``nps_scale`` is set for health files only:
    "response" when every NPS value is an integer in 0..10, otherwise "score".
    """

    file: str
    rows: list[RowT]
    errors: list[RowError]
    findings: list[str]
    columns: dict[str, str]
    encoding: str
    delimiter: str
    nps_scale: Literal["score", "response"] | None = None


@dataclass
class JoinResult(Generic[RowT]):
    """Each row with its account (None when it names none or an unknown one), errors and findings."""

    pairs: list[tuple[RowT, AccountRow | None]]
    errors: list[RowError]
    findings: list[str]


# ---------------------------------------------------------------------------------------------------
# Column aliases: field -> usual column names (matched ignoring case, spaces and punctuation)
# ---------------------------------------------------------------------------------------------------

ACCOUNT_FIELDS: dict[str, list[str]] = {
    "account_id": [
        "Record ID",
        "Account ID",
        "AccountId",
        "Id",
        "Company ID",
        "hs_object_id",
        "customer_id",
    ],
    "name": [
        "Company name",
        "Account Name",
        "Name",
        "account",
        "company",
        "account_name",
        "organization",
        "organisation",
        "customer",
        "client",
    ],
    "domain": ["Company Domain Name", "Website", "Website URL", "domain", "url", "web"],
    "industry": ["Industry", "sector", "vertical", "Industry Type"],
    "employees": [
        "Number of Employees",
        "Employees",
        "NumberOfEmployees",
        "employee_count",
        "headcount",
        "company_size",
        "size",
    ],
    "annual_revenue": ["Annual Revenue", "AnnualRevenue", "revenue", "turnover"],
    "country": [
        "Country/Region",
        "Country",
        "Billing Country",
        "BillingCountry",
        "office_location",
        "hq_country",
        "headquarters",
    ],
    "region": ["Region", "Sales Region", "geo", "territory"],
    "tech_stack": ["Tech Stack", "Technologies", "Web Technologies", "technology"],
}

DEAL_FIELDS: dict[str, list[str]] = {
    "deal_id": ["Record ID", "Deal ID", "Opportunity ID", "OpportunityId", "Id", "hs_object_id"],
    "account_id": [
        "Associated Company IDs",
        "Associated Company IDs (Primary)",
        "Associated Company ID",
        "Account ID",
        "AccountId",
        "company_id",
    ],
    "account_name": [
        "Associated Company",
        "Associated Company (Primary)",
        "Account Name",
        "Account",
        "Company",
        "Company name",
        "customer",
        "client",
    ],
    "stage": ["Deal Stage", "Stage", "StageName", "Opportunity Stage", "status", "outcome"],
    "is_won": ["IsWon", "Won", "Is Won"],
    "is_closed": ["IsClosed", "Closed", "Is Closed"],
    "amount": ["Amount", "close_value", "deal_value", "value", "Amount in company currency", "deal_amount"],
    "created_date": [
        "Create Date",
        "Created Date",
        "CreatedDate",
        "created",
        "created_at",
        "engage_date",
        "open_date",
        "start_date",
    ],
    "close_date": ["Close Date", "CloseDate", "closed_at", "closed_date", "date_closed"],
}

HEALTH_FIELDS: dict[str, list[str]] = {
    "account_id": ["Record ID", "Account ID", "AccountId", "Id", "Company ID", "customer_id"],
    "account_name": ["Company name", "Account Name", "Name", "account", "company", "customer", "client"],
    "arr": ["ARR", "Annual Recurring Revenue", "current_arr"],
    "acv": ["ACV", "Annual Contract Value"],
    "tenure_months": ["Tenure (months)", "tenure", "months_as_customer", "customer_tenure"],
    "customer_since": [
        "Customer Since",
        "Became a Customer Date",
        "contract_start",
        "first_purchase_date",
        "start_date",
    ],
    "churned": ["Churned", "is_churned", "churn", "Churn Flag"],
    "churn_date": ["Churn Date", "churned_at", "cancellation_date", "cancel_date"],
    "nps": ["NPS", "NPS Score", "net_promoter_score"],
    "health_score": ["Health Score", "health", "customer_health_score"],
    "expansion_arr": ["Expansion ARR", "expansion", "upsell_arr", "expansion_revenue"],
    "referrals": ["Referrals", "referral_count", "number_of_referrals"],
}


def _key(text: str) -> str:
    """Matching key for column names: casefolded, letters and digits only."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


# ---------------------------------------------------------------------------------------------------
# Reading a CSV file into a table
# ---------------------------------------------------------------------------------------------------

_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f]")
_BINARY_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f]")
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_SEP_LINE = re.compile(r"sep=(.)", re.IGNORECASE)
_DATA_LIKE = re.compile(r"[-+$€£]?\d[\d.,/:\- ]*")
_SNIFF_LINES = 100
_SNIFF_CHARS = 2**20
_FIELD_LIMIT_LOCK = threading.RLock()  # a pass can hold it while it is consumed


def _size_text(limit: int) -> str:
    if limit >= 2**20 and limit % 2**20 == 0:
        return f"{limit // 2**20} MB"
    if limit >= 2**10 and limit % 2**10 == 0:
        return f"{limit // 2**10} KB"
    return f"{limit} bytes"


@contextmanager
def _field_limit(limit: int) -> Iterator[None]:
    """csv.field_size_limit is process-global: set it for one read and put the old value back."""
    with _FIELD_LIMIT_LOCK:
        old = csv.field_size_limit(limit)
        try:
            yield
        finally:
            csv.field_size_limit(old)


def _open_binary(path: Path, name: str) -> BinaryIO:
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise CsvFormatError(f"{name}: file not found ({path})") from None
    except IsADirectoryError:
        raise CsvFormatError(f"{name} is a folder, not a CSV file ({path})") from None
    except OSError as exc:
        raise CsvFormatError(f"{name} cannot be opened: {exc.strerror or exc}") from None


def _detect_encoding(path: Path, name: str, limit: int) -> str:
    """Scan the bytes once, line by line with bounded reads, and choose the text encoding.

    Raises for binary content, a line longer than ``limit`` (never read whole), an empty file,
    and a file that is partly UTF-8 and partly something else (decoding it either way would
    silently corrupt names, so the user must re-save it).
    """
    with _open_binary(path, name) as handle:
        head = handle.read(4)
        if head.startswith(b"PK\x03\x04"):
            raise CsvFormatError(
                f"{name} is an Excel workbook or a zip archive, not a CSV file: export it as CSV"
            )
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return _check_utf16(path, name, limit)
        bom = head.startswith(b"\xef\xbb\xbf")
        start = 3 if bom else 0
        handle.seek(start)
        offset, line_no, has_content = start, 0, False
        first_utf8: int | None = None
        first_bad: tuple[int, int, int] | None = None
        cp1252_ok = True
        while raw := handle.readline(limit + 1):
            line_no += 1
            if len(raw) > limit and not raw.endswith(b"\n"):
                size = _size_text(limit)
                raise CsvFormatError(
                    f"{name} line {line_no}: field larger than {size} (the line is over {size} long)"
                )
            binary = _BINARY_BYTES.search(raw)
            if binary:
                raise CsvFormatError(
                    f"{name} is not a text CSV file (binary content at byte {offset + binary.start()})"
                )
            has_content = has_content or bool(raw.strip())
            if not raw.isascii():
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    if first_bad is None:
                        first_bad = (line_no, offset + exc.start, raw[exc.start])
                    cp1252_ok = cp1252_ok and not _CP1252_UNDEFINED.search(raw)
                else:
                    first_utf8 = first_utf8 or line_no
            offset += len(raw)
    if not has_content:
        raise CsvFormatError(f"{name} is empty")
    if first_bad is None:
        return "utf-8-sig" if bom else "utf-8"
    bad_line, bad_offset, bad_byte = first_bad
    bad = f"line {bad_line} is not valid UTF-8 (byte 0x{bad_byte:02X} at byte {bad_offset})"
    if first_utf8 is not None:
        raise CsvFormatError(
            f"{name} mixes text encodings: line {first_utf8} is UTF-8 but {bad}; "
            "save the whole file again as UTF-8"
        )
    if bom:
        raise CsvFormatError(
            f"{name} starts with a UTF-8 byte-order mark but {bad}; save the whole file again as UTF-8"
        )
    return "cp1252" if cp1252_ok else "latin-1"


def _check_utf16(path: Path, name: str, limit: int) -> str:
    """UTF-16 files (Excel's "Unicode text") get the same checks, on decoded text."""
    has_content, line_no = False, 0
    try:
        with path.open("r", encoding="utf-16", newline="") as handle:
            while line := handle.readline(limit + 1):
                line_no += 1
                if len(line) > limit and not line.endswith(("\n", "\r")):
                    size = _size_text(limit)
                    raise CsvFormatError(
                        f"{name} line {line_no}: field larger than {size} (the line is over {size} long)"
                    )
                if _BINARY_CHARS.search(line):
                    raise CsvFormatError(f"{name} is not a text CSV file (binary content on line {line_no})")
                has_content = has_content or bool(line.strip())
    except UnicodeDecodeError as exc:
        raise CsvFormatError(
            f"{name} starts like UTF-16 but line {line_no + 1} is not valid UTF-16 ({exc.reason})"
        ) from None
    if not has_content:
        raise CsvFormatError(f"{name} is empty")
    return "utf-16"


def _records(lines: Sequence[str], delimiter: str, complete: bool) -> list[list[str]]:
    """Non-blank records of a sample; the last one is dropped when the sample may have cut it."""
    try:
        records = [r for r in csv.reader(lines, delimiter=delimiter) if any(v.strip() for v in r)]
    except csv.Error:
        return []
    if not complete and len(records) > 1:
        records.pop()
    return records


def _usual_width(records: Sequence[list[str]]) -> tuple[int, float]:
    """The most common field count of the records and the share of records that have it."""
    if not records:
        return 0, 0.0
    width, count = Counter(len(r) for r in records).most_common(1)[0]
    return width, count / len(records)


def _sniff(name: str, sample: Sequence[str], complete: bool) -> tuple[str, bool]:
    """Choose the delimiter from the header line and check the data rows agree with it.

    Returns (delimiter, whether the first non-blank line is an Excel "sep=;" hint to skip).
    """
    body = list(itertools.dropwhile(lambda line: not line.strip(), sample))
    if not body:
        return ",", False
    first = body[0].lstrip()
    if first.startswith("<"):
        raise CsvFormatError(f"{name} looks like an HTML or XML document, not a CSV file")
    if first.startswith("{") or (first.startswith("[") and first[1:].lstrip().startswith(("{", '"', "["))):
        raise CsvFormatError(f"{name} looks like a JSON document, not a CSV file")
    hint = _SEP_LINE.fullmatch(body[0].rstrip("\r\n"))
    if hint:
        return hint.group(1), True
    parsed = {d: _records(body, d, complete) for d in _DELIMITERS}
    widths = {d: len(recs[0]) if recs else 0 for d, recs in parsed.items()}
    preview = body[0].strip()[:60]
    wide = [d for d in _DELIMITERS if widths[d] > 1]
    if not wide:
        for d in _DELIMITERS:
            width, share = _usual_width(parsed[d][1:])
            if width > 1 and share >= 0.8:
                raise CsvFormatError(
                    f"{name}: the header line has a single column ('{preview}') but the data rows are "
                    f"separated by {_DELIMITER_NAMES[d]}; check the delimiter, or remove any title "
                    "lines above the header"
                )
        return ",", False

    def fit(d: str) -> tuple[int, int, int]:
        matches = sum(len(r) == widths[d] for r in parsed[d][1:])
        return matches, widths[d], -_DELIMITERS.index(d)

    best = max(wide, key=fit)
    data = parsed[best][1:]
    if data and fit(best)[0] * 2 < len(data):
        for other in _DELIMITERS:
            width, share = _usual_width(parsed[other][1:])
            if other != best and widths[other] == 1 and width > 1 and share >= 0.8:
                raise CsvFormatError(
                    f"{name}: the header line is separated by {_DELIMITER_NAMES[best]} "
                    f"({widths[best]} columns) but the data rows by {_DELIMITER_NAMES[other]}; "
                    "check the delimiter"
                )
    return best, False


def _check_header(name: str, line: int, record: list[str]) -> list[str]:
    names = [value.strip().lstrip("\ufeff").strip() for value in record]
    while names and not names[-1]:
        names.pop()  # spreadsheets often leave empty trailing columns
    for position, column in enumerate(names, 1):
        if not column:
            raise CsvFormatError(f"{name} line {line}: column {position} of the header has no name")
    seen: dict[str, int] = {}
    for position, column in enumerate(names, 1):
        if column in seen:
            raise CsvFormatError(
                f"{name} line {line}: the header names column '{column}' twice "
                f"(columns {seen[column]} and {position})"
            )
        seen[column] = position
    if all(_DATA_LIKE.fullmatch(column) for column in names):
        raise CsvFormatError(
            f"{name} line {line}: the first line looks like data, not a header "
            f"('{','.join(names)[:60]}'); add a header line with the column names"
        )
    return names


@dataclass(frozen=True)
class _Header:
    """The header record of a scan: where it is, the column names and the delimiter chosen."""

    line: int
    names: list[str]
    delimiter: str


Record = tuple[int, list[str]]  # (line, whitespace-stripped values, one per header column)


def _scan(
    path: Path, name: str, encoding: str, max_field_bytes: int, *, strip: bool = True
) -> Iterator[_Header | Record | RowError]:
    """One pass over a CSV file: the header first, then each data record or ragged-row error.

    File-level problems raise CsvFormatError as they are met. The field-size limit is held for
    the whole pass, so callers consume a scan to the end or close it (``_CsvSource.records``).
    ``strip=False`` leaves full-width records' values as written (a pass that only counts or
    looks at a few columns strips those itself).
    """
    header: list[str] | None = None
    with _field_limit(max_field_bytes), path.open("r", encoding=encoding, newline="") as handle:
        sample: list[str] = []
        size, complete = 0, False
        while len(sample) < _SNIFF_LINES and size < _SNIFF_CHARS:
            line = handle.readline()
            if not line:
                complete = True
                break
            sample.append(line)
            size += len(line)
        delimiter, skip_hint = _sniff(name, sample, complete)
        reader = csv.reader(itertools.chain(sample, handle), delimiter=delimiter, strict=True)
        width = 0
        while True:
            start = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                message = str(exc)
                if "field larger than field limit" in message:
                    raise CsvFormatError(
                        f"{name} line {start}: field larger than {_size_text(max_field_bytes)}"
                    ) from None
                if "unexpected end of data" in message:
                    raise CsvFormatError(
                        f"{name} line {start}: a quoted field is never closed "
                        "(its opening quote runs to the end of the file)"
                    ) from None
                if header is None:
                    raise CsvFormatError(f"{name} line {start}: malformed header line ({message})") from None
                yield RowError(name, start, None, f"malformed quoting ({message})")
                continue
            if len(record) == width and header is not None:  # the common case, checked first
                if strip:
                    values = list(map(str.strip, record))
                    if any(values):
                        yield start, values
                elif any(map(str.strip, record)):
                    yield start, record
                continue
            if not any(value.strip() for value in record):
                continue
            if skip_hint:
                skip_hint = False
                continue
            if header is None:
                header = _check_header(name, start, record)
                width = len(header)
                yield _Header(start, header, delimiter)
                continue
            if len(record) > width and any(value.strip() for value in record[width:]):
                yield RowError(
                    name,
                    start,
                    None,
                    f"has {len(record)} fields but the header has {width} columns "
                    f"(an unquoted {_DELIMITER_NAMES[delimiter][:-1]} inside a value?)",
                )
                continue
            if len(record) < width:
                yield RowError(
                    name, start, None, f"has {len(record)} fields but the header has {width} columns"
                )
                continue
            yield start, [value.strip() for value in record[:width]]
    if header is None:
        raise CsvFormatError(f"{name} is empty (only blank lines)")


@dataclass(frozen=True)
class _CsvSource:
    """A CSV file whose encoding, delimiter and header are known, to be scanned once or more."""

    path: Path
    file: str
    encoding: str
    max_field_bytes: int
    header: _Header

    @classmethod
    def open(cls, path: str | Path, max_field_bytes: int) -> _CsvSource:
        """Check the bytes and find the header (file-level problems raise CsvFormatError)."""
        path = Path(path)
        encoding = _detect_encoding(path, path.name, max_field_bytes)
        with closing(_scan(path, path.name, encoding, max_field_bytes)) as scan:
            first = next(scan)
        assert isinstance(first, _Header)
        return cls(path, path.name, encoding, max_field_bytes, first)

    @property
    def delimiter(self) -> str:
        return self.header.delimiter

    def table(self) -> CsvTable:
        """An empty table with this file's header (what column mapping and its messages need)."""
        return CsvTable(self.file, self.encoding, self.delimiter, list(self.header.names), [])

    @contextmanager
    def records(self, *, strip: bool = True) -> Iterator[Iterator[Record | RowError]]:
        """A fresh pass over the data records; a file changed since it was opened raises."""
        with closing(_scan(self.path, self.file, self.encoding, self.max_field_bytes, strip=strip)) as scan:
            if next(scan) != self.header:
                raise CsvFormatError(f"{self.file} changed while it was being read; import it again")
            yield scan  # type: ignore[misc]

    def read_all(self) -> tuple[list[Record], list[RowError]]:
        """Every data record and ragged-row error, in file order."""
        rows: list[Record] = []
        errors: list[RowError] = []
        with self.records() as scan:
            for item in scan:
                if isinstance(item, RowError):
                    errors.append(item)
                else:
                    rows.append(item)  # type: ignore[arg-type]
        return rows, errors


def read_table(path: str | Path, *, max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES) -> CsvTable:
    """Decode and parse one CSV file; ragged rows become RowErrors, file problems CsvFormatError.

    Encoding: UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252 (the Windows superset of
    Latin-1) or Latin-1. Delimiter: one of , ; tab | chosen from the header line. Fully blank lines
    are skipped; extra trailing fields that are empty are ignored.
    """
    source = _CsvSource.open(path, max_field_bytes)
    records, errors = source.read_all()
    names = source.header.names
    rows = [(line, dict(zip(names, values, strict=True))) for line, values in records]
    return CsvTable(source.file, source.encoding, source.delimiter, list(names), rows, errors)


# ---------------------------------------------------------------------------------------------------
# Column mapping
# ---------------------------------------------------------------------------------------------------


def parse_map_options(items: Iterable[str]) -> dict[str, str]:
    """Parse CLI ``--map field=column`` options; ``field=`` (empty) means "do not map this field"."""
    mapping: dict[str, str] = {}
    for item in items:
        field_name, sep, column = item.partition("=")
        if not sep or not field_name.strip():
            raise ValueError(f"--map expects field=column, got '{item}'")
        mapping[field_name.strip()] = column.strip()
    return mapping


def _columns_text(table: CsvTable) -> str:
    return ", ".join(f"'{c}'" for c in table.header)


def resolve_columns(
    table: CsvTable,
    fields: Mapping[str, Sequence[str]],
    overrides: Mapping[str, str] | None = None,
    *,
    required: Sequence[str | tuple[str, ...]] = (),
) -> dict[str, str]:
    """Map each field to one column: overrides first, then the field name and its aliases in order.

    A required entry that is a tuple is satisfied by any of its fields. An override with an empty
    column switches the field off. Unknown fields, missing columns, a column name matching several
    columns, and missing required fields raise CsvFormatError.
    """
    by_key: dict[str, list[str]] = {}
    for column in table.header:
        by_key.setdefault(_key(column), []).append(column)
    field_by_key = {_key(f): f for f in fields}
    mapping: dict[str, str] = {}
    disabled: set[str] = set()
    for given_field, given_column in (overrides or {}).items():
        field_name = field_by_key.get(_key(given_field))
        if field_name is None:
            raise CsvFormatError(
                f"{table.file}: --map {given_field}={given_column}: unknown field '{given_field}'; "
                f"valid fields: {', '.join(fields)}"
            )
        wanted = given_column.strip()
        if not wanted:
            disabled.add(field_name)
            continue
        matches = [wanted] if wanted in table.header else by_key.get(_key(wanted), [])
        if len(matches) != 1:
            problem = f"no column '{wanted}'" if not matches else f"'{wanted}' matches several columns"
            raise CsvFormatError(
                f"{table.file}: --map {field_name}={wanted}: {problem}; "
                f"the file's columns are: {_columns_text(table)}"
            )
        mapping[field_name] = matches[0]
    used = set(mapping.values())
    for field_name, aliases in fields.items():
        if field_name in mapping or field_name in disabled:
            continue
        for alias in (field_name, *aliases):
            found = [c for c in by_key.get(_key(alias), []) if c not in used]
            if len(found) > 1:
                listed = ", ".join(f"'{c}'" for c in found)
                raise CsvFormatError(
                    f"{table.file}: columns {listed} all look like '{field_name}'; "
                    f"choose one with --map {field_name}=<column>"
                )
            if found:
                mapping[field_name] = found[0]
                used.add(found[0])
                break
    for requirement in required:
        options = (requirement,) if isinstance(requirement, str) else tuple(requirement)
        if any(option in mapping for option in options):
            continue
        looked = ", ".join(dict.fromkeys(a for option in options for a in (option, *fields[option])))
        wanted_fields = " or ".join(f"'{option}'" for option in options)
        raise CsvFormatError(
            f"{table.file}: no column for {wanted_fields} (looked for: {looked}); "
            f"use --map {options[0]}=<column>. The file's columns are: {_columns_text(table)}"
        )
    return {f: mapping[f] for f in fields if f in mapping}


# ---------------------------------------------------------------------------------------------------
# Values: numbers, yes/no, dates
# ---------------------------------------------------------------------------------------------------

_TRUE = frozenset({"true", "yes", "y", "t", "1", "1.0", "x"})
_FALSE = frozenset({"false", "no", "n", "f", "0", "0.0"})
_CHURNED_WORDS = frozenset({"churned", "cancelled", "canceled", "lost", "inactive"})
_ACTIVE_WORDS = frozenset({"active", "retained", "current", "customer"})

_TIME = (
    r"(?:(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?"
    r"\s*(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT)?)?"
)
_ISO_DATE = re.compile(rf"(\d{{4}})([-/.])(\d{{1,2}})\2(\d{{1,2}}){_TIME}")
_NUMERIC_DATE = re.compile(rf"(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{4}}|\d{{2}}){_TIME}")
_NAMED_DMY = re.compile(rf"(\d{{1,2}})[-\s]([A-Za-z]{{3,9}})\.?[-\s,]\s*(\d{{4}}){_TIME}")
_NAMED_MDY = re.compile(rf"([A-Za-z]{{3,9}})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}}){_TIME}")
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_FAMILIES = ("iso", "numeric", "named")


@dataclass(frozen=True)
class _DateShape:
    family: str  # iso: first=month second=day; numeric: order unknown; named: first=month second=day
    first: int
    second: int
    year: int
    sep: str


def _month(word: str) -> int | None:
    word = word.casefold()
    for number, full in enumerate(_MONTHS, 1):
        if len(word) >= 3 and full.startswith(word):
            return number
    return None


def _date_shape(text: str) -> _DateShape | None:
    if m := _ISO_DATE.fullmatch(text):
        return _DateShape("iso", int(m[3]), int(m[4]), int(m[1]), m[2])
    if m := _NUMERIC_DATE.fullmatch(text):
        year = int(m[4])
        if len(m[4]) == 2:
            year += 2000 if year < 70 else 1900
        return _DateShape("numeric", int(m[1]), int(m[3]), year, m[2])
    for pattern, day_group, month_group in ((_NAMED_DMY, 1, 2), (_NAMED_MDY, 2, 1)):
        if (m := pattern.fullmatch(text)) and (month := _month(m[month_group])):
            return _DateShape("named", month, int(m[day_group]), int(m[3]), " ")
    return None


DayOrder = Literal["dmy", "mdy"]


def _numeric_order(shapes: Iterable[tuple[_DateShape | None, int]]) -> tuple[DayOrder | None, bool]:
    """Day/month order proven by numeric dates ('dmy', 'mdy' or None) and whether proofs conflict.

    ``shapes`` are (shape, how many values have it), so a column is read once per distinct text.
    """
    day_first = month_first = 0
    dots = False
    for shape, count in shapes:
        if shape is None or shape.family != "numeric":
            continue
        day_first += count * (shape.first > 12 >= shape.second)
        month_first += count * (shape.second > 12 >= shape.first)
        dots = dots or shape.sep == "."
    if day_first > month_first:
        return "dmy", False
    if month_first > day_first:
        return "mdy", False
    if day_first == 0 and dots:
        return "dmy", False
    return None, day_first > 0


DateLookup = dict[str, "date | str"]  # text -> its date, or the reason it is not one


def _date_lookup(counts: Mapping[str, int], order_hint: DayOrder | None = None) -> DateLookup:
    """Read one column's distinct non-empty texts (with how often each occurs) in ONE format.

    Dates repeat a lot in CRM exports, so each distinct text is parsed once; the counts weigh
    the column-wide choices exactly as if every value had been looked at.
    """
    shapes = {text: _date_shape(text) for text in counts}
    families: Counter[str] = Counter()
    seps: Counter[str] = Counter()
    for text, shape in shapes.items():
        if shape:
            families[shape.family] += counts[text]
            if shape.family == "numeric":
                seps[shape.sep] += counts[text]
    family = max(families, key=lambda f: (families[f], -_FAMILIES.index(f))) if families else None
    order, conflict = _numeric_order((shape, counts[text]) for text, shape in shapes.items())
    if order is None and not conflict:
        order = order_hint
    sep = seps.most_common(1)[0][0] if seps else "/"
    format_name = {
        "iso": "YYYY-MM-DD",
        "named": "D Mon YYYY",
        "numeric": {"dmy": "DD{0}MM{0}YYYY", "mdy": "MM{0}DD{0}YYYY"}.get(
            order or "", "NN{0}NN{0}YYYY"
        ).format(sep),
    }.get(family or "", "")
    return {
        text: _read_date(text, shape, family, order, conflict, format_name) for text, shape in shapes.items()
    }


def _read_date(
    text: str,
    shape: _DateShape | None,
    family: str | None,
    order: DayOrder | None,
    conflict: bool,
    format_name: str,
) -> date | str:
    """One text as a date in the column's format, or the reason it cannot be one."""
    if shape is None:
        return f"not a date: '{text}'"
    if shape.family != family:
        return f"date '{text}' is not in this column's format ({format_name})"
    month, day = shape.first, shape.second
    if family == "numeric":
        if order is None and shape.first != shape.second:
            if conflict:
                return f"date '{text}': this column mixes day-first and month-first dates; write dates as YYYY-MM-DD"
            return (
                f"ambiguous date '{text}': day and month cannot be told apart (no value in this "
                "column has a day above 12); write dates as YYYY-MM-DD"
            )
        if order == "dmy":
            day, month = shape.first, shape.second
    try:
        value = date(shape.year, month, day)
    except ValueError:
        return f"not a valid date: '{text}' (read as {format_name})"
    if not 1900 <= value.year <= 2100:
        return f"implausible year in date '{text}'"
    return value


def parse_dates(
    values: Sequence[tuple[int, str]], *, order_hint: DayOrder | None = None
) -> tuple[dict[int, date], dict[int, str]]:
    """Parse one column's (line, text) values with ONE format inferred from all of them.

    The column's format family (ISO, numeric d/m/y or m/d/y, named month) is the most common one;
    a day above 12 proves day-first or month-first order, and dots mean day-first. Without proof
    in the column, ``order_hint`` (the order proven by the file's other date columns) is used.
    Values whose order still cannot be told (03/01/2017) are errors, not guesses.
    Returns dates by line and error reasons by line; empty values are in neither.
    """
    lookup = _date_lookup(Counter(text for _, text in values if text), order_hint)
    parsed: dict[int, date] = {}
    problems: dict[int, str] = {}
    for line, text in values:
        if text:
            value = lookup[text]
            if isinstance(value, str):
                problems[line] = value
            else:
                parsed[line] = value
    return parsed, problems


def _date_lookups(counts: Mapping[str, Counter[str]]) -> dict[str, DateLookup]:
    """Each date field's lookup; a day/month order proven in one column settles the others."""
    orders = {
        _numeric_order((_date_shape(text), n) for text, n in texts.items())[0] for texts in counts.values()
    } - {None}
    hint = orders.pop() if len(orders) == 1 else None
    return {f: _date_lookup(texts, order_hint=hint) for f, texts in counts.items()}


def _count_dates(
    records: Iterable[Record], index: Mapping[str, int], fields: Iterable[str]
) -> dict[str, Counter[str]]:
    """How often each non-empty text occurs in each mapped date field (fields without a column are left out)."""
    positions = {f: index[f] for f in fields if f in index}
    counts: dict[str, Counter[str]] = {f: Counter() for f in positions}
    for _, values in records:
        for f, position in positions.items():
            if text := values[position]:
                counts[f][text] += 1
    return counts


@dataclass(frozen=True)
class _Layout:
    """Where each mapped field is: its column name (for messages) and its position in a record."""

    file: str
    columns: dict[str, str]
    index: dict[str, int]

    @classmethod
    def of(cls, file: str, header: Sequence[str], columns: Mapping[str, str]) -> _Layout:
        positions = {column: i for i, column in enumerate(header)}
        return cls(file, dict(columns), {f: positions[c] for f, c in columns.items()})


class _Row:
    """One record being typed: reads mapped fields and collects its errors."""

    __slots__ = ("errors", "layout", "line", "values")

    def __init__(self, layout: _Layout, line: int, values: Sequence[str]) -> None:
        self.layout, self.line, self.values = layout, line, values
        self.errors: list[RowError] = []

    def column(self, field_name: str) -> str:
        return self.layout.columns.get(field_name, field_name)

    def error(self, field_name: str | None, reason: str) -> None:
        column = self.column(field_name) if field_name else None
        self.errors.append(RowError(self.layout.file, self.line, column, reason))

    def text(self, field_name: str) -> str | None:
        position = self.layout.index.get(field_name)
        return None if position is None else (self.values[position] or None)

    def number(
        self, field_name: str, *, minimum: float | None = None, maximum: float | None = None
    ) -> float | None:
        text = self.text(field_name)
        if text is None:
            return None
        try:
            value = parse_number(text)
        except ValueError as exc:
            self.error(field_name, str(exc))
            return None
        if value is None:
            return None
        if minimum is not None and value < minimum:
            self.error(
                field_name, f"negative value: '{text}'" if minimum == 0 else f"below {minimum:g}: '{text}'"
            )
            return None
        if maximum is not None and value > maximum:
            self.error(field_name, f"above {maximum:g}: '{text}'")
            return None
        return value

    def flag(
        self, field_name: str, *, true: frozenset[str] = _TRUE, false: frozenset[str] = _FALSE
    ) -> bool | None:
        text = self.text(field_name)
        if text is None:
            return None
        word = text.casefold()
        if word in true:
            return True
        if word in false:
            return False
        self.error(field_name, f"not a yes/no value: '{text}'")
        return None

    def date(self, field_name: str, dates: Mapping[str, DateLookup]) -> date | None:
        lookup = dates.get(field_name)
        text = self.text(field_name)
        if lookup is None or text is None:
            return None
        value = lookup.get(text)
        if value is None:  # every text was counted when the file was first read
            raise CsvFormatError(f"{self.layout.file} changed while it was being read; import it again")
        if isinstance(value, str):
            self.error(field_name, value)
            return None
        return value

    def custom(self, extra_columns: Sequence[tuple[int, str]]) -> dict[str, str]:
        """Non-empty values of the unmapped columns, under the names `_custom_columns` chose."""
        values = self.values
        return {name: value for position, name in extra_columns if (value := values[position])}


def _custom_columns(
    header: Sequence[str], columns: Mapping[str, str], taken: Iterable[str]
) -> list[tuple[int, str]]:
    """(position, attribute name) for every unmapped column, worked out once per file.

    A column whose name means one of our fields but was not used for it is renamed
    '<name> (column)' so it can never pass for the field itself.
    """
    mapped = set(columns.values())
    taken_keys = {_key(t) for t in taken}
    return [
        (position, f"{column} (column)" if _key(column) in taken_keys else column)
        for position, column in enumerate(header)
        if column not in mapped
    ]


def _require_rows(file: str, rows: int, errors: int) -> None:
    if not rows and not errors:
        raise CsvFormatError(f"{file} has a header but no data rows")


def _count(n: int, singular: str, verb: tuple[str, str] | None = None) -> str:
    """'1 open deal has' / '1,425 open deals have'."""
    text = f"{n:,} {singular if n == 1 else singular + 's'}"
    return f"{text} {verb[n != 1]}" if verb else text


def _lines(lines: Sequence[int], limit: int = 10) -> str:
    shown = ", ".join(str(n) for n in lines[:limit])
    return shown + (f" and {len(lines) - limit:,} more" if len(lines) > limit else "")


# ---------------------------------------------------------------------------------------------------
# Accounts, deals, health
# ---------------------------------------------------------------------------------------------------

_ACCOUNT_ATTRIBUTES = ("domain", "industry", "employees", "annual_revenue", "country", "region", "tech_stack")


def read_accounts(
    path: str | Path,
    *,
    overrides: Mapping[str, str] | None = None,
    max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES,
) -> ReadResult[AccountRow]:
    """Read an accounts file. Needs a name or an account id column; ids (else names) must be unique.

    Employees and revenue must read as numbers or bands but are kept as written.
    """
    source = _CsvSource.open(path, max_field_bytes)
    records, table_errors = source.read_all()
    columns = resolve_columns(source.table(), ACCOUNT_FIELDS, overrides, required=[("name", "account_id")])
    extra_columns = _custom_columns(source.header.names, columns, ACCOUNT_FIELDS)
    _require_rows(source.file, len(records), len(table_errors))
    layout = _Layout.of(source.file, source.header.names, columns)
    errors = list(table_errors)
    rows: list[AccountRow] = []
    ids: dict[str, int] = {}
    names: dict[str, tuple[int, str]] = {}
    repeated_names: set[str] = set()
    for line, values in records:
        row = _Row(layout, line, values)
        account_id, name = row.text("account_id"), row.text("name")
        if not account_id and not name:
            row.error("name" if "name" in columns else "account_id", "no account name or id")
        for numeric in ("employees", "annual_revenue"):
            row.number(numeric, minimum=0)
        if account_id:
            if account_id in ids:
                row.error(
                    "account_id",
                    f"duplicate account id '{account_id}' (first seen on line {ids[account_id]})",
                )
            else:
                ids[account_id] = line
        if name:
            key = normalize_company_name(name)
            if key in names and "account_id" not in columns:
                first_line, first_name = names[key]
                row.error(
                    "name",
                    f"duplicate account '{name}' (same company as '{first_name}' on line {first_line})",
                )
            elif key in names:
                repeated_names.add(key)
            else:
                names[key] = (line, name)
        attributes = {f: v for f in _ACCOUNT_ATTRIBUTES if (v := row.text(f))}
        attributes.update(row.custom(extra_columns))
        errors.extend(row.errors)
        if not row.errors:
            rows.append(AccountRow(line, account_id, name, row.text("domain"), attributes))
    findings: list[str] = []
    if repeated_names:
        findings.append(
            f"{_count(len(repeated_names), 'account name', ('appears', 'appear'))} on several accounts; "
            "deals naming them need an account id"
        )
    for f in _ACCOUNT_ATTRIBUTES:
        if f in columns:
            missing = sum(1 for r in rows if f not in r.attributes)
            if missing:
                findings.append(f"{missing:,} of {len(rows):,} accounts have no {f} (column '{columns[f]}')")
    unmapped = [f for f in _ACCOUNT_ATTRIBUTES if f not in columns]
    if unmapped:
        findings.append(f"no column found for: {', '.join(unmapped)}")
    return ReadResult(source.file, rows, errors, findings, columns, source.encoding, source.delimiter)


_WON_WORDS = frozenset({"won", "win"})
_LOST_WORDS = frozenset({"lost", "loss"})


def _stage_from_text(text: str) -> Stage:
    """Won/lost when the stage starts with the outcome, also with a reason after it.

    'Closed Won', 'closedwon', 'Lost - no budget' and 'Won: expansion' are closed; a pipeline
    stage that merely mentions a word later ('Negotiation (win plan)') stays open.
    """
    key = _key(text)
    if key in {"closedwon", "closedlost"} or key.startswith(("closedwon", "closedlost")):
        return "won" if key.startswith("closedwon") else "lost"
    first = re.match(r"[^\W\d_]+", text.strip().casefold())
    word = first.group(0) if first else ""
    if word in _WON_WORDS:
        return "won"
    if word in _LOST_WORDS:
        return "lost"
    return "open"


def _deal_stage(row: _Row) -> tuple[Stage | None, str]:
    """Stage from IsWon/IsClosed when present (Salesforce's own truth), else from the stage text."""
    errors_before = len(row.errors)
    won, closed, text = row.flag("is_won"), row.flag("is_closed"), row.text("stage")
    flags = ", ".join(f"{row.column(f)}={row.text(f)}" for f in ("is_won", "is_closed") if row.text(f))
    raw = text or flags
    if won is True:
        return "won", raw
    if closed is True:
        if won is False:
            return "lost", raw
        return ("won" if text and _stage_from_text(text) == "won" else "lost"), raw
    if closed is False:
        return "open", raw
    if text:
        return _stage_from_text(text), raw
    if len(row.errors) == errors_before:  # a bad IsWon/IsClosed value is already reported
        row.error("stage" if "stage" in row.layout.columns else "is_closed", "no stage")
    return None, raw


_STAGE_CACHE_SIZE = 10_000


class _DealFindings:
    """What read_deals reports about the accepted deals, gathered one deal at a time."""

    def __init__(self, has_amount: bool) -> None:
        self.has_amount = has_amount
        self.open_without_account = 0
        self.closed_without_account: list[int] = []
        self.backwards: list[int] = []

    def add(self, deal: DealRow) -> None:
        if not deal.account_id and not deal.account_name:
            if deal.stage == "open":
                self.open_without_account += 1
            else:
                self.closed_without_account.append(deal.line)
        if deal.created_date and deal.close_date and deal.close_date < deal.created_date:
            self.backwards.append(deal.line)

    def texts(self) -> list[str]:
        findings = _accountless_texts(self.open_without_account, self.closed_without_account)
        if self.backwards:
            findings.append(
                f"{_count(len(self.backwards), 'deal', ('closes', 'close'))} before they were created "
                f"(lines {_lines(self.backwards)})"
            )
        if not self.has_amount:
            findings.append("no amount column: deal values are unknown")
        return findings


class _DealTyper:
    """Types deal records one at a time: ids unique, stage known, amount >= 0, dates in format.

    :meth:`checked` is the reference: it finds and words every problem. Most records have none,
    so :meth:`quick` first tries to type a record with plain lookups and no error bookkeeping,
    giving up (None) at the first sign of a problem; the record then goes through ``checked``.
    Both give the same deal for a good record (the tests hold them to it).
    """

    def __init__(
        self,
        layout: _Layout,
        extra_columns: Sequence[tuple[int, str]],
        dates: Mapping[str, DateLookup],
        *,
        quick: bool = True,
    ) -> None:
        self.layout, self.extra_columns, self.dates, self.use_quick = layout, extra_columns, dates, quick
        self.ids: dict[str, int] = {}
        self.stages: dict[tuple[str | None, ...], tuple[Stage | None, str, list[tuple[str | None, str]]]] = {}
        self.findings = _DealFindings("amount" in layout.columns)
        index = layout.index
        self._quick_at = [index.get(f) for f in _QUICK_FIELDS]
        self._date_at = [
            (index[f], dates[f]) if f in dates else (None, None) for f in ("created_date", "close_date")
        ]

    def __call__(self, line: int, values: Sequence[str]) -> tuple[DealRow | None, list[RowError]]:
        deal = self.quick(line, values) if self.use_quick else None
        if deal is not None:
            self.findings.add(deal)
            return deal, []
        deal, errors = self.checked(line, values)
        if deal is not None:
            self.findings.add(deal)
        return deal, errors

    def stage(self, row: _Row) -> tuple[Stage | None, str]:
        """_deal_stage, worked out once per distinct (IsWon, IsClosed, stage) texts."""
        key = (row.text("is_won"), row.text("is_closed"), row.text("stage"))
        known = self.stages.get(key)
        if known is None:
            before = len(row.errors)
            stage, raw = _deal_stage(row)
            known = stage, raw, [(e.column, e.reason) for e in row.errors[before:]]
            if len(self.stages) < _STAGE_CACHE_SIZE:
                self.stages[key] = known
            return stage, raw
        stage, raw, problems = known
        for column, reason in problems:
            row.errors.append(RowError(self.layout.file, row.line, column, reason))
        return stage, raw

    def checked(self, line: int, values: Sequence[str]) -> tuple[DealRow | None, list[RowError]]:
        """Type one record, reporting every problem."""
        row = _Row(self.layout, line, values)
        deal_id = row.text("deal_id")
        if not deal_id:
            row.error("deal_id", "no deal id")
        elif deal_id in self.ids:
            row.error("deal_id", f"duplicate deal id '{deal_id}' (first seen on line {self.ids[deal_id]})")
        else:
            self.ids[deal_id] = line
        stage, stage_raw = self.stage(row)
        amount = row.number("amount", minimum=0)
        created, closed = row.date("created_date", self.dates), row.date("close_date", self.dates)
        if row.errors or not deal_id or not stage:
            return None, row.errors
        deal = DealRow(
            line,
            deal_id,
            row.text("account_id"),
            row.text("account_name"),
            stage,
            stage_raw,
            amount,
            created,
            closed,
            row.custom(self.extra_columns),
        )
        return deal, []

    def quick(self, line: int, values: Sequence[str]) -> DealRow | None:
        """The deal of a record without any problem; None as soon as anything needs a closer look."""
        texts = [None if i is None else values[i] or None for i in self._quick_at]
        deal_id, account_id, account_name, is_won, is_closed, stage_text, amount_text = texts
        ids = self.ids
        if deal_id is None or deal_id in ids:
            return None
        known = self.stages.get((is_won, is_closed, stage_text))
        if known is None or known[2] or known[0] is None:
            return None
        amount = None
        if amount_text is not None:
            if _PLAIN_NUMBER(amount_text):
                amount = float(amount_text)  # what parse_number makes of it, without its checks
            else:
                try:
                    amount = parse_number(amount_text)
                except ValueError:
                    return None
                if amount is not None and amount < 0:
                    return None
        (created_at, created_dates), (closed_at, closed_dates) = self._date_at
        created = closed = None
        if created_at is not None and (text := values[created_at]):
            created = created_dates.get(text)  # type: ignore[union-attr]
            if created is None or type(created) is str:
                return None
        if closed_at is not None and (text := values[closed_at]):
            closed = closed_dates.get(text)  # type: ignore[union-attr]
            if closed is None or type(closed) is str:
                return None
        ids[deal_id] = line
        custom = {name: value for position, name in self.extra_columns if (value := values[position])}
        deal = _NEW_DEAL(DealRow)  # DealRow(...) without the per-field object.__setattr__ of frozen init
        deal.__dict__.update(
            line=line,
            deal_id=deal_id,
            account_id=account_id,
            account_name=account_name,
            stage=known[0],
            stage_raw=known[1],
            amount=amount,
            created_date=created,
            close_date=closed,
            attributes=custom,
        )
        return deal


_NEW_DEAL = object.__new__
# Numbers parse_number reads as float(text) straight away (normalize's own shortcut, same pattern).
_PLAIN_NUMBER = re.compile(r"\d{1,15}(?:\.\d{1,15})?").fullmatch
_QUICK_FIELDS = ("deal_id", "account_id", "account_name", "is_won", "is_closed", "stage", "amount")


TypedDeal = tuple[int, "DealRow | None", list[RowError]]  # (line, the deal if accepted, its errors)


class DealStream:
    """A deals file typed one record at a time, for exports too big to hold in memory.

    Opening it reads the whole file once: every file-level problem (encoding, delimiter, header,
    columns, unclosed quotes) raises CsvFormatError here, ragged rows become ``table_errors``, and
    the date texts are counted so each date column's format is settled before any row is typed.
    :meth:`rows` then reads the file again and types each record exactly as :func:`read_deals`
    does; ``findings`` are complete once such a pass has ended. ``keep=True`` holds the records
    from the first read instead of reading the file twice (what read_deals, which holds every
    row anyway, uses).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        overrides: Mapping[str, str] | None = None,
        max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES,
        keep: bool = False,
    ) -> None:
        source = _CsvSource.open(path, max_field_bytes)
        self._source = source
        header = source.header.names
        problem: CsvFormatError | None = None
        columns: dict[str, str] = {}
        try:
            columns = resolve_columns(source.table(), DEAL_FIELDS, overrides, required=["deal_id"])
            if "stage" not in columns and not {"is_won", "is_closed"} <= columns.keys():
                looked = ", ".join(DEAL_FIELDS["stage"])
                raise CsvFormatError(
                    f"{source.file}: no column for 'stage' (looked for: stage, {looked}) nor both 'is_won' "
                    f"and 'is_closed'; use --map stage=<column>. The file's columns are: "
                    f"{_columns_text(source.table())}"
                )
        except CsvFormatError as exc:  # reported after the whole file is read, as read_table would
            problem = exc
        self._layout = _Layout.of(source.file, header, columns)
        self.columns = columns
        self.table_errors: list[RowError] = []
        self.records = 0
        self._kept: list[Record] | None = [] if keep else None
        counts: dict[str, Counter[str]] = {
            f: Counter() for f in ("created_date", "close_date") if f in self._layout.index
        }
        positions = [(counts[f], self._layout.index[f]) for f in counts]
        with source.records(strip=keep) as scan:  # only the date texts are needed: stripped here
            for item in scan:
                if isinstance(item, RowError):
                    self.table_errors.append(item)
                    continue
                self.records += 1
                values = item[1]  # type: ignore[index]
                for counter, position in positions:
                    if text := values[position].strip():
                        counter[text] += 1
                if self._kept is not None:
                    self._kept.append(item)  # type: ignore[arg-type]
        if problem is not None:
            raise problem
        _require_rows(source.file, self.records, len(self.table_errors))
        self._extra_columns = _custom_columns(header, columns, DEAL_FIELDS)
        self._dates = _date_lookups(counts)
        self.findings: list[str] = []

    @property
    def file(self) -> str:
        return self._source.file

    @property
    def encoding(self) -> str:
        return self._source.encoding

    @property
    def delimiter(self) -> str:
        return self._source.delimiter

    @contextmanager
    def rows(self, *, quick: bool = True) -> Iterator[Iterator[TypedDeal]]:
        """One pass over the well-formed records, in file order: (line, deal or None, errors).

        ``quick=False`` types every record the careful way, as the reference for the quick one
        (same results, slower).
        """
        typer = _DealTyper(self._layout, self._extra_columns, self._dates, quick=quick)
        if self._kept is not None:
            yield self._typed(iter(self._kept), typer)
            return
        with self._source.records() as scan:
            yield self._typed(scan, typer)

    def _typed(self, records: Iterator[Record | RowError], typer: _DealTyper) -> Iterator[TypedDeal]:
        for item in records:
            if isinstance(item, RowError):
                continue  # a ragged row: already in table_errors
            line, values = item  # type: ignore[misc]
            deal, errors = typer(line, values)
            yield line, deal, errors
        self.findings = typer.findings.texts()


def read_deals(
    path: str | Path,
    *,
    overrides: Mapping[str, str] | None = None,
    max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES,
) -> ReadResult[DealRow]:
    """Read a deals file: stage won/lost/open, non-negative amount, dates, unique deal ids."""
    stream = DealStream(path, overrides=overrides, max_field_bytes=max_field_bytes, keep=True)
    errors = list(stream.table_errors)
    rows: list[DealRow] = []
    with stream.rows() as typed:
        for _, deal, row_errors in typed:
            errors.extend(row_errors)
            if deal is not None:
                rows.append(deal)
    return ReadResult(
        stream.file, rows, errors, stream.findings, stream.columns, stream.encoding, stream.delimiter
    )


def _accountless_texts(open_count: int, closed_lines: Sequence[int]) -> list[str]:
    """Open deals without an account are normal (early pipeline); closed ones are listed."""
    findings = []
    if open_count:
        findings.append(f"{_count(open_count, 'open deal', ('has', 'have'))} no account")
    if closed_lines:
        findings.append(
            f"{_count(len(closed_lines), 'closed deal', ('has', 'have'))} no account "
            f"(lines {_lines(closed_lines)})"
        )
    return findings


def _accountless_findings(deals: Sequence[DealRow]) -> list[str]:
    lone = [d for d in deals if not d.account_id and not d.account_name]
    return _accountless_texts(
        sum(d.stage == "open" for d in lone), [d.line for d in lone if d.stage != "open"]
    )


def read_health(
    path: str | Path,
    *,
    overrides: Mapping[str, str] | None = None,
    max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES,
) -> ReadResult[HealthRow]:
    """Read customer health: one row per account (by id or name), money >= 0, NPS in -100..100.

    Without a churned column, a churn date means churned. NPS values that are all integers in 0..10
    are survey responses (``nps_scale='response'``), otherwise account scores.
    """
    source = _CsvSource.open(path, max_field_bytes)
    records, table_errors = source.read_all()
    header = source.header.names
    columns = resolve_columns(
        source.table(), HEALTH_FIELDS, overrides, required=[("account_id", "account_name")]
    )
    extra_columns = _custom_columns(header, columns, HEALTH_FIELDS)
    _require_rows(source.file, len(records), len(table_errors))
    layout = _Layout.of(source.file, header, columns)
    dates = _date_lookups(_count_dates(records, layout.index, ("customer_since", "churn_date")))
    errors = list(table_errors)
    rows: list[HealthRow] = []
    seen: dict[str, int] = {}
    for line, values in records:
        row = _Row(layout, line, values)
        account_id, account_name = row.text("account_id"), row.text("account_name")
        identity = account_id or (normalize_company_name(account_name) if account_name else None)
        if identity is None:
            row.error("account_id" if "account_id" in columns else "account_name", "no account id or name")
        elif identity in seen:
            row.error(
                "account_id" if account_id else "account_name",
                f"duplicate account '{account_id or account_name}' (first seen on line {seen[identity]})",
            )
        else:
            seen[identity] = line
        churn_date = row.date("churn_date", dates)
        churned = row.flag("churned", true=_TRUE | _CHURNED_WORDS, false=_FALSE | _ACTIVE_WORDS)
        if "churned" not in columns and "churn_date" in columns:
            churned = churn_date is not None
        health = HealthRow(
            line=line,
            account_id=account_id,
            account_name=account_name,
            arr=row.number("arr", minimum=0),
            acv=row.number("acv", minimum=0),
            tenure_months=row.number("tenure_months", minimum=0),
            customer_since=row.date("customer_since", dates),
            churned=churned,
            churn_date=churn_date,
            nps=row.number("nps", minimum=-100, maximum=100),
            health_score=row.number("health_score"),
            expansion_arr=row.number("expansion_arr"),
            referrals=row.number("referrals", minimum=0),
            attributes=row.custom(extra_columns),
        )
        errors.extend(row.errors)
        if not row.errors:
            rows.append(health)
    nps_values = [r.nps for r in rows if r.nps is not None]
    findings: list[str] = []
    nps_scale: Literal["score", "response"] | None = None
    if nps_values:
        responses = all(0 <= v <= 10 and v == int(v) for v in nps_values)
        nps_scale = "response" if responses else "score"
        if responses:
            findings.append(
                f"column '{columns['nps']}' holds 0–10 values: read as survey responses, not NPS scores"
            )
    return ReadResult(
        source.file, rows, errors, findings, columns, source.encoding, source.delimiter, nps_scale
    )


# ---------------------------------------------------------------------------------------------------
# Joining rows to accounts
# ---------------------------------------------------------------------------------------------------

_LEGAL_SUFFIXES = frozenset(
    {
        "inc", "incorporated", "llc", "ltd", "limited", "gmbh", "corp", "corporation", "co", "company",
        "sa", "sas", "sarl", "sl", "ag", "bv", "nv", "plc", "pty", "pte", "pvt", "lp", "llp", "srl",
        "spa", "oy", "ab", "kk", "kg", "se", "ug", "and",
    }
)  # fmt: skip
_DROPPED_CHARS = re.compile(r"[.'’`´]")


def _fold(text: str) -> str:
    if text.isascii():  # nothing to decompose or drop: the common case, kept cheap
        return text.lower()
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def normalize_company_name(name: str) -> str:
    """Key for matching company names: 'Acme, Inc.' and 'ACME inc' both give 'acme'.

    Casefolds, drops accents, dots and apostrophes, turns other punctuation into spaces, reads '&'
    as 'and', then drops trailing legal suffixes (Inc, LLC, Ltd, GmbH, Corp, Co, SA, ...) and a
    leading 'the' while more than one word is left, so a name is never reduced to nothing.
    """
    text = _fold(name)
    while (again := _fold(text)) != text:
        text = again
    text = _DROPPED_CHARS.sub("", text.replace("&", " and "))
    words = "".join(ch if ch.isalnum() else " " for ch in text).split()
    while len(words) > 1 and words[-1] in _LEGAL_SUFFIXES:
        words.pop()
    if len(words) > 1 and words[0] == "the":
        words.pop(0)
    return " ".join(words)


class _AccountIndex:
    """Accounts by exact id and by normalised name (the name index is built on first use)."""

    def __init__(self, accounts: Sequence[AccountRow]) -> None:
        self.accounts = accounts
        self.by_id = {a.account_id: a for a in accounts if a.account_id}
        self._by_name: dict[str, list[AccountRow]] | None = None

    @property
    def by_name(self) -> dict[str, list[AccountRow]]:
        if self._by_name is None:
            self._by_name = {}
            for account in self.accounts:
                if account.name:
                    self._by_name.setdefault(normalize_company_name(account.name), []).append(account)
        return self._by_name

    def find(
        self, account_id: str | None, account_name: str | None
    ) -> tuple[AccountRow | None, str | None, str | None, str]:
        """(account, field that failed, reason, how it matched: 'id' or 'name')."""
        if account_id:
            if ";" not in account_id:  # one id: the common case, one lookup
                account = self.by_id.get(account_id.strip())
                if account is not None:
                    return account, None, None, "id"
            else:
                for part in (p.strip() for p in account_id.split(";")):
                    if part in self.by_id:
                        return self.by_id[part], None, None, "id"
            if not account_name:
                reason = (
                    f"unknown account id '{account_id}'"
                    if self.by_id
                    else f"account id '{account_id}' cannot be matched: the accounts file has no account ids"
                )
                return None, "account_id", reason, "id"
        if not account_name:
            return None, None, None, "none"
        by_name = self.by_name
        matches = by_name.get(normalize_company_name(account_name), [])
        if len(matches) == 1:
            return matches[0], None, None, "name"
        if matches:
            lines = ", ".join(str(a.line) for a in matches)
            return (
                None,
                "account_name",
                f"ambiguous account '{account_name}': matches accounts on lines {lines}",
                "name",
            )
        reason = f"unknown account '{account_name}'"
        close = difflib.get_close_matches(
            normalize_company_name(account_name), list(by_name), n=1, cutoff=0.85
        )
        if close:
            reason += f" (did you mean '{by_name[close[0]][0].name}'?)"
        return None, "account_name", reason, "name"


class _NamesAccount(Protocol):
    """What a row needs to be joined to an account."""

    @property
    def line(self) -> int: ...
    @property
    def account_id(self) -> str | None: ...
    @property
    def account_name(self) -> str | None: ...


JoinT = TypeVar("JoinT", bound=_NamesAccount)


class AccountMatcher:
    """Joins rows to accounts one at a time (join_deals and join_health do it for a whole list).

    By account id when both sides have one (a ';'-separated list matches on any id), else by
    normalised company name. ``columns`` (field -> file column) name the column in errors.
    """

    def __init__(self, accounts: Sequence[AccountRow], *, file: str, columns: Mapping[str, str]) -> None:
        self.file, self.columns = file, columns
        self._index = _AccountIndex(accounts)
        self._by_id = self._index.by_id
        self.how: Counter[str] = Counter()

    def match(self, row: _NamesAccount) -> tuple[AccountRow | None, RowError | None]:
        """The row's account (None for none or an unknown one) and the error when it names one wrongly."""
        account_id = row.account_id
        if account_id and ";" not in account_id:  # one id known to the accounts: the common case
            account = self._by_id.get(account_id.strip())
            if account is not None:
                self.how["id"] += 1
                return account, None
        account, failed, reason, method = self._index.find(account_id, row.account_name)
        if reason and failed:
            return account, RowError(self.file, row.line, self.columns.get(failed, failed), reason)
        if account:
            self.how[method] += 1
        return account, None

    def joined_finding(self, noun: str) -> str:
        """'8,800 deals joined to an account (8,000 by account id, 800 by name)'."""
        how = self.how
        return (
            f"{_count(sum(how.values()), noun)} joined to an account "
            f"({how['id']:,} by account id, {how['name']:,} by name)"
        )


def _join(
    accounts: ReadResult[AccountRow] | Sequence[AccountRow],
    rows: ReadResult[JoinT] | Sequence[JoinT],
    file: str,
) -> tuple[list[tuple[JoinT, AccountRow | None]], list[RowError], AccountMatcher]:
    account_rows = accounts.rows if isinstance(accounts, ReadResult) else accounts
    items = rows.rows if isinstance(rows, ReadResult) else rows
    columns = rows.columns if isinstance(rows, ReadResult) else {}
    file = rows.file if isinstance(rows, ReadResult) else file
    matcher = AccountMatcher(account_rows, file=file, columns=columns)
    pairs: list[tuple[JoinT, AccountRow | None]] = []
    errors: list[RowError] = []
    for item in items:
        account, error = matcher.match(item)
        if error is not None:
            errors.append(error)
        pairs.append((item, account))
    return pairs, errors, matcher


def join_deals(
    accounts: ReadResult[AccountRow] | Sequence[AccountRow],
    deals: ReadResult[DealRow] | Sequence[DealRow],
    *,
    file: str = "deals",
) -> JoinResult[DealRow]:
    """Attach each deal to its account: by account id when both sides have one, else by name.

    A deal naming an account that does not exist is a RowError; deals naming no account are
    findings (``file`` names the deals file when plain rows are given instead of a ReadResult).
    """
    pairs, errors, matcher = _join(accounts, deals, file)
    findings = [matcher.joined_finding("deal"), *_accountless_findings([deal for deal, _ in pairs])]
    return JoinResult(pairs, errors, findings)


def join_health(
    accounts: ReadResult[AccountRow] | Sequence[AccountRow],
    health: ReadResult[HealthRow] | Sequence[HealthRow],
    *,
    file: str = "health",
) -> JoinResult[HealthRow]:
    """Attach each health row to its account, like :func:`join_deals`; unknown accounts are errors."""
    pairs, errors, matcher = _join(accounts, health, file)
    findings = [matcher.joined_finding("health row")]
    return JoinResult(pairs, errors, findings)
