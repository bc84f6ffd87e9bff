"""From the readers' typed rows to the store's Create models, with the checks storing them needs.

The readers check what a file says (ids, numbers, dates, stages); this module adds what the store
needs before anything is written: canonical account attributes normalised, every value fitting
its column, one row per CRM id, and each deal and health row pointing at an account of the
workspace. Every problem is a ``RowError`` (file, line, column, reason).

Accounts and health rows are converted twice, once to check and once (lazily) to write, so a
file never holds its validated values in memory at once; deals (:class:`DealRows`) are checked
and converted in the single pass that writes them, straight from the streamed file. Values are
validated with :class:`~bot.services.imports.values.ModelValues` (the Create model's own types and
limits, checked without building a model per row).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

import annotated_types
import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from bot.services.imports.values import ModelValues, validation_problems
from bot.store.models import AccountCreate, CustomerHealthCreate, DealCreate
from icp_engine.normalize import CANONICAL_ATTRIBUTES, NormalizationReport, ValueMapping, normalize_frame
from icp_engine.readers import (
    AccountMatcher,
    AccountRow,
    AccountTable,
    DealRow,
    DealStream,
    HealthRow,
    JoinResult,
    ReadResult,
    RowError,
    normalize_company_name,
)

ModelT = TypeVar("ModelT", bound=BaseModel)  # the store's Create models

# Accounts exported without an id column are keyed by their normalised name under this prefix;
# reading them back, such ids are not offered for matching deals "by account id".
NAME_KEY_PREFIX = "name:"
INT_MAX = 2**31 - 1  # INTEGER columns (employees, nps, referrals) on PostgreSQL

TABLE_CHUNK_ROWS = 20_000  # accounts turned into row objects at a time (a few tens of MB)

DEAL_NAME_KEYS = frozenset({"dealname", "opportunityname", "name"})
CURRENCY_KEYS = frozenset({"currency", "currencycode", "currencyisocode", "dealcurrencycode"})
_CLOSED_WORDS = frozenset({"closed", "close", "won", "win", "lost", "loss", "lose"})
_NUMERIC_STAGE = re.compile(r"[\d\s.,:/-]+")

Problems = list[tuple[str, str]]  # (model field, reason)
Converted = tuple[int, dict[str, Any], Problems]  # (line, model field values, problems)


@functools.lru_cache(maxsize=4096)
def column_key(text: str) -> str:
    """Matching key for column names (the same few names come back on every row)."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _max_lengths(model: type[BaseModel]) -> dict[str, int]:
    """The string length limits declared on a Create model (the columns' VARCHAR sizes)."""
    limits: dict[str, int] = {}
    for name, info in model.model_fields.items():
        for meta in info.metadata:
            if isinstance(meta, annotated_types.MaxLen):
                limits[name] = meta.max_length
    return limits


@dataclass
class Tally:
    """What a file's rows came to: rows read, every error (by line), findings and value mappings."""

    rows: int
    errors: list[RowError]
    findings: list[str]
    mappings: list[tuple[ValueMapping, int]]

    @property
    def rejected(self) -> int:
        return len({e.line for e in self.errors})


@dataclass
class Prepared(Generic[ModelT]):
    """The rows of one file, checked: errors and findings now, validated values on demand.

    ``read`` is the reader's result the rows came from (its errors count as rejected rows too).
    """

    model: type[ModelT]
    file: str
    columns: dict[str, str | None]  # model field -> file column (for error messages)
    convert: Callable[[], Iterator[Converted]]
    errors: list[RowError] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    mappings: list[tuple[ValueMapping, int]] = field(default_factory=list)
    bad_lines: set[int] = field(default_factory=set)
    accepted: int = 0
    read: ReadResult[Any] | None = None
    read_rows: int | None = None  # rows the reader accepted, when ``read`` does not hold them
    checked: bool = True  # every row error is known before values() runs
    distinct_ids: bool = False  # every CRM id known to occur once (a new workspace then looks none up)

    def check(self, labels: Mapping[str, str]) -> None:
        """First pass: record every row problem and value too long for its column."""
        too_long = _LengthCheck(self.model, labels)
        for line, values, problems in self.convert():
            found = [*problems, *too_long(values)]
            for name, reason in found:
                self.errors.append(RowError(self.file, line, self.columns.get(name), reason))
            if found:
                self.bad_lines.add(line)
            else:
                self.accepted += 1

    def values(self, *, stop_at_rejected: bool = False) -> Generator[dict[str, Any], None, None]:
        """Second pass: the good rows' field values, validated (a failure here is a RowError too).

        ``stop_at_rejected`` changes nothing here: every row was checked before (see DealRows).
        """
        validate = ModelValues(self.model)
        for line, values, _ in self.convert():
            if line in self.bad_lines:
                continue
            try:
                yield validate(values)
            except ValidationError as exc:
                raise RowRejectedError(self._validation_errors(line, exc)) from None

    def tally(self) -> Tally:
        read_errors = self.read.errors if self.read is not None else []
        if self.read_rows is not None:
            read_rows = self.read_rows
        else:
            read_rows = len(self.read.rows) if self.read is not None else self.accepted + len(self.bad_lines)
        return Tally(
            rows=read_rows + len({e.line for e in read_errors}),
            errors=sorted([*read_errors, *self.errors], key=lambda e: e.line),
            findings=list(self.findings),
            mappings=list(self.mappings),
        )

    def _validation_errors(self, line: int, exc: ValidationError) -> list[RowError]:
        return [
            RowError(self.file, line, self.columns.get(name), reason)
            for name, reason in validation_problems(exc)
        ]


class _LengthCheck:
    """Values too long for their column, worded for people ("deal name is too long: ...")."""

    def __init__(self, model: type[BaseModel], labels: Mapping[str, str]) -> None:
        self.limits = [
            (name, limit, labels.get(name, name.replace("_", " ")))
            for name, limit in _max_lengths(model).items()
        ]

    def __call__(self, values: Mapping[str, Any]) -> Problems:
        found: Problems = []
        for name, limit, label in self.limits:
            value = values.get(name)
            if isinstance(value, str) and len(value) > limit:
                found.append((name, f"{label} is too long: {len(value):,} characters, at most {limit}"))
        return found


class RowRejectedError(ValueError):
    """A row failed the store's own validation while being written (the write is rolled back)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def _with_duplicates(rows: Iterator[Converted], describe: Callable[[str, int], str]) -> Iterator[Converted]:
    """A CRM id already taken by an earlier line is a problem of the later row."""
    first: dict[str, int] = {}
    for line, values, problems in rows:
        crm_id = values["crm_id"]
        if crm_id in first:
            problems = [*problems, ("crm_id", describe(crm_id, first[crm_id]))]
        else:
            first[crm_id] = line
        yield line, values, problems


# ---------------------------------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------------------------------


def account_crm_id(row: AccountRow) -> str:
    """The CRM id an account is stored under: its own id, else its normalised name."""
    if row.account_id:
        return row.account_id
    return NAME_KEY_PREFIX + normalize_company_name(row.name or "")


def _column(frame: pd.DataFrame, name: str) -> np.ndarray | None:
    return frame[name].to_numpy() if name in frame.columns else None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def prepare_accounts(read: ReadResult[AccountRow], *, revenue_unit: float = 1.0) -> Prepared[AccountCreate]:
    """Normalise canonical attributes (typed columns) and keep the rest as custom attributes."""
    rows = read.rows
    raw = pd.DataFrame(
        [{f: r.attributes[f] for f in CANONICAL_ATTRIBUTES if f in r.attributes} for r in rows],
        index=range(len(rows)),
        columns=[f for f in CANONICAL_ATTRIBUTES if f in read.columns],
        dtype=object,
    )
    return _prepare_accounts(read, lambda: iter(rows), raw, revenue_unit=revenue_unit)


def prepare_account_table(
    table: AccountTable, *, revenue_unit: float = 1.0, chunk_rows: int = TABLE_CHUNK_ROWS
) -> Prepared[AccountCreate]:
    """``prepare_accounts`` of a file read column-wise: the same checks and values, less memory.

    Why: a row object per account (``read_accounts``) costs about two kilobytes, thirty times the
    file; the table keeps the file's texts in columns, and each pass over the rows makes row
    objects for ``chunk_rows`` accounts at a time only.
    """
    frame = table.frame.reset_index(drop=True)
    count = len(frame)
    header: ReadResult[AccountRow] = ReadResult(
        table.file, [], table.errors, table.findings, table.columns, table.encoding, table.delimiter
    )

    def rows() -> Iterator[AccountRow]:
        for start in range(0, count, chunk_rows):
            yield from replace(table, frame=frame.iloc[start : start + chunk_rows]).read_result().rows

    return _prepare_accounts(header, rows, canonical_frame(table), revenue_unit=revenue_unit, read_rows=count)


def canonical_frame(table: AccountTable) -> pd.DataFrame:
    """The table's canonical attributes (every one the file maps, missing where a row has none)."""
    frame = table.frame.reset_index(drop=True)
    count = len(frame)
    return pd.DataFrame(
        {
            f: frame[f] if f in frame.columns else pd.Series(np.nan, index=range(count), dtype=object)
            for f in CANONICAL_ATTRIBUTES
            if f in table.columns
        },
        index=range(count),
    )


def account_columns(file_columns: Mapping[str, str]) -> dict[str, str | None]:
    """Model field -> file column of an accounts file (what error messages name)."""
    name_column = file_columns.get("name")
    return {
        "crm_id": file_columns.get("account_id", name_column),
        "name": name_column,
        "domain": file_columns.get("domain"),
        **{f: file_columns.get(f) for f in CANONICAL_ATTRIBUTES},
    }


def account_converter(
    raw: pd.DataFrame, *, revenue_unit: float
) -> tuple[Callable[[Iterable[AccountRow]], Iterator[Converted]], NormalizationReport]:
    """What turns accounts into model values (``raw``: their canonical attributes, in the same order)."""
    norm, report = normalize_frame(raw)
    arrays = {f: _column(norm, f) for f in CANONICAL_ATTRIBUTES}

    def convert_rows(rows: Iterable[AccountRow]) -> Iterator[Converted]:
        for i, row in enumerate(rows):
            problems: Problems = []
            values: dict[str, Any] = {
                "crm_id": account_crm_id(row),
                "name": row.name or "",
                "domain": row.domain,
                "tech_stack": [],
                "custom_attributes": {
                    k: v for k, v in row.attributes.items() if k not in CANONICAL_ATTRIBUTES and k != "domain"
                },
            }
            for name in ("industry", "country", "region"):
                array = arrays[name]
                values[name] = None if array is None or _missing(array[i]) else str(array[i])
            if arrays["tech_stack"] is not None and arrays["tech_stack"][i]:
                values["tech_stack"] = list(arrays["tech_stack"][i])
            revenue = arrays["annual_revenue"]
            if revenue is not None and not _missing(revenue[i]):
                values["annual_revenue"] = float(revenue[i]) * revenue_unit
            employees = arrays["employees"]
            if employees is not None and not _missing(employees[i]):
                count = math.floor(float(employees[i]) + 0.5)  # 10.5 (a '10-11' band) -> 11
                if count > INT_MAX:
                    problems.append(
                        ("employees", f"more employees than can be stored ({INT_MAX:,}): {count:,}")
                    )
                else:
                    values["employees"] = count
            yield row.line, values, problems

    return convert_rows, report


def duplicate_account(crm_id: str, first: int) -> str:
    """Why a row whose CRM id an earlier row has is rejected."""
    if crm_id.startswith(NAME_KEY_PREFIX):
        return f"duplicate account: the same company as line {first}, and neither row has an account id"
    return f"duplicate account id '{crm_id}' (first seen on line {first})"


def bad_value_findings(report: NormalizationReport) -> list[str]:
    """One finding per value normalisation could not read."""
    return [
        f"{field_name}: {raw_value!r} left unknown in {count:,} rows: {reason}"
        for field_name, raw_value, count, reason in report.bad_values
    ]


ACCOUNT_LABELS = {"crm_id": "account id", "name": "account name"}


def _prepare_accounts(
    read: ReadResult[AccountRow],
    rows_of: Callable[[], Iterator[AccountRow]],
    raw: pd.DataFrame,
    *,
    revenue_unit: float,
    read_rows: int | None = None,
) -> Prepared[AccountCreate]:
    """The accounts ``rows_of`` gives (in file order; ``raw`` holds their canonical attributes), checked."""
    convert_rows, report = account_converter(raw, revenue_unit=revenue_unit)
    prepared = Prepared(
        AccountCreate,
        read.file,
        account_columns(read.columns),
        lambda: _with_duplicates(convert_rows(rows_of()), duplicate_account),
        findings=[*read.findings, *bad_value_findings(report)],
        mappings=list(report.mappings),
        read=read,
        read_rows=read_rows,
    )
    prepared.check(ACCOUNT_LABELS)
    return prepared


def stored_account_rows(accounts: Sequence[tuple[str, str]]) -> list[AccountRow]:
    """Stored (crm_id, name) pairs as reader rows for joining; ``line`` is the position + 1."""
    return [
        AccountRow(
            line=i,
            account_id=None if crm_id.startswith(NAME_KEY_PREFIX) else crm_id,
            name=name or None,
            domain=None,
            attributes={"crm_id": crm_id},
        )
        for i, (crm_id, name) in enumerate(accounts, 1)
    ]


_AMBIGUOUS = re.compile(r"matches accounts on lines ([\d, ]+)$")


def stored_join_errors(errors: Sequence[RowError], accounts: Sequence[AccountRow]) -> list[RowError]:
    """Say "stored accounts" where the readers' join speaks of an accounts file and its lines."""
    fixed = []
    for error in errors:
        reason = error.reason.replace(
            "the accounts file has no account ids", "the accounts in this workspace have no account ids"
        )
        match = _AMBIGUOUS.search(reason)
        if match:
            ids = [accounts[int(n) - 1].attributes["crm_id"] for n in match.group(1).split(", ")]
            listed = ", ".join(f"'{i.removeprefix(NAME_KEY_PREFIX)}'" for i in ids)
            reason = reason[: match.start()] + f"matches several stored accounts ({listed})"
        fixed.append(RowError(error.file, error.line, error.column, reason))
    return fixed


def _joined_crm_id(account: AccountRow | None) -> str | None:
    return None if account is None else str(account.attributes["crm_id"])


# ---------------------------------------------------------------------------------------------------
# Deals
# ---------------------------------------------------------------------------------------------------


def stage_problem(raw: str) -> str | None:
    """Stage text that the readers took for 'open' but that is not a pipeline stage name."""
    if _NUMERIC_STAGE.fullmatch(raw):
        return f"unknown deal stage '{raw}': a number, not a stage name (export stage labels, not stage ids)"
    closed = sorted(set(re.findall(r"[a-z]+", raw.casefold())) & _CLOSED_WORDS)
    if closed:
        return (
            f"unknown deal stage '{raw}': it says '{closed[0]}' but is not a stage read as won or lost "
            "(Won, Lost, Closed Won, Closed Lost); rename it in the file"
        )
    return None


def _keyed(names: Sequence[str], keys: frozenset[str]) -> tuple[str, ...]:
    """The attribute names that mean one of ``keys`` ('Deal Name', 'dealname'...), in order."""
    return tuple(name for name in names if column_key(name) in keys)


def _pop_first(attributes: dict[str, str], candidates: Sequence[str], max_length: int) -> str | None:
    """Take out the first candidate attribute short enough for its column (else leave them all)."""
    for name in candidates:
        if len(attributes[name]) <= max_length:
            return attributes.pop(name)
    return None


_DEAL_LABELS = {"crm_id": "deal id", "account_crm_id": "account id", "name": "deal name"}
_CACHE_SIZE = 10_000  # distinct texts remembered per file, at most


class _DealValues:
    """One joined deal as DealCreate field values, and what is wrong with it (the same for every path)."""

    def __init__(self, cols: Mapping[str, str]) -> None:
        self.stage_from_text = "is_won" not in cols and "is_closed" not in cols
        self.raw_columns = [
            (cols[f], attribute)
            for f, attribute in (
                ("stage", "stage_raw"),
                ("account_name", "account_name"),
                ("account_id", "account_id"),
            )
            if f in cols
        ]
        self.stage_problems: dict[str, str | None] = {}
        # attribute names of a row -> which of them may hold the deal name / the currency
        self.candidates: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def stage_problem(self, raw: str) -> str | None:
        if raw in self.stage_problems:
            return self.stage_problems[raw]
        problem = stage_problem(raw)
        if len(self.stage_problems) < _CACHE_SIZE:
            self.stage_problems[raw] = problem
        return problem

    def __call__(self, deal: DealRow, account_crm_id: str | None) -> tuple[dict[str, Any], Problems]:
        """Field values and problems of a deal joined to the stored account ``account_crm_id``."""
        problems: Problems = []
        if self.stage_from_text and deal.stage == "open" and (problem := self.stage_problem(deal.stage_raw)):
            problems.append(("stage", problem))
        custom = dict(deal.attributes)
        names = tuple(custom)
        candidates = self.candidates.get(names)
        if candidates is None:
            candidates = (_keyed(names, DEAL_NAME_KEYS), _keyed(names, CURRENCY_KEYS))
            if len(self.candidates) < _CACHE_SIZE:
                self.candidates[names] = candidates
        name = _pop_first(custom, candidates[0], 512)
        currency = _pop_first(custom, candidates[1], 8)
        for column, attribute in self.raw_columns:
            if raw_value := getattr(deal, attribute):
                custom[column] = raw_value
        values = {
            "crm_id": deal.deal_id,
            "account_crm_id": account_crm_id,
            "name": name,
            "stage": deal.stage,
            "amount": deal.amount,
            "currency": currency,
            "created_on": deal.created_date,
            "closed_on": deal.close_date,
            "custom_attributes": custom,
        }
        return values, problems


def _deal_columns(cols: Mapping[str, str]) -> dict[str, str | None]:
    return {
        "crm_id": cols.get("deal_id"),
        "account_crm_id": cols.get("account_id", cols.get("account_name")),
        "stage": cols.get("stage"),
        "amount": cols.get("amount"),
        "created_on": cols.get("created_date"),
        "closed_on": cols.get("close_date"),
    }


def prepare_deals(
    read: ReadResult[DealRow], joined: JoinResult[DealRow], stored: Sequence[AccountRow]
) -> Prepared[DealCreate]:
    """Deals with the stored account they belong to; stage text must be a stage name."""
    join_errors = stored_join_errors(joined.errors, stored)
    unjoinable = {e.line for e in join_errors}
    to_values = _DealValues(read.columns)

    def convert_rows() -> Iterator[Converted]:
        for deal, account in joined.pairs:
            if deal.line not in unjoinable:
                values, problems = to_values(deal, _joined_crm_id(account))
                yield deal.line, values, problems

    prepared = Prepared(
        DealCreate,
        read.file,
        _deal_columns(read.columns),
        convert_rows,
        errors=list(join_errors),
        findings=list(dict.fromkeys([*read.findings, *joined.findings])),
        read=read,
    )
    prepared.check(_DEAL_LABELS)
    return prepared


class DealRows:
    """A deals file checked, joined and converted row by row while it is written (see DealStream).

    What :func:`prepare_deals` does for rows held in memory, for files too big to hold: each
    record is typed by the stream, joined to a stored account, converted and validated, and its
    values handed on; every problem becomes a RowError. The errors are only complete once
    :meth:`values` has run to the end (``checked`` is False), so the caller writes inside a
    transaction and rolls back when the file turns out to have rejected rows.
    """

    checked = False
    distinct_ids = False

    def __init__(self, stream: DealStream, stored: Sequence[tuple[str, str]]) -> None:
        """``stored``: (crm_id, name) of the workspace's accounts, in the order they were stored."""
        self.stream, self.stored = stream, stored
        self.file = stream.file
        self.columns = _deal_columns(stream.columns)
        # account id -> stored CRM id: most deals name one account id, found with one lookup;
        # the general matcher (names, several ids, messages) is only built if a deal needs it
        self.crm_ids = {crm_id: crm_id for crm_id, _ in stored if not crm_id.startswith(NAME_KEY_PREFIX)}
        self.how: Counter[str] = Counter()  # how deals were joined: 'id' or 'name'
        self._rows: list[AccountRow] | None = None
        self._matcher: AccountMatcher | None = None
        self.errors: list[RowError] = []
        self.rows = 0

    @property
    def stored_rows(self) -> list[AccountRow]:
        if self._rows is None:
            self._rows = stored_account_rows(self.stored)
        return self._rows

    @property
    def matcher(self) -> AccountMatcher:
        if self._matcher is None:
            self._matcher = AccountMatcher(self.stored_rows, file=self.file, columns=self.stream.columns)
            self._matcher.how = self.how  # one count, whichever way a deal was joined
        return self._matcher

    def values(self, *, stop_at_rejected: bool = False) -> Generator[dict[str, Any], None, None]:
        """The good rows' values in file order; after the first rejected row, none if asked to stop."""
        self.errors = list(self.stream.table_errors)
        self.rows = len({e.line for e in self.errors})
        writing = not (stop_at_rejected and self.errors)
        to_values = _DealValues(self.stream.columns)
        too_long = _LengthCheck(DealCreate, _DEAL_LABELS)
        validate = ModelValues(DealCreate)
        errors, file, columns = self.errors, self.file, self.columns
        crm_ids, how = self.crm_ids, self.how
        how.clear()  # counts of this pass only
        with self.stream.rows() as typed:
            for line, deal, row_errors in typed:
                self.rows += 1
                if deal is None:
                    errors.extend(row_errors)
                    writing = writing and not stop_at_rejected
                    continue
                account_id = deal.account_id
                if account_id and ";" not in account_id and (crm_id := crm_ids.get(account_id.strip())):
                    how["id"] += 1  # what match() would find and count, without its general case
                else:
                    account, join_error = self.matcher.match(deal)
                    if join_error is not None:
                        errors.extend(stored_join_errors([join_error], self.stored_rows))
                        writing = writing and not stop_at_rejected
                        continue
                    crm_id = _joined_crm_id(account)
                values, problems = to_values(deal, crm_id)
                if not problems and (ready := validate.as_is(values)) is not None:
                    if writing:  # the common case: nothing too long, nothing to convert
                        yield ready
                    continue
                problems += too_long(values)
                if not problems:
                    try:
                        values = validate(values)
                    except ValidationError as exc:
                        problems = validation_problems(exc)
                if problems:
                    errors.extend(
                        RowError(file, line, columns.get(name), reason) for name, reason in problems
                    )
                    writing = writing and not stop_at_rejected
                elif writing:
                    yield values

    def tally(self) -> Tally:
        """Counts, errors and findings of the last :meth:`values` pass."""
        joined = AccountMatcher([], file=self.file, columns={})
        joined.how = self.how
        findings = [*self.stream.findings, joined.joined_finding("deal")]
        return Tally(self.rows, sorted(self.errors, key=lambda e: e.line), list(dict.fromkeys(findings)), [])


# ---------------------------------------------------------------------------------------------------
# Customer health
# ---------------------------------------------------------------------------------------------------


def _whole(value: float | None, name: str, problems: Problems) -> int | None:
    if value is None:
        return None
    if value != int(value):
        problems.append((name, f"not a whole number: {value:g}"))
        return None
    if value > INT_MAX:
        problems.append((name, f"too large: {value:,.0f} (at most {INT_MAX:,})"))
        return None
    return int(value)


def prepare_health(
    read: ReadResult[HealthRow], joined: JoinResult[HealthRow], stored: Sequence[AccountRow]
) -> Prepared[CustomerHealthCreate]:
    """One health record per stored account; 0-10 NPS responses are kept as custom attributes."""
    cols = read.columns
    join_errors = stored_join_errors(joined.errors, stored)
    unjoinable = {e.line for e in join_errors}
    responses = read.nps_scale == "response"
    nps_column = cols.get("nps", "nps")
    columns: dict[str, str | None] = {
        "crm_id": cols.get("account_id", cols.get("account_name")),
        **{f: cols.get(f) for f in ("arr", "acv", "tenure_months", "churned", "nps", "health_score")},
        **{f: cols.get(f) for f in ("expansion_arr", "referrals")},
        "churned_on": cols.get("churn_date"),
    }

    def convert_rows() -> Iterator[Converted]:
        for health, account in joined.pairs:
            if health.line in unjoinable or account is None:
                continue
            problems: Problems = []
            custom: dict[str, Any] = dict(health.attributes)
            if health.customer_since is not None:
                custom[cols.get("customer_since", "customer_since")] = health.customer_since.isoformat()
            nps: int | None = None
            if health.nps is not None and responses:
                custom[nps_column] = int(health.nps)
            elif health.nps is not None:
                nps = round(health.nps)
            values = {
                "crm_id": _joined_crm_id(account),
                "arr": health.arr,
                "acv": health.acv,
                "tenure_months": health.tenure_months,
                "churned": health.churned,
                "churned_on": health.churn_date,
                "nps": nps,
                "health_score": health.health_score,
                "expansion_arr": health.expansion_arr,
                "referrals": _whole(health.referrals, "referrals", problems),
                "custom_attributes": custom,
            }
            yield health.line, values, problems

    def duplicate(crm_id: str, first: int) -> str:
        return (
            f"a second health row for the account of line {first} ('{crm_id.removeprefix(NAME_KEY_PREFIX)}')"
        )

    prepared = Prepared(
        CustomerHealthCreate,
        read.file,
        columns,
        lambda: _with_duplicates(convert_rows(), duplicate),
        errors=list(join_errors),
        read=read,
    )
    prepared.findings = [*read.findings, *joined.findings]
    if responses:
        prepared.findings.append(
            f"NPS responses are kept as the custom attribute '{nps_column}', not as account NPS"
        )
    prepared.check({"crm_id": "account id"})
    return prepared
