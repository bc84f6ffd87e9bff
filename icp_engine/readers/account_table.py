"""An accounts file read column-wise into one frame: what scoring and analysis need, fast.

Why: ``read_accounts`` types one record at a time into :class:`AccountRow` objects, and
``crm.accounts_frame`` then turns a million of them back into columns; both loops dominate
``icp score --accounts`` on large files. :func:`read_account_table` checks the same things on
whole columns (each distinct number text parsed once, duplicate names looked for among the few
names whose coarse key repeats) and gives the same accepted accounts, errors and findings as
``read_accounts`` (the property tests hold them to it). Files the columnar pass does not take
(see ``columnar``) are read by ``read_accounts`` and converted, so every message stays its.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from icp_engine.normalize import parse_number
from icp_engine.readers.account_join import _LEGAL_SUFFIXES, normalize_company_name
from icp_engine.readers.aliases import ACCOUNT_FIELDS
from icp_engine.readers.columnar import PLAIN_NUMBER, Columns, empty_as_null, repeating
from icp_engine.readers.columns import resolve_columns
from icp_engine.readers.csv_table import DEFAULT_MAX_FIELD_BYTES, _CsvSource
from icp_engine.readers.results import AccountRow, ReadResult, RowError
from icp_engine.readers.text_hashing import text_hashes, word_key_hashes
from icp_engine.readers.typed_rows import _ACCOUNT_ATTRIBUTES, read_accounts
from icp_engine.readers.values import _count, _custom_columns, _require_rows

IDENTITY = ("_line", "account_id", "name", "domain")
_COARSE_DROP = frozenset({*_LEGAL_SUFFIXES, "the"})


@dataclass
class AccountTable:
    """The accepted accounts of a file as one frame, with the file's errors and findings.

    ``frame`` has ``_line`` (the physical line), ``account_id``, ``name``, ``domain`` and then one
    column per attribute (the raw text); texts are pandas' str dtype, an empty value is missing.
    Attributes come in the order ``accounts_frame`` has always given them (by first appearance, row
    by row); attributes no accepted account has are left out.
    """

    file: str
    frame: pd.DataFrame
    errors: list[RowError]
    findings: list[str]
    columns: dict[str, str]
    encoding: str
    delimiter: str
    numbers: dict[str, np.ndarray] = field(default_factory=dict)  # attributes that are all plain numbers

    @property
    def attributes(self) -> list[str]:
        return [c for c in self.frame.columns if c not in IDENTITY]

    def read_result(self, *, attributes: bool = True) -> ReadResult[AccountRow]:
        """The same accounts as :func:`read_accounts` gives them (what the deal and health joins take).

        ``attributes=False`` leaves each row's attributes empty: joining deals and health to the
        accounts reads only ids and names, and a million attribute dicts cost seconds.
        """
        canonical = [f for f in _ACCOUNT_ATTRIBUTES if f in self.frame.columns or f == "domain"]
        names = canonical + [c for c in self.attributes if c not in canonical] if attributes else []
        frame = self.frame
        values = [(name, _objects(frame[name])) for name in names if name in frame.columns]
        lines = frame["_line"].tolist()
        ids, account_names, domains = (_objects(frame[c]).tolist() for c in ("account_id", "name", "domain"))
        rows = [
            AccountRow(
                line,
                ids[i],
                account_names[i],
                domains[i],
                {n: v for n, column in values if (v := column[i]) is not None},
            )
            for i, line in enumerate(lines)
        ]
        return ReadResult(
            self.file,
            rows,
            list(self.errors),
            list(self.findings),
            dict(self.columns),
            self.encoding,
            self.delimiter,
        )


def _objects(column: pd.Series) -> np.ndarray:
    """A column's values as Python objects, None where missing."""
    values = column.to_numpy(dtype=object, copy=True)
    values[pd.isna(values)] = None
    return values


def read_account_table(
    path: str | Path,
    *,
    overrides: Mapping[str, str] | None = None,
    max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES,
) -> AccountTable:
    """Read an accounts file like :func:`read_accounts`, into one frame."""
    source = _CsvSource.open(path, max_field_bytes)
    fast = source.columns()
    if fast is None:
        return from_rows(read_accounts(path, overrides=overrides, max_field_bytes=max_field_bytes))
    columns = resolve_columns(source.table(), ACCOUNT_FIELDS, overrides, required=[("name", "account_id")])
    extra = _custom_columns(source.header.names, columns, ACCOUNT_FIELDS)
    _require_rows(source.file, len(fast), 0)
    table = _typed(source, fast, columns, extra)
    del fast  # the file's texts the frame does not share, and what typing freed, go back to the system
    pa.default_memory_pool().release_unused()
    return table


def from_rows(result: ReadResult[AccountRow]) -> AccountTable:
    """The table of rows read one at a time (the reference, and files the columnar pass leaves)."""
    rows = result.rows
    raw = pd.DataFrame([r.attributes for r in rows], index=range(len(rows)), dtype=object)
    for name in raw.columns:  # texts as pandas' str dtype, a key a row does not have as missing
        raw[name] = raw[name].astype(_EMPTY_AS_MISSING)
    identity = pd.DataFrame(
        {
            "_line": np.array([r.line for r in rows], dtype=np.int64),
            "account_id": pd.Series([r.account_id for r in rows], dtype=_EMPTY_AS_MISSING),
            "name": pd.Series([r.name for r in rows], dtype=_EMPTY_AS_MISSING),
            "domain": pd.Series([r.domain for r in rows], dtype=_EMPTY_AS_MISSING),
        }
    )
    frame = pd.concat([identity, raw.drop(columns=[c for c in IDENTITY if c in raw.columns])], axis=1)
    return AccountTable(
        result.file, frame, list(result.errors), list(result.findings), dict(result.columns),
        result.encoding, result.delimiter,
    )  # fmt: skip


def _number_problems(texts: pa.Array, *, minimum: float = 0) -> dict[str, str]:
    """The reason each distinct text of a number column is rejected (texts that pass are not in it)."""
    filled = pc.filter(texts, pc.not_equal(texts, ""))
    odd = pc.unique(pc.filter(filled, pc.invert(pc.match_substring_regex(filled, PLAIN_NUMBER))))
    problems: dict[str, str] = {}
    for text in odd.to_pylist():
        try:
            value = parse_number(text)
        except ValueError as exc:
            problems[text] = str(exc)
            continue
        if value is not None and value < minimum:
            problems[text] = f"negative value: '{text}'"
    return problems


def _name_bytes() -> np.ndarray:
    """How a name's bytes read for its coarse key: ASCII letters lower case, digits as they are,
    dots and apostrophes left out (0), any other ASCII byte a space; other bytes as they are."""
    table = np.full(256, _SPACE, np.uint8)
    table[0x80:] = np.arange(0x80, 0x100)
    for chars in (string.ascii_lowercase, string.digits):
        table[[ord(c) for c in chars]] = [ord(c) for c in chars]
    table[[ord(c) for c in string.ascii_uppercase]] = [ord(c) for c in string.ascii_lowercase]
    table[[ord(c) for c in ".'`"]] = 0
    return table


_SPACE = 32
_NAME_BYTES = _name_bytes()


def coarse_name_hashes(names: pa.Array) -> np.ndarray:
    """A hash equal for any two names ``normalize_company_name`` makes equal (and for a few more).

    The key is the name's words without any legal suffix or 'the' anywhere ('&' reads as 'and',
    itself dropped), hashed on the bytes: no Python string per name. Names that are not ASCII
    start from their exact key.
    """
    non_ascii = pc.invert(pc.string_is_ascii(names))
    if pc.any(non_ascii).as_py():
        exact = [normalize_company_name(t) for t in pc.filter(names, non_ascii).to_pylist()]
        names = pc.replace_with_mask(names, non_ascii, pa.array(exact, pa.string()))
    return word_key_hashes(names, _COARSE_DROP, table=_NAME_BYTES)


def _repeats(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For codes numbered in order of first appearance: which rows repeat an earlier one, and the
    position of each code's first row."""
    if not len(codes):
        return np.zeros(0, bool), np.zeros(0, np.int64)
    seen_max = np.maximum.accumulate(np.concatenate(([-1], codes[:-1])))
    repeated = codes <= seen_max
    return repeated, np.flatnonzero(~repeated)


def _arrow_codes(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.dictionary_encode(values).indices.to_numpy(zero_copy_only=False))


_EMPTY_AS_MISSING = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' own str dtype


def _text_series(values: pa.Array) -> pd.Series:
    """A column of texts as pandas' str dtype (Arrow-backed, no Python objects), '' as missing.

    A column with no empty value is taken as it is: pandas then shares its texts, not a copy.
    """
    return pd.Series(pd.array(empty_as_null(values), dtype=_EMPTY_AS_MISSING))


Problem = tuple[int, int, str | None, str]  # (record, order in the row, field, reason)


def _row_problems(
    column: Callable[[str], pa.Array], columns: Mapping[str, str]
) -> tuple[list[Problem], np.ndarray, np.ndarray]:
    """What is wrong with each record on its own (no name or id, bad numbers); which have an id, a name."""
    problems: list[Problem] = []
    ids, names = column("account_id"), column("name")
    has_id = pc.not_equal(ids, "").to_numpy(zero_copy_only=False)
    has_name = pc.not_equal(names, "").to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(~has_id & ~has_name).tolist():
        problems.append((i, 0, "name" if "name" in columns else "account_id", "no account name or id"))
    for order, numeric in enumerate(("employees", "annual_revenue"), 1):
        if numeric not in columns:
            continue
        values = column(numeric)
        bad = _number_problems(values)
        if bad:
            hits = pc.is_in(values, value_set=pa.array(list(bad), pa.string())).to_numpy(zero_copy_only=False)
            for i in np.flatnonzero(hits).tolist():
                problems.append((i, order, numeric, bad[values[i].as_py()]))
    return problems, has_id, has_name


def id_duplicates(ids: pa.Array, has_id: np.ndarray, lines: np.ndarray) -> list[Problem]:
    """Each record whose account id an earlier record has, naming that record's line."""
    problems: list[Problem] = []
    codes = _arrow_codes(ids)
    repeated, firsts = _repeats(codes)
    repeated &= has_id
    for i in np.flatnonzero(repeated).tolist():
        first_line = lines[firsts[codes[i]]]
        reason = f"duplicate account id '{ids[i].as_py()}' (first seen on line {first_line})"
        problems.append((i, 3, "account_id", reason))
    return problems


def name_duplicates(
    candidates: Sequence[tuple[int, int, str]], columns: Mapping[str, str]
) -> tuple[list[Problem], set[str]]:
    """Records naming the company an earlier record names: rejected without an id column, else counted.

    ``candidates``: (record, line, name) in file order, every record whose name may repeat one.
    """
    problems: list[Problem] = []
    repeated: set[str] = set()
    seen: dict[str, tuple[int, str]] = {}
    for i, line, name in candidates:
        key = normalize_company_name(name)
        if key not in seen:
            seen[key] = (line, name)
        elif "account_id" not in columns:
            first_line, first_name = seen[key]
            reason = f"duplicate account '{name}' (same company as '{first_name}' on line {first_line})"
            problems.append((i, 4, "name", reason))
        else:
            repeated.add(key)
    return problems, repeated


def row_errors(
    file: str, problems: list[Problem], lines: np.ndarray, columns: Mapping[str, str]
) -> list[RowError]:
    """The problems as errors, by record and then by the order of the checks."""
    problems.sort(key=lambda p: (p[0], p[1]))
    return [
        RowError(file, int(lines[i]), columns.get(f, f) if f else None, reason)
        for i, _, f, reason in problems
    ]


def table_findings(
    notes: list[str],
    columns: Mapping[str, str],
    repeated_names: int,
    accepted: int,
    filled: Mapping[str, int],
) -> list[str]:
    """The data-quality findings of an accounts file, from counts over its accepted records."""
    findings = list(notes)
    if repeated_names:
        findings.append(
            f"{_count(repeated_names, 'account name', ('appears', 'appear'))} on several accounts; "
            "deals naming them need an account id"
        )
    for f in _ACCOUNT_ATTRIBUTES:
        if f in columns:
            missing = accepted - filled.get(f, 0)
            if missing:
                findings.append(f"{missing:,} of {accepted:,} accounts have no {f} (column '{columns[f]}')")
    unmapped = [f for f in _ACCOUNT_ATTRIBUTES if f not in columns]
    if unmapped:
        findings.append(f"no column found for: {', '.join(unmapped)}")
    return findings


def attribute_columns(
    columns: Mapping[str, str], position: Mapping[str, int], extra: Sequence[tuple[int, str]]
) -> list[tuple[str, int]]:
    """(attribute, header position) of every attribute a file's records may have, canonical first."""
    attributes = [(f, position[columns[f]]) for f in _ACCOUNT_ATTRIBUTES if f in columns]
    return attributes + [(name, index) for index, name in extra]


@dataclass
class Filled:
    """How many kept records fill each attribute, and the first that does (order of appearance)."""

    counts: dict[str, int] = field(default_factory=dict)
    first: dict[str, tuple[int, int]] = field(default_factory=dict)  # attribute -> (record, order)

    def add(
        self, fast: Columns, attributes: Sequence[tuple[str, int]], keep: pa.Array | None, offset: int = 0
    ) -> None:
        for order, (name, index) in enumerate(attributes):
            values = fast.columns[index] if keep is None else pc.filter(fast.columns[index], keep)
            filled = pc.not_equal(values, "")
            count = pc.sum(filled).as_py() or 0
            self.counts[name] = self.counts.get(name, 0) + count
            if count and name not in self.first:
                self.first[name] = (offset + pc.index(filled, True).as_py(), order)

    def order(self) -> list[str]:
        """The filled attributes in order of first appearance (ties: the order of the columns)."""
        return [name for name, _ in sorted(self.first.items(), key=lambda item: item[1])]


def table_frame(
    fast: Columns,
    column: Callable[[str], pa.Array],
    attributes: Sequence[tuple[str, int]],
    order: Sequence[str],
    keep: pa.Array | None,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The kept records as a frame (identity, then ``order``'s attributes) and the all-number columns."""

    def kept(values: pa.Array) -> pa.Array:
        return values if keep is None else pc.filter(values, keep)

    accepted = np.ones(len(fast), bool) if keep is None else keep.to_numpy(zero_copy_only=False)
    frame_columns: dict[str, pd.Series] = {
        "_line": pd.Series(fast.lines[accepted]),
        "account_id": _text_series(kept(column("account_id"))),
        "name": _text_series(kept(column("name"))),
        "domain": _text_series(kept(column("domain"))),
    }
    index_of = dict(attributes)
    numbers: dict[str, np.ndarray] = {}
    for name in order:
        if name in IDENTITY:
            continue
        index = index_of[name]
        frame_columns[name] = _text_series(kept(fast.columns[index]))
        plain = fast.plain_numbers(index)
        if plain is not None:
            numbers[name] = plain[accepted]
    return pd.DataFrame(frame_columns), numbers


def _typed(
    source: _CsvSource, fast: Columns, columns: dict[str, str], extra: Sequence[tuple[int, str]]
) -> AccountTable:
    file = source.file
    n = len(fast)
    position = {c: i for i, c in enumerate(source.header.names)}
    lines = fast.lines
    column = _column_of(fast, columns, position)
    problems, has_id, has_name = _row_problems(column, columns)
    ids, names = column("account_id"), column("name")
    if len(repeating(text_hashes(ids), has_id)):  # (numbering every id costs memory: only when one repeats)
        problems += id_duplicates(ids, has_id, lines)
    repeated_names: set[str] = set()
    if has_name.any():
        candidates = repeating(coarse_name_hashes(names), has_name).tolist()
        found, repeated_names = name_duplicates(
            [(i, int(lines[i]), names[i].as_py()) for i in candidates], columns
        )
        problems += found
    errors = row_errors(file, problems, lines, columns)
    accepted = np.ones(n, bool)
    accepted[[p[0] for p in problems]] = False
    keep = pa.array(accepted) if problems else None
    attributes = attribute_columns(columns, position, extra)
    filled = Filled()
    filled.add(fast, attributes, keep)
    frame, numbers = table_frame(fast, column, attributes, filled.order(), keep)
    findings = table_findings(
        source.encoding_notes(), columns, len(repeated_names), int(accepted.sum()), filled.counts
    )
    return AccountTable(file, frame, errors, findings, columns, source.encoding, source.delimiter, numbers)


def _column_of(
    fast: Columns, columns: Mapping[str, str], position: Mapping[str, int]
) -> Callable[[str], pa.Array]:
    """A field's column of the records; a column of empty texts for a field the file lacks."""
    blank: list[pa.Array] = []  # made on first use: most files have every identity column

    def column(field_name: str) -> pa.Array:
        if field_name in columns:
            return fast.columns[position[columns[field_name]]]
        if not blank:
            blank.append(pa.repeat(pa.scalar("", pa.string()), len(fast)))
        return blank[0]

    return column
