"""A deals file typed column-wise and joined to its accounts: what analyze, learn and the engine need.

Why: ``read_deals`` types one record at a time into :class:`DealRow` objects and ``join_deals``
matches them one at a time; at a million deals both loops are most of ``icp analyze``. Here each
check runs on whole columns, once per distinct text (stages, amounts and dates repeat a lot):
:func:`read_deal_table` gives the same accepted deals, errors (in file order, each worded by the
row-wise typer itself) and findings as ``read_deals``, and :func:`join_deal_table` the same
accounts, errors and findings as ``join_deals`` (the property tests hold them to it). A file the
columnar pass does not take (see ``columnar``) is typed row by row, as ``read_deals`` does, and converted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from icp_engine.normalize import parse_number
from icp_engine.readers.account_join import AccountMatcher, _accountless_texts
from icp_engine.readers.account_table import AccountTable
from icp_engine.readers.csv_table import DEFAULT_MAX_FIELD_BYTES
from icp_engine.readers.results import CsvFormatError, DealRow, ReadResult, RowError
from icp_engine.readers.typed_rows import DealStream, _DealTyper, deals_row_by_row
from icp_engine.readers.values import DateLookup, _count, _lines, _Row


@dataclass
class DealTable:
    """The accepted deals of a file as columns (file order), with the file's errors and findings.

    Texts are object arrays holding ``str`` or ``None`` (empty); ``amount`` is float (NaN when
    unknown); dates hold :class:`datetime.date` or ``None``.
    """

    file: str
    lines: np.ndarray
    deal_id: np.ndarray
    account_id: np.ndarray
    account_name: np.ndarray
    stage: np.ndarray
    amount: np.ndarray
    created_date: np.ndarray
    close_date: np.ndarray
    errors: list[RowError]
    findings: list[str]
    columns: dict[str, str]
    encoding: str
    delimiter: str

    def __len__(self) -> int:
        return len(self.lines)


def read_deal_table(
    path: str | Path,
    *,
    overrides: Mapping[str, str] | None = None,
    max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES,
) -> DealTable:
    """Read a deals file like :func:`read_deals` (same checks, errors and findings), as columns."""
    stream = DealStream(path, overrides=overrides, max_field_bytes=max_field_bytes, keep=True)
    if stream._columns is not None:
        return _TypedColumns(stream).table()
    # A file the columnar pass does not take: typed row by row, as read_deals does.
    return _from_rows(deals_row_by_row(stream))


def _objects(values: Sequence[object]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _from_rows(read: ReadResult[DealRow]) -> DealTable:
    rows = read.rows
    return DealTable(
        read.file,
        np.array([r.line for r in rows], dtype=np.int64),
        _objects([r.deal_id for r in rows]),
        _objects([r.account_id for r in rows]),
        _objects([r.account_name for r in rows]),
        _objects([r.stage for r in rows]),
        np.array([np.nan if r.amount is None else r.amount for r in rows], dtype=np.float64),
        _objects([r.created_date for r in rows]),
        _objects([r.close_date for r in rows]),
        list(read.errors),
        list(read.findings),
        dict(read.columns),
        read.encoding,
        read.delimiter,
    )


class _PerDistinct(NamedTuple):
    """A column's values and which records it rejects, worked out once per distinct text."""

    values: np.ndarray
    bad: np.ndarray


class _TypedColumns:
    """The columnar typing of one stream whose records Arrow parsed (``stream._columns``)."""

    def __init__(self, stream: DealStream) -> None:
        self.stream = stream
        columns = stream._columns
        assert columns is not None
        self.records = columns
        self.layout = stream._layout
        self.typer = _DealTyper(self.layout, stream._extra_columns, stream._dates, quick=False)
        self.n = len(columns)

    def texts(self, field: str) -> np.ndarray | None:
        position = self.layout.index.get(field)
        return None if position is None else self.records.texts(position)

    def distinct(self, field: str) -> tuple[np.ndarray, list[str]] | None:
        """A column as codes into its distinct texts (Arrow's dictionary encoding; no str per record)."""
        position = self.layout.index.get(field)
        if position is None:
            return None
        encoded = pc.dictionary_encode(self.records.columns[position])
        return encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary.to_pylist()

    def values_of(self, i: int) -> list[str]:
        """One record's texts (for the few records typed row-wise: no column made whole for them)."""
        return [column[i].as_py() for column in self.records.columns]

    def table(self) -> DealTable:
        lines = self.records.lines
        ids = self.texts("deal_id")
        assert ids is not None  # a deals file has a deal id column (resolve_columns required it)
        no_id = ids == ""
        id_column = self.records.columns[self.layout.index["deal_id"]]
        if _ascending(id_column) or len(pc.unique(id_column)) == self.n:  # every id once: the common case
            dup = np.zeros(self.n, dtype=bool)
        else:
            dup = pd.Series(ids).duplicated(keep="first").to_numpy() & ~no_id
        stage = self._stages()
        amount = self._amounts()
        created, closed = self._dates("created_date"), self._dates("close_date")
        good = ~(no_id | dup | stage.bad | amount.bad | created.bad | closed.bad)
        errors: list[RowError] = []
        bad = np.flatnonzero(~good)
        if len(bad):
            first_line = self._first_lines(ids, dup)
            for i in bad.tolist():
                deal_id = ids[i]
                self.typer.ids = {deal_id: first_line[deal_id]} if dup[i] else {}
                deal, row_errors = self.typer.checked(int(lines[i]), self.values_of(i))
                if deal is None:
                    errors.extend(row_errors)
                else:  # typed row-wise after all (never expected): the columns agree on its values
                    good[i] = True
        keep = np.flatnonzero(good)
        account_id, account_name = self._optional("account_id", keep), self._optional("account_name", keep)
        table = DealTable(
            self.stream.file,
            lines[keep],
            ids[keep],
            account_id,
            account_name,
            stage.values[keep],
            amount.values[keep],
            created.values[keep],
            closed.values[keep],
            [*self.stream.table_errors, *errors],
            [],
            self.stream.columns,
            self.stream.encoding,
            self.stream.delimiter,
        )
        has_amount = "amount" in self.layout.index
        table.findings = [*self.stream._source.encoding_notes(), *_deal_findings(table, has_amount)]
        return table

    def _optional(self, field: str, keep: np.ndarray) -> np.ndarray:
        texts = self.texts(field)
        if texts is None:
            return np.full(len(keep), None, dtype=object)
        kept: np.ndarray = texts[keep]  # a copy (the column's own array stays as it is)
        kept[kept == ""] = None
        return kept

    def _first_lines(self, ids: np.ndarray, dup: np.ndarray) -> dict[str, int]:
        """The first line of each deal id that repeats (what the duplicate error names)."""
        first: dict[str, int] = {}
        for i in np.flatnonzero(np.isin(ids, np.unique(ids[dup]))).tolist():
            first.setdefault(ids[i], int(self.records.lines[i]))
        return first

    def _stages(self) -> _PerDistinct:
        """Stage per record from its (IsWon, IsClosed, stage) texts, each distinct triple typed once."""
        codes = np.zeros(self.n, dtype=np.int64)
        for field in ("is_won", "is_closed", "stage"):
            if (found := self.distinct(field)) is not None:
                part, uniques = found
                codes = codes * len(uniques) + part
        _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        values = np.empty(len(first), dtype=object)
        bad = np.zeros(len(first), dtype=bool)
        for k, i in enumerate(first.tolist()):
            row = _Row(self.layout, int(self.records.lines[i]), self.values_of(i))
            stage, _raw = self.typer.stage(row)
            values[k] = stage
            bad[k] = bool(row.errors) or stage is None
        return _PerDistinct(values[inverse], bad[inverse])

    def _amounts(self) -> _PerDistinct:
        """Amounts >= 0 (NaN when empty or 'n/a'); plain numbers read at once, others per distinct text."""
        position = self.layout.index.get("amount")
        if position is None:
            return _PerDistinct(np.full(self.n, np.nan), np.zeros(self.n, dtype=bool))
        plain = self.records.plain_numbers(position)
        if plain is not None:
            return _PerDistinct(plain, np.zeros(self.n, dtype=bool))
        found = self.distinct("amount")
        assert found is not None
        codes, uniques = found
        values = np.full(len(uniques), np.nan)
        bad = np.zeros(len(uniques), dtype=bool)
        for k, text in enumerate(uniques):
            if not text:
                continue
            try:
                number = parse_number(text)
            except ValueError:
                bad[k] = True
                continue
            if number is not None:
                values[k] = number
                bad[k] = number < 0
        return _PerDistinct(values[codes], bad[codes])

    def _dates(self, field: str) -> _PerDistinct:
        """Dates in the column's one format (the stream's lookup), each distinct text looked up once."""
        found = self.distinct(field)
        lookup: DateLookup | None = self.stream._dates.get(field)
        if found is None or lookup is None:
            return _PerDistinct(np.full(self.n, None, dtype=object), np.zeros(self.n, dtype=bool))
        codes, uniques = found
        values = np.full(len(uniques), None, dtype=object)
        bad = np.zeros(len(uniques), dtype=bool)
        for k, text in enumerate(uniques):
            if not text:
                continue
            value: date | str | None = lookup.get(text)
            if value is None:  # every text was counted when the file was first read
                raise CsvFormatError(f"{self.layout.file} changed while it was being read; import it again")
            if isinstance(value, str):
                bad[k] = True
            else:
                values[k] = value
        return _PerDistinct(values[codes], bad[codes])


def _ascending(column: pa.Array | pa.ChunkedArray) -> bool:
    """Each text after the one before (so each once): a comparison, where counting distinct ids hashes them all."""
    if len(column) < 2:
        return True
    later = pc.greater(column.slice(1), column.slice(0, len(column) - 1))
    return pc.all(later, skip_nulls=False).as_py() is True


def _deal_findings(table: DealTable, has_amount: bool) -> list[str]:
    """``_DealFindings`` of the accepted deals: accountless deals, deals closing before created."""
    lone = (table.account_id == None) & (table.account_name == None)  # noqa: E711 (element-wise)
    is_open = table.stage == "open"
    findings = _accountless_texts(int((lone & is_open).sum()), table.lines[lone & ~is_open].tolist())
    both = (table.created_date != None) & (table.close_date != None)  # noqa: E711
    backwards = np.zeros(len(table), dtype=bool)
    if both.any():
        backwards[both] = table.close_date[both] < table.created_date[both]
    if backwards.any():
        lines = table.lines[backwards].tolist()
        findings.append(
            f"{_count(len(lines), 'deal', ('closes', 'close'))} before they were created (lines {_lines(lines)})"
        )
    if not has_amount:
        findings.append("no amount column: deal values are unknown")
    return findings


class _DealRef(NamedTuple):
    """What the account matcher reads of a deal."""

    line: int
    account_id: str | None
    account_name: str | None


def join_deal_table(accounts: AccountTable, deals: DealTable) -> tuple[np.ndarray, list[RowError], list[str]]:
    """Each deal's account as a row of ``accounts.frame`` (-1: none), with ``join_deals``'s errors and findings.

    A deal whose account id is one id of the accounts file is matched at once, column-wise; the
    others that name an account (several ids, unknown ids, names) go through the same matcher as
    ``join_deals``, whose account rows are only made when there is such a deal.
    """
    ids = accounts.frame["account_id"]
    # Only an id without ';' is looked up directly (texts are stripped already), as the matcher does.
    direct_ids = ids.notna() & ~ids.str.contains(";", regex=False).fillna(False)
    by_id = dict(
        zip(ids[direct_ids].tolist(), np.flatnonzero(direct_ids.to_numpy(dtype=bool)).tolist(), strict=True)
    )
    index = np.full(len(deals), -1, dtype=np.int64)
    if by_id:
        # Arrow's hash lookup: several times quicker than an object Index on a million ids.
        found = (
            pc.index_in(
                pa.array(deals.account_id, type=pa.string()), value_set=pa.array(list(by_id), pa.string())
            )
            .fill_null(-1)
            .to_numpy()
        )
        index = np.where(found >= 0, np.array(list(by_id.values()), dtype=np.int64)[found], -1)
    direct = index >= 0
    names_one = (deals.account_id != None) | (deals.account_name != None)  # noqa: E711 (element-wise)
    others = np.flatnonzero(~direct & names_one)
    rows = accounts.read_result(attributes=False).rows if len(others) else []
    matcher = AccountMatcher(rows, file=deals.file, columns=deals.columns)
    matcher.how["id"] += int(direct.sum())
    position = {id(account): k for k, account in enumerate(rows)}
    errors: list[RowError] = []
    for i in others.tolist():
        ref = _DealRef(int(deals.lines[i]), deals.account_id[i], deals.account_name[i])
        account, error = matcher.match(ref)
        if error is not None:
            errors.append(error)
        if account is not None:
            index[i] = position[id(account)]
    lone = (deals.account_id == None) & (deals.account_name == None)  # noqa: E711 (element-wise)
    is_open = deals.stage == "open"
    findings = [
        matcher.joined_finding("deal"),
        *_accountless_texts(int((lone & is_open).sum()), deals.lines[lone & ~is_open].tolist()),
    ]
    return index, errors, findings
