"""Decoding one CSV file (encoding, delimiter, header, size caps) into records, with file-level errors."""

from __future__ import annotations

import csv
import itertools
import re
import threading
from collections import Counter
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from icp_engine.readers.columnar import (
    BATCH_BYTES,
    ColumnBatches,
    Columns,
    column_batches,
    plain_utf8,
    read_columns,
)
from icp_engine.readers.encodings import SAMPLE_BYTES, LegacyEncoding, choose_legacy_encoding
from icp_engine.readers.results import CsvFormatError, CsvTable, RowError

DEFAULT_MAX_FIELD_BYTES = 10 * 2**20


_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f]")
_BINARY_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f]")
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


def _detect_encoding(path: Path, name: str, limit: int) -> tuple[str, str | None]:
    """Scan the bytes once, line by line with bounded reads, and choose the text encoding.

    Returns the codec and, for a file that is not UTF-8, the finding that says which codec was
    chosen (``encodings`` decides from a sample of :data:`SAMPLE_BYTES`: the head of the file, then
    non-UTF-8 lines; once it is full, the codec is chosen and every later line must decode in it).
    Raises for binary content, a line longer than ``limit`` (never read whole), an empty file,
    and a file that is partly UTF-8 and partly something else (decoding it either way would
    silently corrupt names, so the user must re-save it).
    """
    with _open_binary(path, name) as handle:
        if plain_utf8(handle.read(), limit):  # the common case, checked at once
            handle.seek(0)
            return ("utf-8-sig" if handle.read(3) == b"\xef\xbb\xbf" else "utf-8"), None
        handle.seek(0)
        head = handle.read(4)
        if head.startswith(b"PK\x03\x04"):
            raise CsvFormatError(
                f"{name} is an Excel workbook or a zip archive, not a CSV file: export it as CSV"
            )
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return _check_utf16(path, name, limit), None
        bom = head.startswith(b"\xef\xbb\xbf")
        start = 3 if bom else 0
        handle.seek(start)
        offset, line_no, has_content = start, 0, False
        first_utf8: int | None = None
        first_bad: tuple[int, int, int] | None = None
        sample: list[bytes] = []
        sample_size = 0
        legacy: LegacyEncoding | None = None
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
            in_head = sample_size < SAMPLE_BYTES // 2  # the detector sees the head, ASCII lines too
            if in_head:
                sample.append(raw)
                sample_size += len(raw)
            if not raw.isascii():
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    if first_bad is None:
                        first_bad = (line_no, offset + exc.start, raw[exc.start])
                    if legacy is not None:
                        _check_decodes(name, line_no, raw, legacy.codec)
                    elif in_head:
                        pass
                    elif sample_size < SAMPLE_BYTES:  # then the non-UTF-8 lines past the head
                        sample.append(raw)
                        sample_size += len(raw)
                    elif not bom:  # the sample is full: choose now, check the rest as it is read
                        legacy = choose_legacy_encoding(name, b"".join(sample), _not_utf8(first_bad))
                        _check_decodes(name, line_no, raw, legacy.codec)
                else:
                    first_utf8 = first_utf8 or line_no
            offset += len(raw)
    if not has_content:
        raise CsvFormatError(f"{name} is empty")
    if first_bad is None:
        return ("utf-8-sig" if bom else "utf-8"), None
    bad = _not_utf8(first_bad)
    if first_utf8 is not None:
        raise CsvFormatError(
            f"{name} mixes text encodings: line {first_utf8} is UTF-8 but {bad}; "
            "save the whole file again as UTF-8"
        )
    if bom:
        raise CsvFormatError(
            f"{name} starts with a UTF-8 byte-order mark but {bad}; save the whole file again as UTF-8"
        )
    legacy = legacy or choose_legacy_encoding(name, b"".join(sample), bad)
    return legacy.codec, legacy.note


def _not_utf8(first_bad: tuple[int, int, int]) -> str:
    line, offset, byte = first_bad
    return f"line {line} is not valid UTF-8 (byte 0x{byte:02X} at byte {offset})"


def _check_decodes(name: str, line_no: int, raw: bytes, codec: str) -> None:
    """A line past the detector's sample must decode in the codec the sample chose."""
    try:
        raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise CsvFormatError(
            f"{name} line {line_no} cannot be read as {codec} like the lines before it "
            f"(byte 0x{raw[exc.start]:02X}); save the whole file again as UTF-8"
        ) from None


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
) -> Generator[_Header | Record | RowError, None, None]:
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
    encoding_note: str | None = None  # which legacy codec was chosen, for the findings

    @classmethod
    def open(cls, path: str | Path, max_field_bytes: int) -> _CsvSource:
        """Check the bytes and find the header (file-level problems raise CsvFormatError)."""
        path = Path(path)
        encoding, note = _detect_encoding(path, path.name, max_field_bytes)
        with closing(_scan(path, path.name, encoding, max_field_bytes)) as scan:
            first = next(scan)
        assert isinstance(first, _Header)
        return cls(path, path.name, encoding, max_field_bytes, first, note)

    @property
    def delimiter(self) -> str:
        return self.header.delimiter

    def encoding_notes(self) -> list[str]:
        """The findings a reader starts from: which legacy encoding was chosen, if any."""
        return [self.encoding_note] if self.encoding_note else []

    def table(self) -> CsvTable:
        """An empty table with this file's header (what column mapping and its messages need)."""
        return CsvTable(self.file, self.encoding, self.delimiter, list(self.header.names), [])

    def columns(self) -> Columns | None:
        """The data records parsed column-wise, or None when the file needs the row-wise scan.

        Both give the same records, lines and values (``columnar`` says which files qualify); a
        file with ragged rows or quoting the csv module would word an error for goes row-wise.
        """
        return read_columns(self.path, self.encoding, self.delimiter, self.header.line, self.header.names)

    def batches(self, *, batch_bytes: int = BATCH_BYTES) -> ColumnBatches | None:
        """The data records to be parsed column-wise a batch at a time, or None (row-wise scan)."""
        header = self.header
        return column_batches(
            self.path, self.encoding, self.delimiter, header.line, header.names, batch_bytes=batch_bytes
        )

    @contextmanager
    def records(self, *, strip: bool = True) -> Iterator[Iterator[Record | RowError]]:
        """A fresh pass over the data records; a file changed since it was opened raises."""
        fast = self.columns()
        if fast is not None:
            yield fast.records()
            return
        with closing(_scan(self.path, self.file, self.encoding, self.max_field_bytes, strip=strip)) as scan:
            if next(scan) != self.header:
                raise CsvFormatError(f"{self.file} changed while it was being read; import it again")
            yield cast(Iterator[Record | RowError], scan)  # past the header: records and errors

    def read_all(self) -> tuple[list[Record], list[RowError]]:
        """Every data record and ragged-row error, in file order."""
        rows: list[Record] = []
        errors: list[RowError] = []
        with self.records() as scan:
            for item in scan:
                if isinstance(item, RowError):
                    errors.append(item)
                else:
                    rows.append(item)
        return rows, errors


def read_table(path: str | Path, *, max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES) -> CsvTable:
    """Decode and parse one CSV file; ragged rows become RowErrors, file problems CsvFormatError.

    Encoding: UTF-8 (with or without BOM), UTF-16 with BOM, else the legacy code page chosen by
    ``encodings`` (cp1252 or Latin-1 for Western text, a detected one such as cp1251 or Shift-JIS). Delimiter: one of , ; tab | chosen from the header line. Fully blank lines
    are skipped; extra trailing fields that are empty are ignored.
    """
    source = _CsvSource.open(path, max_field_bytes)
    records, errors = source.read_all()
    names = source.header.names
    rows = [(line, dict(zip(names, values, strict=True))) for line, values in records]
    return CsvTable(source.file, source.encoding, source.delimiter, list(names), rows, errors)
