"""The fast path of a CSV pass: the whole file parsed column-wise by Arrow, line numbers kept exact.

Why: a Python loop over the csv module costs seconds per million records before any value is
typed. Arrow parses the same file in a fraction of that, but it knows nothing of physical lines
and is more lenient than ``csv.reader(strict=True)``. So the fast path only takes files on which
both provably give the same records, and says "not this file" (None) otherwise; the row-wise
``_scan`` then reads it and words every problem as before. A file qualifies when:

- it is UTF-8 (the detector has checked every byte already) and every line break is ``\\n`` or
  ``\\r\\n``, and no line is as long as the field-size cap;
- every line holds an even number of quote characters (so no quoted field spans lines: record k
  is the k-th non-blank physical line after the header) and no quote sits where the csv module
  would object or read it differently (text right after a closing quote, a quote inside an
  unquoted value);
- Arrow finds no ragged record (a line that is only whitespace and delimiters is blank, as in
  ``_scan``), and the records it keeps are exactly the non-blank lines.

Values are stripped like ``str.strip`` (ASCII columns by Arrow, others per value in Python).
"""

from __future__ import annotations

import codecs
import csv
import functools
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from icp_engine.readers.text_hashing import string_bytes

_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"  # what str.strip removes from ASCII text
_CHUNK = 16_384  # records turned into Python values at a time when rows are handed out one by one
_PEEK = 1_024  # records looked at first when a column may not be all numbers
_BLOCK = 1 << 22  # bytes scanned at a time (bounds the temporaries of a byte search)
BATCH_BYTES = 1 << 22  # of a file parsed at a time by a batch pass: a batch costs a few times this
_WHOLE = 1 << 30  # bytes parsed at once when a pass keeps every record anyway
_ARROW_BLOCK = 1 << 24  # Arrow's block when a whole file is parsed at once (fastest of 4-32 MB)
PLAIN_NUMBER = r"^\d{1,15}(?:\.\d{1,15})?$"  # parse_number reads these as float(text), nothing else
BOM = b"\xef\xbb\xbf"
ENABLED = True  # off: every pass is row-wise (the reference the property tests compare with)


@dataclass(frozen=True)
class Columns:
    """The data records of a file: physical line of each, and each header column's stripped texts."""

    lines: np.ndarray  # int64, one per record
    columns: list[pa.Array]  # pa.string() arrays, one per header column, "" for an empty cell
    _texts: dict[int, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.lines)

    def texts(self, position: int) -> np.ndarray:
        """One column as an object array of str (what pandas and the typing code read); made once."""
        cache = self._texts
        if position not in cache:
            cache[position] = self.columns[position].to_numpy(zero_copy_only=False)
        return cache[position]

    def plain_numbers(self, position: int) -> np.ndarray | None:
        """The column as floats (NaN when empty) if every value is a plain number, else None.

        Plain: digits with an optional decimal part of at most 15 digits each, which
        ``parse_number`` reads as ``float(text)`` without any other rule.
        """
        column = self.columns[position]
        if not _all_plain(column.slice(0, _PEEK)):  # a text column is told apart by its first values
            return None
        filled = pc.not_equal(column, "")
        if not _all_plain(column):
            return None
        numbers = pc.cast(pc.if_else(filled, column, pa.scalar(None, pa.string())), pa.float64())
        return np.asarray(numbers.to_numpy(zero_copy_only=False), dtype=np.float64)

    def counts(self, position: int) -> dict[str, int]:
        """How often each non-empty text occurs in a column, in order of first appearance."""
        column = self.columns[position]
        found = pc.value_counts(pc.filter(column, pc.not_equal(column, "")))
        texts = found.field("values").to_pylist()
        return dict(zip(texts, found.field("counts").to_pylist(), strict=True))

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(line, values) per record, as the row-wise scan yields them."""
        for start in range(0, len(self.lines), _CHUNK):
            stop = start + _CHUNK
            lines = self.lines[start:stop].tolist()
            columns = [c[start:stop].to_pylist() for c in self.columns]
            yield from zip(lines, map(list, zip(*columns, strict=True)), strict=True)


def _all_plain(column: pa.Array) -> bool:
    """Whether every non-empty text of the column is a plain number."""
    plain = pc.match_substring_regex(column, PLAIN_NUMBER)
    return bool(pc.all(pc.or_(plain, pc.equal(column, ""))).as_py())


_SPACE_BYTES = np.zeros(256, bool)
_SPACE_BYTES[[ord(c) for c in _ASCII_SPACE]] = True


def _ascii_edges(column: pa.Array) -> np.ndarray | None:
    """The first and last byte of every non-empty text of a column without nulls, None if any
    text is not ASCII (read from Arrow's buffers: no text is copied)."""
    if column.type != pa.string() or column.null_count:
        return None
    texts, offsets = string_bytes(column)
    if len(texts) and texts.max() >= 0x80:  # (a maximum: no temporary the size of the texts)
        return None
    starts, ends = offsets[:-1], offsets[1:]
    filled = ends > starts
    return np.concatenate((texts[starts[filled]], texts[ends[filled] - 1]))


def empty_as_null(texts: pa.Array) -> pa.Array:
    """Empty texts as nulls, the way the readers mean a blank cell (a column with none is kept)."""
    empty = pc.equal(texts, "")
    if not pc.any(empty).as_py():
        return texts
    return pc.if_else(empty, pa.scalar(None, texts.type), texts)


def _strip(column: pa.Array) -> pa.Array:
    """``str.strip`` of every value: Arrow for ASCII, Python for the distinct non-ASCII values.

    An ASCII column no value of which starts or ends with white space (most of them) is kept as
    it is: trimming would copy every text for nothing.
    """
    edges = _ascii_edges(column)
    if edges is not None:
        return pc.utf8_trim(column, characters=_ASCII_SPACE) if _SPACE_BYTES[edges].any() else column
    encoded = pc.dictionary_encode(column)
    stripped = pa.array([v.strip() for v in encoded.dictionary.to_pylist()], pa.string())
    return pc.take(stripped, encoded.indices)


def _positions(raw: np.ndarray, byte: int, *, below: bool = False) -> np.ndarray:
    """Where ``byte`` occurs in ``raw`` (with ``below``: any byte less than it), as int64 offsets.

    Why: ``raw == byte`` over the whole file is a temporary the size of the file; a block at a
    time, it is the size of a block.
    """
    blocks = ((i, raw[i : i + _BLOCK]) for i in range(0, len(raw), _BLOCK))
    found = [np.flatnonzero(block < byte if below else block == byte) + i for i, block in blocks]
    return np.concatenate(found).astype(np.int64, copy=False) if found else np.zeros(0, np.int64)


def _suspicious_quotes(raw: np.ndarray, quotes: np.ndarray, delimiter: str) -> bool:
    """Whether a quote may be read differently by Arrow and ``csv.reader(strict=True)``.

    Looked for around each quote: text on both sides of it (a quote inside an unquoted value, or
    text right after a closing quote), or an empty quoted value followed by text. Bytes before
    the first and after the last byte count as line breaks.
    """
    edge = np.zeros(256, bool)  # bytes a quote may touch: the delimiter, line ends, another quote
    edge[[ord(delimiter), 10, 13, 34]] = True

    def near(offset: int) -> np.ndarray:  # the byte at each quote + offset, 10 outside the file
        at = quotes + offset
        inside = (at >= 0) & (at < len(raw))
        return np.where(inside, raw[np.clip(at, 0, max(len(raw) - 1, 0))], 10)

    before, after, second = near(-1), near(1), near(2)
    inside = ~edge[before] & ~edge[after]
    opens_empty = (after == 34) & (before != 34) & ~edge[second]
    return bool(inside.any() or opens_empty.any())


class NotColumnar(Exception):
    """The file is not one the column-wise pass takes (found while its records were parsed)."""


@dataclass(frozen=True)
class _Layout:
    """What the byte-level checks of a file settled: where its records are and on which lines."""

    path: Path
    stamp: tuple[int, int, int, int]
    body: int  # byte offset of the first record
    width: int  # fields in the header record, trailing empty names included
    names: int  # named header columns
    delimiter: str
    lines: np.ndarray  # int64: the physical line of every record Arrow is to keep
    chars: str  # what makes a line blank
    may_be_blank: bool  # whether Arrow may keep records of empty values only


def _options(
    layout: _Layout, on_invalid: Callable[[pa_csv.InvalidRow], str], size: int = _BLOCK
) -> tuple[pa_csv.ReadOptions, pa_csv.ParseOptions, pa_csv.ConvertOptions]:
    names = [f"c{i}" for i in range(layout.width)]
    # A batch of a few megabytes is one Arrow block (each column in one piece, not to be copied).
    # A whole file is parsed in blocks of _ARROW_BLOCK on every core and its pieces joined after:
    # Arrow parsed a 120 MB file as one block in 2.0 s, in 16 MB blocks in 0.5 s (0.3 s on 2 cores).
    whole = size > _ARROW_BLOCK
    return (
        pa_csv.ReadOptions(
            column_names=names, use_threads=whole, block_size=_ARROW_BLOCK if whole else max(_BLOCK, size)
        ),
        pa_csv.ParseOptions(
            delimiter=layout.delimiter,
            quote_char='"',
            double_quote=True,
            escape_char=False,
            newlines_in_values=False,
            ignore_empty_lines=True,
            invalid_row_handler=on_invalid,
        ),
        pa_csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            null_values=[],
        ),
    )


def _blocks(path: Path, body: int, size: int) -> Iterator[bytes | memoryview]:
    """The file from ``body`` on, a block of whole lines at a time.

    Why not Arrow's streaming reader: it reads far ahead of the batch it hands out (about the whole
    of a 60 MB file), so its memory grows with the file. A file the layout accepted has no line
    break inside a quoted value, so cutting it at line breaks cuts it between records. A block is
    a view of the bytes read, not a copy: for a whole file, a copy is as large as the file.
    """
    with path.open("rb") as handle:
        handle.seek(body)
        rest = b""
        while block := handle.read(size):
            data = rest + block if rest else block
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            if _TEXT_BYTE.search(data, 0, cut):
                yield memoryview(data)[:cut]
            del data, block
        if _TEXT_BYTE.search(rest):
            yield rest


_TEXT_BYTE = re.compile(rb"[^ \t\n\r\x0b\x0c]")  # a byte ``bytes.isspace`` does not take for blank


def _one_array(column: pa.ChunkedArray) -> pa.Array:
    """A parsed column as one array (copied only when Arrow gave it in several pieces)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _batches(layout: _Layout, size: int) -> Iterator[Columns]:
    """The records, a block of lines at a time: stripped, blank records dropped, lines attached.

    Raises :class:`NotColumnar` (possibly after yielding some batches) when Arrow finds a ragged
    record or a value past the named columns, when its records are not the layout's lines, or when
    the file changed since its layout was checked.
    """
    ragged = False

    def on_invalid(row: pa_csv.InvalidRow) -> str:
        nonlocal ragged
        if (row.text or "").strip(layout.chars):
            ragged = True
        return "skip"

    read_options, parse_options, convert_options = _options(layout, on_invalid, size)
    done = 0
    try:
        for data in _blocks(layout.path, layout.body, size):
            batch = pa_csv.read_csv(
                pa.BufferReader(data),
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
            del data
            if ragged:
                raise NotColumnar("ragged record")
            columns = [_strip(_one_array(batch.column(i))) for i in range(layout.width)]
            del batch
            if any(pc.any(pc.not_equal(c, "")).as_py() for c in columns[layout.names :]):
                raise NotColumnar("values past the named columns")  # the row-wise scan words it
            columns = columns[: layout.names]
            if layout.may_be_blank and columns:
                present = functools.reduce(pc.or_, (pc.not_equal(c, "") for c in columns))
                if not pc.all(present).as_py():
                    columns = [pc.filter(c, present) for c in columns]
            count = len(columns[0]) if columns else 0
            if done + count > len(layout.lines):
                raise NotColumnar("more records than lines")
            yield Columns(layout.lines[done : done + count], columns)
            done += count
            del columns
            pa.default_memory_pool().release_unused()  # a batch's memory goes back before the next
        same = _stamp(layout.path.stat()) == layout.stamp
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError) as exc:
        raise NotColumnar(str(exc)) from None
    if ragged or not same or done != len(layout.lines):
        raise NotColumnar("the records are not the lines the layout found")


@dataclass(frozen=True)
class ColumnBatches:
    """A file the column-wise pass takes, to be parsed a batch of records at a time, as often as needed.

    Why: holding every column of a large file at once costs several times the file; a batch of a
    few megabytes at a time keeps a pass's memory bounded whatever the file's size.
    """

    layout: _Layout
    batch_bytes: int = BATCH_BYTES  # bytes of the file parsed at a time

    @property
    def lines(self) -> np.ndarray:
        """The physical line of every record, in file order."""
        return self.layout.lines

    def __len__(self) -> int:
        return len(self.layout.lines)

    def __iter__(self) -> Iterator[Columns]:
        """One pass over the records; raises NotColumnar if the file turns out not to qualify."""
        return _batches(self.layout, self.batch_bytes)


def read_columns(
    path: Path, encoding: str, delimiter: str, header_line: int, header: list[str]
) -> Columns | None:
    """The records after the header line, or None when this file needs the row-wise scan."""
    whole = min(max(path.stat().st_size, 1), _WHOLE)  # one batch: no column to be put together again
    batches = column_batches(path, encoding, delimiter, header_line, header, batch_bytes=whole)
    if batches is None:
        return None
    try:
        parts = list(batches)
    except NotColumnar:
        return None
    pa.default_memory_pool().release_unused()  # what parsing freed goes back, not only to Arrow
    names = batches.layout.names
    if len(parts) == 1:
        return Columns(batches.lines, parts[0].columns)
    columns = [
        pa.concat_arrays([part.columns[i] for part in parts]) if parts else pa.array([], pa.string())
        for i in range(names)
    ]
    return Columns(batches.lines, columns)


def column_batches(
    path: Path,
    encoding: str,
    delimiter: str,
    header_line: int,
    header: list[str],
    *,
    batch_bytes: int = BATCH_BYTES,
) -> ColumnBatches | None:
    """The file's layout checked on all its bytes, for passes a batch at a time (None: row-wise)."""
    if not ENABLED or encoding not in ("utf-8", "utf-8-sig"):
        return None
    with path.open("rb") as handle:
        layout = _layout(path, handle, delimiter, header_line, header)
    return None if layout is None else ColumnBatches(layout, batch_bytes)


def _stamp(status: os.stat_result) -> tuple[int, int, int, int]:
    """Which file, its size and modification time: the second read must see the bytes the first saw."""
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


def _layout(
    path: Path, handle: BinaryIO, delimiter: str, header_line: int, header: list[str]
) -> _Layout | None:
    """An open file's layout, checked on all its bytes (None: the row-wise scan reads it).

    Why: the bytes are dropped before Arrow reads the body again from the file, so the two never
    take memory at once. A file replaced or changed in between goes to the row-wise scan.
    """
    stamp = _stamp(os.fstat(handle.fileno()))
    data = handle.read()
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    raw = np.frombuffer(data, np.uint8)
    breaks = _positions(raw, 10)
    starts = np.concatenate(([start], breaks + 1))
    ends = np.concatenate((breaks, [len(data)]))
    if len(starts) and starts[-1] >= len(data):  # the file ends with a line break: no last line
        starts, ends = starts[:-1], ends[:-1]
    if not len(starts) or header_line > len(starts):  # (no line is over the cap: the detector checked)
        return None
    quoted = b'"' in data
    if quoted:
        quotes = _positions(raw, 34)
        per_line = np.bincount(np.searchsorted(breaks, quotes), minlength=len(starts) + 1)
        if (per_line & 1).any() or _suspicious_quotes(raw, quotes, delimiter):
            return None
    head = data[starts[header_line - 1] : ends[header_line - 1]].decode("utf-8")
    record = next(csv.reader([head], delimiter=delimiter))
    width = len(record)
    names = [value.strip().lstrip("\ufeff").strip() for value in record]
    while names and not names[-1]:
        names.pop()
    if names != header:
        return None
    body = int(starts[header_line]) if header_line < len(starts) else len(data)
    # Non-blank physical lines after the header: a line whose first byte is not a blank byte is not
    # blank; the few others are looked at one by one.
    blank_bytes = np.zeros(256, bool)
    blank_bytes[[32, 9, 10, 11, 12, 13, ord(delimiter)]] = True
    after = starts[header_line:]
    after_ends = ends[header_line:]
    keep = np.ones(len(after), bool)
    first = np.where(after < after_ends, raw[np.minimum(after, len(data) - 1)], 10)
    chars = " \t\r\x0b\x0c" + delimiter
    blank_records = False  # blank lines Arrow reads as records (of empty values) to drop
    for i in np.flatnonzero(blank_bytes[first]).tolist():
        line_text = data[after[i] : after_ends[i]].decode("utf-8")
        keep[i] = bool(line_text.strip(chars))
        blank_records = blank_records or (not keep[i] and line_text not in ("", "\r"))
    lines = (np.flatnonzero(keep) + header_line + 1).astype(np.int64)
    # Without blank lines Arrow keeps, quotes or non-ASCII text, every record has a value.
    may_be_blank = blank_records or quoted or width == 1 or not data.isascii()
    return _Layout(path, stamp, body, width, len(header), delimiter, lines, chars, may_be_blank)


def repeating(hashes: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The records (within ``mask``) whose hash another record of ``mask`` shares, in file order.

    The hashes are sorted once (most files repeat none, and then nothing more is done); the few
    that repeat are then looked up among all of them.
    """
    where = np.flatnonzero(mask)
    values = hashes[where]
    ordered = np.sort(values)
    twice = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(twice):
        return np.zeros(0, np.int64)
    return where[np.isin(values, twice)]


_BINARY = np.zeros(256, bool)
_BINARY[[*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1A), *range(0x1B, 0x20)]] = True  # as csv_table's


def plain_utf8(data: bytes, limit: int) -> bool:
    """Whether the detector's line-by-line scan would find nothing to say about this file.

    True when the bytes (after a UTF-8 byte-order mark) are valid UTF-8 without binary bytes, hold
    some text and no line longer than ``limit``: the scan would choose UTF-8 with no finding. Any
    other file goes through the scan, which words the problem.
    """
    if data.startswith((b"PK\x03\x04", b"\xff\xfe", b"\xfe\xff")) or not _has_text(data):
        return False
    raw = np.frombuffer(data, np.uint8)
    controls = _positions(raw, 32, below=True)
    kinds = raw[controls]
    if _BINARY[kinds].any():
        return False
    breaks = controls[kinds == 10]
    edges = np.concatenate(([-1], breaks, [len(data) - 1]))
    if len(edges) and int(np.diff(edges).max()) > limit:
        return False
    if not data.isascii():
        decoder = codecs.getincrementaldecoder("utf-8")()  # a block at a time: no copy of the file as text
        try:
            for i in range(0, len(data), _BLOCK):
                decoder.decode(data[i : i + _BLOCK])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _has_text(data: bytes) -> bool:
    """Whether anything but ASCII white space follows the byte-order mark (read a block at a time)."""
    start = len(BOM) if data.startswith(BOM) else 0
    return any(data[i : i + _BLOCK].strip() for i in range(start, len(data), _BLOCK))
