"""Reading accounts, deals and health files into typed rows, with the checks and findings of each kind."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icp_engine.normalize import parse_number
from icp_engine.readers.account_join import _accountless_texts, normalize_company_name
from icp_engine.readers.aliases import ACCOUNT_FIELDS, DEAL_FIELDS, HEALTH_FIELDS, _key
from icp_engine.readers.columnar import BATCH_BYTES, ColumnBatches, NotColumnar, repeating
from icp_engine.readers.columns import _columns_text, resolve_columns
from icp_engine.readers.csv_table import DEFAULT_MAX_FIELD_BYTES, Record, _CsvSource
from icp_engine.readers.results import (
    AccountRow,
    CsvFormatError,
    DealRow,
    HealthRow,
    ReadResult,
    RowError,
    Stage,
)
from icp_engine.readers.text_hashing import text_hashes
from icp_engine.readers.values import (
    _ACTIVE_WORDS,
    _CHURNED_WORDS,
    _FALSE,
    _TRUE,
    DateLookup,
    _count,
    _count_dates,
    _custom_columns,
    _date_lookups,
    _Layout,
    _lines,
    _require_rows,
    _Row,
)

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
    findings = source.encoding_notes()
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
        may_repeat: frozenset[str] | None = None,
    ) -> None:
        """``may_repeat``: the only deal ids that can occur twice, when a first pass found them
        (only those are remembered: a million remembered ids cost a hundred megabytes)."""
        self.layout, self.extra_columns, self.dates, self.use_quick = layout, extra_columns, dates, quick
        self.ids: dict[str, int] = {}
        self.may_repeat = may_repeat
        self.stages: dict[tuple[str | None, ...], tuple[Stage | None, str, list[tuple[str | None, str]]]] = {}
        self.findings = _DealFindings("amount" in layout.columns)
        index = layout.index
        self._quick_at = [index.get(f) for f in _QUICK_FIELDS]
        # (position, lookup) of the created and close dates; no position when the file has no such column
        self._date_at: list[tuple[int | None, DateLookup]] = [
            (index[f], dates[f]) if f in dates else (None, {}) for f in ("created_date", "close_date")
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
        elif self.may_repeat is None or deal_id in self.may_repeat:
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
            created = created_dates.get(text)
            if created is None or type(created) is str:
                return None
        if closed_at is not None and (text := values[closed_at]):
            closed = closed_dates.get(text)
            if closed is None or type(closed) is str:
                return None
        if self.may_repeat is None or deal_id in self.may_repeat:
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
        batch_bytes: int = BATCH_BYTES,
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
        # Held for rows() when asked to keep; else parsed a batch at a time, here and again in rows()
        # (which sees any change to the file), so the stream's memory does not grow with the file.
        fast = source.columns() if keep else None
        self._batches, self._may_repeat = (
            (None, None) if keep else _counted_batches(source, counts, self._layout, batch_bytes)
        )
        if fast is not None:  # parsed column-wise: count the date texts per column
            for f, counter in counts.items():
                counter.update(fast.counts(self._layout.index[f]))
        column_wise = fast if fast is not None else self._batches
        if column_wise is not None:
            self.records = len(column_wise)
            positions = []
        self._columns = fast
        passes: AbstractContextManager[Iterator[Record | RowError]] = (
            nullcontext(iter(())) if column_wise is not None else source.records(strip=keep)
        )
        with passes as scan:  # only the date texts are needed: stripped here
            for item in scan:
                if isinstance(item, RowError):
                    self.table_errors.append(item)
                    continue
                self.records += 1
                values = item[1]
                for counter, position in positions:
                    if text := values[position].strip():
                        counter[text] += 1
                if self._kept is not None:
                    self._kept.append(item)
        if problem is not None:
            raise problem
        _require_rows(source.file, self.records, len(self.table_errors))
        self._extra_columns = _custom_columns(header, columns, DEAL_FIELDS)
        self._dates = _date_lookups(counts)
        self.findings: list[str] = source.encoding_notes()

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
        may_repeat = self._may_repeat if self._batches is not None else None
        typer = _DealTyper(self._layout, self._extra_columns, self._dates, quick=quick, may_repeat=may_repeat)
        if self._columns is not None:
            yield self._typed(self._columns.records(), typer)
            return
        if self._kept is not None:
            yield self._typed(iter(self._kept), typer)
            return
        if self._batches is not None:
            yield self._typed(self._batch_records(self._batches), typer)
            return
        try:
            with self._source.records() as scan:
                yield self._typed(scan, typer)
        finally:
            _release_arrow_memory()

    def _batch_records(self, batches: ColumnBatches) -> Iterator[Record]:
        """The records again, a batch at a time; a file changed since the first pass raises."""
        try:
            for part in batches:
                yield from part.records()
        except NotColumnar:
            raise CsvFormatError(f"{self.file} changed while it was being read; import it again") from None

    def _typed(self, records: Iterator[Record | RowError], typer: _DealTyper) -> Iterator[TypedDeal]:
        for item in records:
            if isinstance(item, RowError):
                continue  # a ragged row: already in table_errors
            line, values = item
            deal, errors = typer(line, values)
            yield line, deal, errors
        self.findings = [*self._source.encoding_notes(), *typer.findings.texts()]


def _counted_batches(
    source: _CsvSource, counts: Mapping[str, Counter[str]], layout: _Layout, batch_bytes: int
) -> tuple[ColumnBatches | None, frozenset[str] | None]:
    """The file's batches when the column-wise pass takes it, with its date texts counted on the
    way, and the deal ids that may occur twice (those whose hash does; usually none)."""
    batches = source.batches(batch_bytes=batch_bytes)
    deal_id = layout.index.get("deal_id")
    if batches is None or deal_id is None:
        return None, None
    hashes: list[np.ndarray] = []
    try:
        for part in batches:
            for f, counter in counts.items():
                counter.update(part.counts(layout.index[f]))
            hashes.append(text_hashes(part.columns[deal_id]))
        every = np.concatenate(hashes) if hashes else np.zeros(0, np.uint64)
        maybe = repeating(every, np.ones(len(every), bool))
        if not len(maybe):
            return batches, frozenset()
        texts: set[str] = set()
        start = 0
        for part in batches:
            here = maybe[(maybe >= start) & (maybe < start + len(part))] - start
            texts.update(pc.take(part.columns[deal_id], pa.array(here)).to_pylist())
            start += len(part)
    except NotColumnar:  # (a ragged record, say): the row-wise scan reads it and words the problem
        for counter in counts.values():
            counter.clear()
        return None, None
    return batches, frozenset(texts)


def _release_arrow_memory() -> None:
    """Give back what a column-wise pass over a file freed: Arrow's allocator keeps it otherwise,
    and a million-deal import does other work (writing, statistics) after each pass."""
    pa.default_memory_pool().release_unused()


def read_deals(
    path: str | Path,
    *,
    overrides: Mapping[str, str] | None = None,
    max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES,
) -> ReadResult[DealRow]:
    """Read a deals file: stage won/lost/open, non-negative amount, dates, unique deal ids."""
    return deals_row_by_row(DealStream(path, overrides=overrides, max_field_bytes=max_field_bytes, keep=True))


def deals_row_by_row(stream: DealStream) -> ReadResult[DealRow]:
    """Every deal of an opened stream, typed one record at a time, with its errors and findings."""
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
    findings = source.encoding_notes()
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
