"""An accounts file checked and handed out a batch of records at a time: bounded memory at any size.

Why: :func:`read_account_table` holds every column of the file at once, several times the file's
size while it types them. An import only needs the accepted accounts a batch at a time, so
:class:`AccountStream` parses the file in passes of a few megabytes each and keeps, between
passes, a few bytes per record: its line, whether it is accepted, and hashes of its id and of
its name's coarse key. Duplicates are found among the hashes; only the records whose hash repeats
are read again as text and compared exactly, so the errors and findings are the ones
``read_account_table`` gives for the same file (the property tests hold the two to it).

Files the column-wise pass does not take (see ``columnar``) are not streamed: ``open`` says None
and the caller reads them whole, as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icp_engine.readers.account_table import (
    AccountTable,
    Filled,
    Problem,
    _column_of,
    _row_problems,
    attribute_columns,
    coarse_name_hashes,
    name_duplicates,
    row_errors,
    table_findings,
    table_frame,
)
from icp_engine.readers.aliases import ACCOUNT_FIELDS
from icp_engine.readers.columnar import (
    BATCH_BYTES,
    ColumnBatches,
    Columns,
    NotColumnar,
    column_batches,
    repeating,
)
from icp_engine.readers.columns import resolve_columns
from icp_engine.readers.csv_table import DEFAULT_MAX_FIELD_BYTES, _CsvSource
from icp_engine.readers.results import CsvFormatError, RowError
from icp_engine.readers.text_hashing import text_hashes
from icp_engine.readers.values import _custom_columns, _require_rows

__all__ = ["BATCH_BYTES", "AccountStream", "NotColumnar"]


@dataclass
class _Pass:
    """What the first pass keeps per record, a few bytes each."""

    ids: np.ndarray  # uint64 hash of the account id
    keys: np.ndarray  # uint64 hash of the name's coarse key
    has_id: np.ndarray
    has_name: np.ndarray
    problems: list[Problem] = field(default_factory=list)


class AccountStream:
    """An accounts file's accepted records, a batch at a time, with :func:`read_account_table`'s checks.

    :meth:`check` (one pass, and a second over the few records whose id or name may repeat) finds
    every error; :meth:`tables` then hands out the accepted records of each batch as an
    :class:`AccountTable` (no errors or findings of its own), as often as asked. The findings are
    complete after the first full pass of :meth:`tables` (they count attributes of accepted records).
    """

    def __init__(
        self,
        source: _CsvSource,
        batches: ColumnBatches,
        columns: dict[str, str],
        extra: Sequence[tuple[int, str]],
    ) -> None:
        self.source, self.batches, self.columns = source, batches, columns
        self.file = source.file
        self.encoding, self.delimiter = source.encoding, source.delimiter
        self.position = {c: i for i, c in enumerate(source.header.names)}
        self.attributes = attribute_columns(columns, self.position, extra)
        self.errors: list[RowError] = []
        self.accepted = np.ones(len(batches), bool)
        self.repeated_names = 0
        self._filled: Filled | None = None
        self._passes = 0

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        overrides: Mapping[str, str] | None = None,
        max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES,
        batch_bytes: int = BATCH_BYTES,
    ) -> AccountStream | None:
        """The file's header and layout checked (file problems raise CsvFormatError); None: read it whole."""
        source = _CsvSource.open(path, max_field_bytes)
        columns = resolve_columns(
            source.table(), ACCOUNT_FIELDS, overrides, required=[("name", "account_id")]
        )
        extra = _custom_columns(source.header.names, columns, ACCOUNT_FIELDS)
        header = source.header
        batches = column_batches(
            source.path, source.encoding, source.delimiter, header.line, header.names, batch_bytes=batch_bytes
        )
        if batches is None:
            return None
        _require_rows(source.file, len(batches), 0)
        return cls(source, batches, columns, extra)

    @property
    def records(self) -> int:
        return len(self.batches)

    @property
    def findings(self) -> list[str]:
        """The file's data-quality findings (after a full pass of :meth:`tables`)."""
        filled = self._filled or Filled()
        accepted = int(self.accepted.sum())
        notes = self.source.encoding_notes()
        return table_findings(notes, self.columns, self.repeated_names, accepted, filled.counts)

    def check(self) -> None:
        """Find every error (raises NotColumnar if the file turns out not to be one the pass takes)."""
        n = len(self.batches)
        first = _Pass(np.zeros(n, np.uint64), np.zeros(n, np.uint64), np.zeros(n, bool), np.zeros(n, bool))
        for offset, fast in self._batches(first_pass=True):
            column = _column_of(fast, self.columns, self.position)
            problems, has_id, has_name = _row_problems(column, self.columns)
            first.problems += [(offset + i, order, f, reason) for i, order, f, reason in problems]
            stop = offset + len(fast)
            first.has_id[offset:stop], first.has_name[offset:stop] = has_id, has_name
            first.ids[offset:stop] = text_hashes(column("account_id"))
            first.keys[offset:stop] = coarse_name_hashes(column("name"))
        problems = first.problems + self._duplicates(first)
        self.errors = row_errors(self.file, problems, self.batches.lines, self.columns)
        self.accepted[[p[0] for p in problems]] = False

    def _duplicates(self, first: _Pass) -> list[Problem]:
        """Ids and names that repeat, compared as text among the records whose hashes repeat."""
        maybe_ids = repeating(first.ids, first.has_id)
        maybe_names = repeating(first.keys, first.has_name)
        if not len(maybe_ids) and not len(maybe_names):
            return []
        ids, names = self._texts(maybe_ids, "account_id"), self._texts(maybe_names, "name")
        lines = self.batches.lines
        problems: list[Problem] = []
        first_line: dict[str, int] = {}
        for i, text in zip(maybe_ids.tolist(), ids, strict=True):
            if text in first_line:
                reason = f"duplicate account id '{text}' (first seen on line {first_line[text]})"
                problems.append((i, 3, "account_id", reason))
            else:
                first_line[text] = int(lines[i])
        candidates = [(i, int(lines[i]), name) for i, name in zip(maybe_names.tolist(), names, strict=True)]
        found, repeated = name_duplicates(candidates, self.columns)
        self.repeated_names = len(repeated)
        return problems + found

    def _texts(self, records: np.ndarray, field_name: str) -> list[str]:
        """The texts of one field of the given records (sorted record numbers), read in one more pass."""
        if not len(records):
            return []
        found: list[str] = []
        for offset, fast in self._batches():
            stop = offset + len(fast)
            here = records[(records >= offset) & (records < stop)] - offset
            if len(here):
                column = _column_of(fast, self.columns, self.position)(field_name)
                found += pc.take(column, pa.array(here)).to_pylist()
        return found

    def tables(self, *, order: Sequence[str] | None = None) -> Iterator[AccountTable]:
        """The accepted records of each batch, in file order.

        ``order``: the attributes every table's frame has, in that order (:meth:`attribute_order`
        of an earlier full pass, so that every batch gives its rows' attributes in the file's
        order); without it each frame has its batch's attributes in order of appearance.
        """
        filled = Filled()
        for offset, fast in self._batches():
            accepted = self.accepted[offset : offset + len(fast)]
            keep = None if accepted.all() else pa.array(accepted)
            filled.add(fast, self.attributes, keep, offset)
            if order is None:
                batch = Filled()
                batch.add(fast, self.attributes, keep)
                names = batch.order()
            else:
                names = list(order)
            column = _column_of(fast, self.columns, self.position)
            frame, _ = table_frame(fast, column, self.attributes, names, keep)
            yield AccountTable(self.file, frame, [], [], dict(self.columns), self.encoding, self.delimiter)
        self._filled = filled

    def attribute_order(self) -> list[str]:
        """The attributes accepted records fill, in order of first appearance (after a full pass)."""
        return (self._filled or Filled()).order()

    def _batches(self, *, first_pass: bool = False) -> Iterator[tuple[int, Columns]]:
        """(record number of the first record, records) per batch; a file changed since then raises."""
        offset = 0
        try:
            for fast in self.batches:
                yield offset, fast
                offset += len(fast)
        except NotColumnar:
            if first_pass:
                raise
            raise CsvFormatError(f"{self.file} changed while it was being read; import it again") from None
