"""An accounts file checked in passes over batches of records and written a batch at a time.

Why: holding a whole file's accounts (as columns, as normalised values, as row values) cost an
import worker ten times the file's size. :class:`AccountRows` keeps only what the passes need
between them (a few bytes per record: accepted or not, a hash of its CRM id) and holds one batch
of a few megabytes at a time, so an import's memory is bounded whatever the file's size. The
checks are those of :func:`~bot.services.imports.rows.prepare_account_table` and give the same
errors, findings and value mappings (the tests hold the two to it):

1. the reader's pass (:meth:`AccountStream.check`): every row problem and repeated id or name;
2. the store's pass: canonical attributes normalised, each value fits its column, one row per
   CRM id (a repeat is confirmed as text among the few records whose hash repeats);
3. the write: the accepted rows' values, validated, batch by batch, in the one transaction.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from bot.services.imports.rows import (
    ACCOUNT_LABELS,
    Converted,
    RowRejectedError,
    Tally,
    _LengthCheck,
    account_columns,
    account_converter,
    account_crm_id,
    bad_value_findings,
    canonical_frame,
    duplicate_account,
)
from bot.services.imports.values import ModelValues, validation_problems
from bot.store.models import AccountCreate
from icp_engine.normalize import NormalizationReport, merge_reports
from icp_engine.readers import (
    BATCH_BYTES,
    AccountRow,
    AccountStream,
    AccountTable,
    NotColumnar,
    RowError,
    read_account_table,
)

__all__ = ["AccountRows", "read_accounts_for_import"]

ROWS_AT_A_TIME = 4_096


def read_accounts_for_import(
    path: Path, *, overrides: dict[str, str], batch_bytes: int = BATCH_BYTES
) -> AccountStream | AccountTable:
    """The file as a stream when the column-wise pass takes it (checked by its reader), else whole."""
    stream = AccountStream.open(path, overrides=overrides, batch_bytes=batch_bytes)
    if stream is not None:
        try:
            stream.check()
        except NotColumnar:
            stream = None
    return read_account_table(path, overrides=overrides) if stream is None else stream


def _rows(table: AccountTable, size: int = ROWS_AT_A_TIME) -> Iterator[AccountRow]:
    """The table's accounts as row objects, a few thousand at a time (each costs about 2 kB)."""
    frame = table.frame
    for start in range(0, len(frame), size):
        yield from replace(table, frame=frame.iloc[start : start + size]).read_result().rows


def _crm_hashes(crm_ids: list[str]) -> np.ndarray:
    return np.asarray(pd.util.hash_array(np.array(crm_ids, dtype=object)), dtype=np.uint64)


class AccountRows:
    """A streamed accounts file's rows, checked for the store; values handed out a batch at a time."""

    checked = True
    distinct_ids = False

    def __init__(self, stream: AccountStream, *, revenue_unit: float = 1.0) -> None:
        self.stream, self.revenue_unit = stream, revenue_unit
        self.file = stream.file
        self.columns = account_columns(stream.columns)
        n = stream.records
        self.bad = np.zeros(n, bool)  # records the store's checks reject (the reader's are not accepted)
        self._errors: list[tuple[int, int, RowError]] = []  # (line, rank in the row, error)
        self.report = NormalizationReport()
        self._check(n)
        self._errors.sort(key=lambda e: (e[0], e[1]))  # as prepare_account_table words a row's problems
        self.errors = [error for _, _, error in self._errors]
        self.order = stream.attribute_order()
        self.accepted = int((stream.accepted & ~self.bad).sum())

    def _record(self, lines: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.stream.batches.lines, lines)

    def _converted(self, table: AccountTable) -> Iterator[Converted]:
        convert, report = account_converter(canonical_frame(table), revenue_unit=self.revenue_unit)
        self._reports.append(report)
        return convert(_rows(table))

    def _check(self, n: int) -> None:
        too_long = _LengthCheck(AccountCreate, ACCOUNT_LABELS)
        hashes = np.zeros(n, np.uint64)
        kept = np.zeros(n, bool)
        self._reports: list[NormalizationReport] = []
        for table in self.stream.tables():
            records = self._record(table.frame["_line"].to_numpy())
            crm_ids: list[str] = []
            for record, (line, values, problems) in zip(
                records.tolist(), self._converted(table), strict=True
            ):
                crm_ids.append(values["crm_id"])
                found = [*problems, *too_long(values)]
                if found:
                    self.bad[record] = True
                    self._errors += [
                        (line, 2 * (j >= len(problems)), RowError(self.file, line, self.columns.get(f), why))
                        for j, (f, why) in enumerate(found)
                    ]
            if len(records):
                hashes[records], kept[records] = _crm_hashes(crm_ids), True
        self.report = merge_reports(self._reports)
        self._reports = []
        self._repeated_crm_ids(hashes, kept)

    def _repeated_crm_ids(self, hashes: np.ndarray, kept: np.ndarray) -> None:
        """A CRM id an earlier accepted row has rejects the later row (compared as text)."""
        where = np.flatnonzero(kept)
        values = hashes[where]
        unique, counts = np.unique(values, return_counts=True)
        maybe = np.sort(where[np.isin(values, unique[counts > 1])])
        if not len(maybe):
            return
        first: dict[str, int] = {}
        for table in self.stream.tables():
            records = self._record(table.frame["_line"].to_numpy())
            hits = np.isin(records, maybe)
            if not hits.any():
                continue
            part = replace(table, frame=table.frame[hits].reset_index(drop=True))
            for record, row in zip(
                records[hits].tolist(), part.read_result(attributes=False).rows, strict=True
            ):
                crm_id = account_crm_id(row)
                if crm_id in first:
                    self.bad[record] = True
                    reason = duplicate_account(crm_id, first[crm_id])
                    error = RowError(self.file, row.line, self.columns.get("crm_id"), reason)
                    self._errors.append((row.line, 1, error))
                else:
                    first[crm_id] = row.line

    def values(self, *, stop_at_rejected: bool = False) -> Generator[dict[str, Any], None, None]:
        """The good rows' values, validated, in file order (``stop_at_rejected``: all were checked)."""
        validate = ModelValues(AccountCreate)
        for table in self.stream.tables(order=self.order):
            records = self._record(table.frame["_line"].to_numpy())
            convert, _ = account_converter(canonical_frame(table), revenue_unit=self.revenue_unit)
            rows = _rows(table)
            for bad, (line, values, _) in zip(self.bad[records].tolist(), convert(rows), strict=True):
                if bad:
                    continue
                try:
                    yield validate(values)
                except ValidationError as exc:
                    errors = [
                        RowError(self.file, line, self.columns.get(name), reason)
                        for name, reason in validation_problems(exc)
                    ]
                    raise RowRejectedError(errors) from None

    def tally(self) -> Tally:
        read_errors = self.stream.errors
        read_rows = int(self.stream.accepted.sum())
        return Tally(
            rows=read_rows + len({e.line for e in read_errors}),
            errors=sorted([*read_errors, *self.errors], key=lambda e: e.line),
            findings=[*self.stream.findings, *bad_value_findings(self.report)],
            mappings=list(self.report.mappings),
        )
