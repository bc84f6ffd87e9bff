"""The fast lane of a deals import: a file without any problem, its values built column-wise.

Why: :class:`~bot.services.imports.rows.DealRows` types, joins, converts and validates each deal
on its own (tens of microseconds a deal: most of a million-deal import). The usual export has no
problem at all, and then every one of those steps can be done on whole columns once the file is
known to be clean: the stream's batches are typed column-wise (``clean_deal_batches``), the
deals' account ids are looked up among the stored ones by Arrow, lengths are checked per column,
and the rows' values are made by one generated loop, a chunk of rows at a time.

The lane only takes a file on which it provably gives what the row path gives, the same values
(and so the same content digests), counts, findings and summary: no row error, no repeated deal
id, every deal joined to a stored account by one plain account id, no value too long for its
column and nothing pydantic would convert. Any other file goes the row path, untouched, so every
error message and line number stays its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import closing
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bot.services.imports.rows import (
    CURRENCY_KEYS,
    DEAL_NAME_KEYS,
    NAME_KEY_PREFIX,
    DealRows,
    Tally,
    column_key,
    stage_problem,
)
from bot.store.models import DealCreate
from bot.store.models.base import CRM_ID, NAME
from icp_engine.readers import (
    AccountMatcher,
    CsvFormatError,
    DealBatch,
    DealNotes,
    DealStream,
    clean_deal_batches,
    clean_deal_findings,
)

__all__ = ["DealColumns", "deal_rows"]

_CURRENCY_LENGTH = 8  # what _DealValues takes for a currency (DealCreate.currency's max_length)
_CHUNK = 16_384  # rows made into Python values at a time (a few megabytes)
_FIELDS = tuple(DealCreate.model_fields)
Maker = Callable[..., list[dict[str, Any]]]


def deal_rows(
    stream: DealStream, stored: Sequence[tuple[str, str]], *, columnwise: bool = True
) -> DealColumns | DealRows:
    """The fast lane when the file has no problem at all (and ``columnwise``), else the row path."""
    if columnwise:
        fast = DealColumns.of(stream, stored)
        if fast is not None:
            return fast
    return DealRows(stream, stored)


class _Plan:
    """What a file's columns become in the deals' values: where the name, currency and raw texts go.

    The row path takes a deal's name (currency) from the first of its non-empty attributes whose
    column is named like one (``_DealValues``); with at most one such column and no value too long
    for it, that is simply the column's value.
    """

    def __init__(self, columns: Mapping[str, str], custom: Sequence[str]) -> None:
        names = [name for name in custom if column_key(name) in DEAL_NAME_KEYS]
        currencies = [name for name in custom if column_key(name) in CURRENCY_KEYS]
        self.usable = "account_id" in columns and len(names) <= 1 and len(currencies) <= 1
        self.name = names[0] if names else None
        self.currency = currencies[0] if currencies else None
        self.custom = [name for name in custom if name not in (self.name, self.currency)]
        self.stage_from_text = "is_won" not in columns and "is_closed" not in columns
        self.stage_column = columns.get("stage")
        self.account_name_column = columns.get("account_name")
        self.account_id_column = columns.get("account_id")
        raw = [
            c for c in (self.stage_column, self.account_name_column, self.account_id_column) if c is not None
        ]
        self.make = _maker(self.name is not None, self.currency is not None, self.custom, raw)

    def stage_problems(self, batch: DealBatch) -> bool:
        """Whether a stage the readers took for 'open' is not a stage name (what the row path rejects)."""
        return self.stage_from_text and any(
            stage == "open" and stage_problem(raw) is not None
            for stage, raw in zip(batch.stages, batch.stage_raws, strict=True)
        )

    def too_long(self, batch: DealBatch) -> bool:
        """Whether a value is longer than its column, or than the row path takes for name or currency."""
        custom = dict(batch.custom)
        limits = [(batch.deal_id, CRM_ID)]
        if self.name is not None:
            limits.append((custom[self.name], NAME))
        if self.currency is not None:
            limits.append((custom[self.currency], _CURRENCY_LENGTH))
        return any(_longest(texts) > limit for texts, limit in limits)

    def rows(self, batch: DealBatch, start: int, stop: int) -> list[dict[str, Any]]:
        """The values of the batch's deals ``start:stop``, as the row path makes them."""
        custom = dict(batch.custom)
        part = slice(start, stop)
        account_ids = _texts(batch.account_id, part)
        codes = batch.stage_codes[part]
        columns: list[list[Any]] = [
            _texts(batch.deal_id, part),
            account_ids,
            *([_texts(custom[self.name], part)] if self.name is not None else []),
            np.array(batch.stages, dtype=object)[codes].tolist(),
            batch.amount[part].tolist(),
            *([_texts(custom[self.currency], part)] if self.currency is not None else []),
            batch.created_date[part].tolist(),
            batch.close_date[part].tolist(),
            *(_texts(custom[name], part) for name in self.custom),
        ]
        if self.stage_column is not None:
            columns.append(np.array(batch.stage_raws, dtype=object)[codes].tolist())
        if self.account_name_column is not None:
            columns.append(_texts(batch.account_name, part))
        columns.append(account_ids)
        return self.make(*columns)


def _texts(texts: pa.Array | None, part: slice) -> list[Any]:
    assert texts is not None  # a column the plan found in the file
    out: list[Any] = texts[part].to_pylist()
    return out


def _longest(texts: pa.Array) -> int:
    """The length (in characters, as pydantic counts) of the column's longest text."""
    if not len(texts):
        return 0
    longest = pc.max(pc.utf8_length(texts)).as_py()
    return int(longest or 0)


def _maker(has_name: bool, has_currency: bool, custom: Sequence[str], raw: Sequence[str]) -> Maker:
    """The function making a chunk's deal values from its columns, written out once per file.

    One function with a statement per attribute, as dataclasses build their __init__: a loop over
    the columns costs several times the dict it fills. The deal's fields come in DealCreate's order;
    the custom attributes in the row path's order (the unmapped columns' non-empty values, then the
    raw stage, account name and account id texts), so even their stored JSON text is the same.
    Only indexed names go into the source; field and attribute names are passed in as globals.
    """
    env: dict[str, Any] = {f"field{i}": name for i, name in enumerate(_FIELDS)}
    args = ["crm_id", "account"]
    if has_name:
        args.append("name")
    args += ["stage", "amount"]
    if has_currency:
        args.append("currency")
    args += ["created", "closed"]
    keys = [*custom, *raw]
    args += [f"v{k}" for k in range(len(keys))]
    env.update({f"key{k}": name for k, name in enumerate(keys)})
    values = {
        "crm_id": "crm_id",
        "account_crm_id": "account",
        "name": "name or None" if has_name else "None",
        "stage": "stage",
        "amount": "amount if amount == amount else None",  # NaN: no amount
        "currency": "currency or None" if has_currency else "None",
        "created_on": "created",
        "closed_on": "closed",
        "custom_attributes": "custom",
    }
    assert set(values) == set(_FIELDS), "DealCreate's fields changed: teach the fast lane the new ones"
    lines = [
        f"def make({', '.join('all_' + arg for arg in args)}):",
        "    out = []",
        "    append = out.append",
        f"    for {', '.join(args)} in zip({', '.join('all_' + arg for arg in args)}):",
        "        custom = {}",
        *(f"        if v{k}:\n            custom[key{k}] = v{k}" for k in range(len(keys))),
        "        append({" + ", ".join(f"field{i}: {values[name]}" for i, name in enumerate(_FIELDS)) + "})",
        "    return out",
    ]
    exec("\n".join(lines), env)
    return env["make"]  # type: ignore[no-any-return]


class DealColumns:
    """A deals file without any problem, typed and joined column-wise, its values made a chunk at a time.

    What :class:`DealRows` gives for such a file (values in file order, tally). Like the row path,
    it reads the file twice: a first pass checks every batch and keeps only what the findings
    need (a few numbers a batch), and :meth:`values` types each batch again as it is written, so
    what an import holds does not grow with the file. ``checked``: every row is known to be good
    before anything is written.
    """

    checked = True
    distinct_ids = True  # the lane takes only files without a repeated deal id

    def __init__(self, stream: DealStream, plan: _Plan, notes: list[DealNotes], accepted: int) -> None:
        self.stream, self.plan, self.notes, self.accepted = stream, plan, notes, accepted
        self.file = stream.file

    @classmethod
    def of(cls, stream: DealStream, stored: Sequence[tuple[str, str]]) -> DealColumns | None:
        """The file's deals if the lane takes the file, else None (see the module's docstring)."""
        plan: _Plan | None = None
        ids = pa.array(
            [crm_id for crm_id, _ in stored if not crm_id.startswith(NAME_KEY_PREFIX)], pa.string()
        )
        notes: list[DealNotes] = []
        accepted = 0
        with closing(clean_deal_batches(stream)) as typed:
            for batch in typed:
                if batch is None:
                    return None
                if plan is None:
                    plan = _Plan(stream.columns, [name for name, _ in batch.custom])
                if (
                    not plan.usable
                    or plan.too_long(batch)
                    or plan.stage_problems(batch)
                    or not _joined_by_id(batch, ids)
                ):
                    return None
                notes.append(batch.notes)
                accepted += len(batch.lines)
        if plan is None:
            return None
        return cls(stream, plan, notes, accepted)

    def values(self, *, stop_at_rejected: bool = False) -> Generator[dict[str, Any], None, None]:
        """The deals' values in file order (``stop_at_rejected`` changes nothing: no row is rejected).

        A batch that no longer passes means the file changed since the first pass: that raises,
        and the import's transaction is rolled back, as on the row path.
        """
        with closing(clean_deal_batches(self.stream)) as typed:
            for batch in typed:
                if batch is None:
                    raise CsvFormatError(f"{self.file} changed while it was being read; import it again")
                for start in range(0, len(batch.lines), _CHUNK):
                    yield from self.plan.rows(batch, start, start + _CHUNK)

    def tally(self) -> Tally:
        """What :meth:`DealRows.tally` says after a pass over the same file: no error, all joined by id."""
        joined = AccountMatcher([], file=self.file, columns={})
        joined.how = Counter({"id": self.accepted})
        findings = [*clean_deal_findings(self.stream, self.notes), joined.joined_finding("deal")]
        return Tally(self.accepted, [], list(dict.fromkeys(findings)), [])


def _joined_by_id(batch: DealBatch, ids: pa.Array) -> bool:
    """Whether every deal of the batch names one account id, stored as it is (what DealRows joins
    by a lookup)."""
    if batch.account_id is None:
        return False
    if not pc.all(pc.is_in(batch.account_id, value_set=ids)).as_py():
        return False
    return not pc.any(pc.match_substring(batch.account_id, ";")).as_py()
