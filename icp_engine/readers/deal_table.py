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

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from icp_engine.normalize import parse_number
from icp_engine.readers.account_join import AccountMatcher, _accountless_texts
from icp_engine.readers.account_table import AccountTable
from icp_engine.readers.columnar import Columns, NotColumnar, empty_as_null
from icp_engine.readers.csv_table import DEFAULT_MAX_FIELD_BYTES
from icp_engine.readers.results import CsvFormatError, DealRow, ReadResult, RowError
from icp_engine.readers.typed_rows import DealStream, _DealTyper, deals_row_by_row
from icp_engine.readers.values import DateLookup, _count, _lines, _Row


class DealTexts(NamedTuple):
    """The deal id, account id, account name and stage of each accepted deal as Arrow texts (null: empty)."""

    deal_id: pa.Array
    account_id: pa.Array
    account_name: pa.Array
    stage: pa.Array


@dataclass
class DealTable:
    """The accepted deals of a file as columns (file order), with the file's errors and findings.

    Texts are kept as Arrow arrays (``texts``): a million deal and account ids made into ``str``
    objects cost more than the rest of the typing. ``deal_id``, ``account_id`` and ``account_name``
    give them as object arrays of ``str`` or ``None`` (empty) when asked; ``stage`` is an object
    array of stages; ``amount`` is float (NaN when unknown); dates hold :class:`datetime.date` or ``None``.
    """

    file: str
    lines: np.ndarray
    texts: DealTexts
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

    @cached_property
    def deal_id(self) -> np.ndarray:
        return _objects_of(self.texts.deal_id)

    @cached_property
    def account_id(self) -> np.ndarray:
        return _objects_of(self.texts.account_id)

    @cached_property
    def account_name(self) -> np.ndarray:
        return _objects_of(self.texts.account_name)

    @cached_property
    def is_open(self) -> np.ndarray:
        return _equal(self.texts.stage, "open")

    @cached_property
    def is_won(self) -> np.ndarray:
        return _equal(self.texts.stage, "won")

    @cached_property
    def accountless(self) -> np.ndarray:
        """Deals naming no account (neither an id nor a name)."""
        named = pc.or_(pc.is_valid(self.texts.account_id), pc.is_valid(self.texts.account_name))
        return ~np.asarray(named.to_numpy(zero_copy_only=False), dtype=bool)


def _equal(texts: pa.Array, text: str) -> np.ndarray:
    """Which texts are ``text`` (a null is not), as a bool array."""
    return np.asarray(pc.equal(texts, text).fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _objects_of(texts: pa.Array) -> np.ndarray:
    """Arrow texts as an object array of ``str`` (``None`` for a null)."""
    out: np.ndarray = texts.to_numpy(zero_copy_only=False)
    return out


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
    texts = DealTexts(
        pa.array([r.deal_id for r in rows], pa.string()),
        pa.array([r.account_id or None for r in rows], pa.string()),
        pa.array([r.account_name or None for r in rows], pa.string()),
        pa.array([r.stage for r in rows], pa.string()),
    )
    return DealTable(
        read.file,
        np.array([r.line for r in rows], dtype=np.int64),
        texts,
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
    """A column's values and which records it rejects, worked out once per distinct text.

    ``days``: for dates, each record's day number (-1: none), what the findings compare;
    ``texts``: for stages, the values as Arrow texts (what the deals frame is made of).
    """

    values: np.ndarray
    bad: np.ndarray
    days: np.ndarray | None = None
    texts: pa.Array | None = None


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

    def column(self, field: str) -> pa.Array | None:
        """A column as Arrow parsed it (None: the file has no such column)."""
        position = self.layout.index.get(field)
        return None if position is None else self.records.columns[position]

    def table(self) -> DealTable:
        lines = self.records.lines
        id_column = self.column("deal_id")
        assert id_column is not None  # a deals file has a deal id column (resolve_columns required it)
        no_id = np.asarray(pc.equal(id_column, "").to_numpy(zero_copy_only=False), dtype=bool)
        if _ascending(id_column) or len(pc.unique(id_column)) == self.n:  # every id once: the common case
            dup = np.zeros(self.n, dtype=bool)
        else:
            dup = pd.Series(self.texts("deal_id")).duplicated(keep="first").to_numpy() & ~no_id
        stage = self._stages()
        amount = self._amounts()
        created, closed = self._dates("created_date"), self._dates("close_date")
        good = ~(no_id | dup | stage.bad | amount.bad | created.bad | closed.bad)
        errors = self._row_errors(good, dup)
        keep = None if good.all() else np.flatnonzero(good)

        def kept(values: np.ndarray) -> np.ndarray:
            return values if keep is None else values[keep]

        table = DealTable(
            self.stream.file,
            kept(lines),
            DealTexts(
                self._names("deal_id", keep),
                self._names("account_id", keep),
                self._names("account_name", keep),
                _kept_texts(stage.texts, keep),
            ),
            kept(stage.values),
            kept(amount.values),
            kept(created.values),
            kept(closed.values),
            [*self.stream.table_errors, *errors],
            [],
            self.stream.columns,
            self.stream.encoding,
            self.stream.delimiter,
        )
        has_amount = "amount" in self.layout.index
        backwards = _backwards(created.days, closed.days)
        table.findings = [
            *self.stream._source.encoding_notes(),
            *_deal_findings(table, has_amount, None if backwards is None else kept(backwards)),
        ]
        return table

    def _row_errors(self, good: np.ndarray, dup: np.ndarray) -> list[RowError]:
        """The errors of the records a column rejects, each worded by the row-wise typer (in file
        order); a record it takes after all is marked good again (never expected)."""
        errors: list[RowError] = []
        bad = np.flatnonzero(~good)
        if not len(bad):
            return errors
        ids = self.texts("deal_id")
        assert ids is not None
        lines = self.records.lines
        first_line = self._first_lines(ids, dup)
        for i in bad.tolist():
            deal_id = ids[i]
            self.typer.ids = {deal_id: first_line[deal_id]} if dup[i] else {}
            deal, row_errors = self.typer.checked(int(lines[i]), self.values_of(i))
            if deal is None:
                errors.extend(row_errors)
            else:  # typed row-wise after all (never expected): the columns agree on its values
                good[i] = True
        return errors

    def _names(self, field: str, keep: np.ndarray | None) -> pa.Array:
        """A text column of the accepted deals, empty texts as nulls (no ``str`` per record)."""
        column = self.column(field)
        if column is None:
            return pa.nulls(self.n if keep is None else len(keep), pa.string())
        return empty_as_null(_kept_texts(column, keep))

    def _first_lines(self, ids: np.ndarray, dup: np.ndarray) -> dict[str, int]:
        """The first line of each deal id that repeats (what the duplicate error names)."""
        first: dict[str, int] = {}
        for i in np.flatnonzero(np.isin(ids, np.unique(ids[dup]))).tolist():
            first.setdefault(ids[i], int(self.records.lines[i]))
        return first

    def _stage_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """The first record of each distinct (IsWon, IsClosed, stage) triple, and each record's triple."""
        codes = np.zeros(self.n, dtype=np.int64)
        size = 1
        for field in ("is_won", "is_closed", "stage"):
            if (found := self.distinct(field)) is not None:
                part, uniques = found
                codes = codes * len(uniques) + part
                size *= len(uniques)
        return _first_of_each(codes, size)

    def _stages(self) -> _PerDistinct:
        """Stage per record from its (IsWon, IsClosed, stage) texts, each distinct triple typed once."""
        first, inverse = self._stage_keys()
        values = np.empty(len(first), dtype=object)
        bad = np.zeros(len(first), dtype=bool)
        for k, i in enumerate(first.tolist()):
            row = _Row(self.layout, int(self.records.lines[i]), self.values_of(i))
            stage, _raw = self.typer.stage(row)
            values[k] = stage
            bad[k] = bool(row.errors) or stage is None
        texts = pa.array(values, pa.string()).take(pa.array(inverse))
        return _PerDistinct(values[inverse], bad[inverse], texts=texts)

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
        days = np.full(len(uniques), -1, dtype=np.int64)
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
                days[k] = value.toordinal()
        return _PerDistinct(values[codes], bad[codes], days[codes])


def _kept_texts(texts: pa.Array | None, keep: np.ndarray | None) -> pa.Array:
    """The texts of the accepted records (``keep`` None: every record is)."""
    assert texts is not None  # the stages' texts, which _stages always makes
    return texts if keep is None else texts.take(pa.array(keep))


def _first_of_each(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(codes, return_index=True, return_inverse=True)`` without its sort of every
    record, for codes below ``size``: (first record of each distinct code, each record's number)."""
    n = len(codes)
    if size > 2 * n + 1024:  # codes too sparse for a table of them
        _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        return first, inverse
    first = np.full(size, n, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(n, dtype=np.int64))
    present = np.flatnonzero(first < n)
    number = np.zeros(size, dtype=np.int64)
    number[present] = np.arange(len(present))
    return first[present], number[codes]


def _backwards(created: np.ndarray | None, closed: np.ndarray | None) -> np.ndarray | None:
    """Records with both dates whose close date is before their created date (None: no such column)."""
    if created is None or closed is None:
        return None
    backwards: np.ndarray = (created >= 0) & (closed >= 0) & (closed < created)
    return backwards


def _ascending(column: pa.Array | pa.ChunkedArray) -> bool:
    """Each text after the one before (so each once): a comparison, where counting distinct ids hashes them all."""
    if len(column) < 2:
        return True
    later = pc.greater(column.slice(1), column.slice(0, len(column) - 1))
    return pc.all(later, skip_nulls=False).as_py() is True


def _accountless(deals: DealTable) -> list[str]:
    """The findings on deals naming no account: open ones counted, closed ones listed."""
    lone, is_open = deals.accountless, deals.is_open
    return _accountless_texts(int((lone & is_open).sum()), deals.lines[lone & ~is_open].tolist())


def _deal_findings(table: DealTable, has_amount: bool, backwards: np.ndarray | None) -> list[str]:
    """``_DealFindings`` of the accepted deals: accountless deals, deals closing before created
    (``backwards``: which close before, from the day numbers; None without both date columns)."""
    findings = _accountless(table)
    if backwards is not None and backwards.any():
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


def _direct_ids(ids: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """The account ids looked up directly (one id, no ';': texts are stripped already, as the
    matcher reads them) and their rows, the last row of an id first (a dict of them keeps that one)."""
    if not ids.notna().any():
        return pa.array([], pa.string()), np.zeros(0, dtype=np.int64)
    texts = pa.array(ids.array, from_pandas=True)
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    direct = pc.and_(pc.is_valid(texts), pc.invert(pc.match_substring(texts, ";"))).fill_null(False)
    rows = np.flatnonzero(np.asarray(direct.to_numpy(zero_copy_only=False), dtype=bool))[::-1]
    return texts.take(pa.array(rows)).cast(pa.string()), rows


def join_deal_table(accounts: AccountTable, deals: DealTable) -> tuple[np.ndarray, list[RowError], list[str]]:
    """Each deal's account as a row of ``accounts.frame`` (-1: none), with ``join_deals``'s errors and findings.

    A deal whose account id is one id of the accounts file is matched at once, column-wise; the
    others that name an account (several ids, unknown ids, names) go through the same matcher as
    ``join_deals``, whose account rows are only made when there is such a deal.
    """
    value_set, rows_of = _direct_ids(accounts.frame["account_id"])
    index = np.full(len(deals), -1, dtype=np.int64)
    account_ids, account_names = deals.texts.account_id, deals.texts.account_name
    if len(value_set):
        # Arrow's hash lookup on the Arrow texts: no str object per deal.
        found = pc.index_in(account_ids, value_set=value_set).fill_null(-1).to_numpy()
        index = np.where(found >= 0, rows_of[found], -1)
    direct = index >= 0
    others = np.flatnonzero(~direct & ~deals.accountless)
    rows = accounts.read_result(attributes=False).rows if len(others) else []
    matcher = AccountMatcher(rows, file=deals.file, columns=deals.columns)
    matcher.how["id"] += int(direct.sum())
    position = {id(account): k for k, account in enumerate(rows)}
    errors: list[RowError] = []
    picked = pa.array(others, pa.int64())
    refs = zip(
        deals.lines[others].tolist(),
        account_ids.take(picked).to_pylist(),
        account_names.take(picked).to_pylist(),
        strict=True,
    )
    for i, ref in zip(others.tolist(), refs, strict=True):
        account, error = matcher.match(_DealRef(*ref))
        if error is not None:
            errors.append(error)
        if account is not None:
            index[i] = position[id(account)]
    return index, errors, [matcher.joined_finding("deal"), *_accountless(deals)]


class DealNotes(NamedTuple):
    """What a streamed deals file's findings say of one batch: a few numbers, kept between passes."""

    accountless_open: int  # open deals naming no account (what read_deals' findings count)
    accountless_closed: list[int]  # lines of closed deals naming no account
    backwards: list[int]  # lines of deals closing before they were created


class DealBatch(NamedTuple):
    """One batch of a streamed deals file, every record of it a good deal, typed column-wise.

    Texts are the batch's stripped texts as Arrow arrays ("" for an empty cell). Stages are typed once per distinct (IsWon, IsClosed, stage) texts:
    ``stage_codes`` index ``stages`` and ``stage_raws`` (the CRM's wording, as ``DealRow.stage_raw``).
    Dates hold :class:`datetime.date` or None, amounts NaN when unknown.
    """

    lines: np.ndarray
    deal_id: pa.Array
    account_id: pa.Array | None  # None: the file has no such column
    account_name: pa.Array | None
    custom: list[tuple[str, pa.Array]]  # (attribute name, texts) of each unmapped column, in file order
    stage_codes: np.ndarray
    stages: list[str]
    stage_raws: list[str]
    amount: np.ndarray
    created_date: np.ndarray
    close_date: np.ndarray
    notes: DealNotes  # what the findings say of the batch


def clean_deal_batches(stream: DealStream) -> Generator[DealBatch | None, None, None]:
    """The batches of a stream read batch-wise (``DealStream(keep=False)``), typed column-wise,
    as long as the row-wise typer would accept every record: yields None and stops at the first
    batch where it would not (a missing or repeated deal id, a bad stage, amount or date, a ragged
    record, a file changed since it was opened), or at once when the file is not read batch-wise.

    Why: a file without any problem (the usual export) needs none of the row-wise typer's
    bookkeeping; a file with one goes through ``DealStream.rows``, which words every problem.
    """
    batches = stream._batches
    if batches is None or stream.table_errors or stream._may_repeat:
        yield None
        return
    typer = _DealTyper(stream._layout, stream._extra_columns, stream._dates, quick=False)
    try:
        for part in batches:
            batch = _BatchColumns(stream, part, typer).clean()
            yield batch
            if batch is None:
                return
    except (NotColumnar, CsvFormatError):
        yield None
    finally:
        pa.default_memory_pool().release_unused()


def clean_deal_findings(stream: DealStream, notes: Sequence[DealNotes]) -> list[str]:
    """What ``stream.findings`` says after a row-wise pass over the batches these notes are of."""
    closed = [line for note in notes for line in note.accountless_closed]
    findings = _accountless_texts(sum(note.accountless_open for note in notes), closed)
    backwards = [line for note in notes for line in note.backwards]
    if backwards:
        findings.append(
            f"{_count(len(backwards), 'deal', ('closes', 'close'))} before they were created (lines {_lines(backwards)})"
        )
    if "amount" not in stream._layout.index:
        findings.append("no amount column: deal values are unknown")
    return [*stream._source.encoding_notes(), *findings]


class _BatchColumns(_TypedColumns):
    """The columnar typing of one batch of a stream read batch-wise (one typer for every batch)."""

    def __init__(self, stream: DealStream, records: Columns, typer: _DealTyper) -> None:
        self.stream = stream
        self.records = records
        self.layout = stream._layout
        self.typer = typer
        self.n = len(records)

    def clean(self) -> DealBatch | None:
        """The batch typed, or None when any record of it has a problem."""
        ids = self.column("deal_id")
        if ids is None or pc.any(pc.equal(ids, "")).as_py():
            return None
        codes, stages, raws = self._stages_with_raw()
        if codes is None:
            return None
        amount, created, closed = self._amounts(), self._dates("created_date"), self._dates("close_date")
        if amount.bad.any() or created.bad.any() or closed.bad.any():
            return None
        lines = self.records.lines
        lone = ~(self._filled("account_id") | self._filled("account_name"))
        is_open = np.array([stage == "open" for stage in stages], dtype=bool)[codes]
        backwards = _backwards(created.days, closed.days)
        texts = self.records.columns
        return DealBatch(
            lines,
            ids,
            self.column("account_id"),
            self.column("account_name"),
            [(name, texts[position]) for position, name in self.stream._extra_columns],
            codes,
            stages,
            raws,
            amount.values,
            created.values,
            closed.values,
            DealNotes(
                int((lone & is_open).sum()),
                lines[lone & ~is_open].tolist(),
                [] if backwards is None else lines[backwards].tolist(),
            ),
        )

    def _filled(self, field: str) -> np.ndarray:
        column = self.column(field)
        if column is None:
            return np.zeros(self.n, dtype=bool)
        return np.asarray(pc.not_equal(column, "").to_numpy(zero_copy_only=False), dtype=bool)

    def _stages_with_raw(self) -> tuple[np.ndarray | None, list[str], list[str]]:
        """Each record's code into the distinct stages and their raw texts (None: a bad stage)."""
        first, inverse = self._stage_keys()
        stages: list[str] = []
        raws: list[str] = []
        for i in first.tolist():
            row = _Row(self.layout, int(self.records.lines[i]), self.values_of(i))
            stage, raw = self.typer.stage(row)
            if row.errors or stage is None:
                return None, [], []
            stages.append(stage)
            raws.append(raw)
        return inverse, stages, raws
