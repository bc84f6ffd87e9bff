"""How raw column values become comparable segment values, columnar so a million rows stay cheap."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

ColumnKind = Literal["categorical", "numeric", "list"]

_LIST_TYPES = (list, tuple, set, frozenset, np.ndarray)


def _num_text(x: float) -> str:
    """Canonical text of a number: 5.0 -> '5', 0.25 -> '0.25'."""
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"


def _key_of(v: Any) -> str | None:
    """Comparison key (case- and space-insensitive, like scoring); None for a missing value."""
    if v is None:
        return None
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, numbers.Real):
        f = float(v)
        return None if not math.isfinite(f) else _num_text(f)
    text = " ".join(str(v).split()).casefold()
    return text or None


def _display_of(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, numbers.Real):
        return _num_text(float(v))
    return " ".join(str(v).split())


@dataclass(frozen=True)
class _Keys:
    """A scalar column factorised by comparison key; `codes` is -1 where the value is missing."""

    codes: np.ndarray
    keys: list[str]
    display: list[str]
    counts: np.ndarray


def _factorize_keys(values: pd.Series, weights: np.ndarray | None = None) -> _Keys:
    """Factorise once, key the distinct values only: cheap even for a million rows.

    `weights`: how many rows each value stands for (counts and the most common spelling), 1 each if None.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    raw = list(uniques)
    keys = [_key_of(u) for u in raw]
    key_codes, key_uniques = pd.factorize(pd.Series(keys, dtype=object), use_na_sentinel=True)
    lut = key_codes.astype(np.int64)
    merged = np.where(codes >= 0, lut[np.maximum(codes, 0)] if len(lut) else -1, -1)
    n_keys = len(key_uniques)
    w = None if weights is None else weights[codes >= 0]
    raw_counts = np.bincount(codes[codes >= 0], weights=w, minlength=len(raw))
    # Display each key with its most common spelling (ties: smallest text), independent of row order.
    table = pd.DataFrame({"key": lut, "display": [_display_of(u) for u in raw], "count": raw_counts})
    table = table[table["key"] >= 0].sort_values(["key", "count", "display"], ascending=[True, False, True])
    best = table.drop_duplicates("key")
    display = [""] * n_keys
    for k, d in zip(best["key"].tolist(), best["display"].tolist(), strict=True):
        display[k] = d
    w = None if weights is None else weights[merged >= 0]
    counts = np.bincount(merged[merged >= 0], weights=w, minlength=n_keys).astype(np.int64)
    return _Keys(merged, [str(k) for k in key_uniques], display, counts)


def _distinct_counts(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct integers and how often each occurs."""
    s = np.sort(a)
    if s.size == 0:
        return s, np.zeros(0, dtype=np.float64)
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    return s[starts], np.diff(np.append(starts, s.size)).astype(np.float64)


def _distinct(a: np.ndarray) -> np.ndarray:
    """Sorted distinct integers (a sort and a diff: far faster than np.unique's hashing here)."""
    s = np.sort(a)
    if s.size == 0:
        return s
    return s[np.concatenate(([True], s[1:] != s[:-1]))]


@dataclass(frozen=True)
class _Items:
    """A list column as (row, item) pairs, one per distinct item of a row."""

    rows: np.ndarray
    codes: np.ndarray
    keys: list[str]
    display: list[str]
    counts: np.ndarray  # rows containing each item
    known: np.ndarray  # rows with at least one item


def _explode_items(values: pd.Series) -> _Items:
    """(row, item) pairs of a list column: the distinct lists exploded once when their items are texts."""
    try:
        codes, lists = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # lists (not tuples) are not hashable: explode every row
        return _explode_rows(values)
    items = pd.Series(lists, dtype=object).explode()
    if pd.api.types.infer_dtype(items, skipna=True) not in ("string", "empty"):
        return _explode_rows(values)  # equal non-texts can differ in key (True == 1): row by row
    items = items[items.notna()]
    of_list = items.index.to_numpy(dtype=np.int64)
    n_rows = np.bincount(codes[codes >= 0], minlength=len(lists)).astype(np.float64)
    keys = _factorize_keys(items.reset_index(drop=True), weights=n_rows[of_list])
    ok = keys.codes >= 0
    n_keys = max(len(keys.keys), 1)
    pairs = _distinct(of_list[ok] * n_keys + keys.codes[ok])  # each list's distinct items, sorted
    pair_list, pair_item = pairs // n_keys, pairs % n_keys
    per_list = np.bincount(pair_list, minlength=len(lists))
    starts = np.concatenate(([0], np.cumsum(per_list)[:-1])).astype(np.int64)
    rows = np.flatnonzero(codes >= 0)
    row_list = codes[rows]
    take = per_list[row_list]
    rows = np.repeat(rows, take)
    first = np.repeat(starts[row_list] - (np.cumsum(take) - take), take)
    item_codes = pair_item[first + np.arange(len(rows))] if len(rows) else np.zeros(0, dtype=np.int64)
    known = np.zeros(len(values), dtype=bool)
    known[rows] = True
    counts = np.bincount(item_codes, minlength=len(keys.keys))
    return _Items(rows, item_codes, keys.keys, keys.display, counts, known)


def _explode_rows(values: pd.Series) -> _Items:
    n = len(values)
    exploded = values.reset_index(drop=True).explode()
    exploded = exploded[exploded.notna()]
    keys = _factorize_keys(exploded)
    rows = exploded.index.to_numpy(dtype=np.int64)
    ok = keys.codes >= 0
    rows, codes = rows[ok], keys.codes[ok]
    n_keys = max(len(keys.keys), 1)
    pairs = _distinct(rows * n_keys + codes)
    rows, codes = pairs // n_keys, pairs % n_keys
    known = np.zeros(n, dtype=bool)
    known[rows] = True
    counts = np.bincount(codes, minlength=len(keys.keys))
    return _Items(rows, codes, keys.keys, keys.display, counts, known)


def _column_kind(values: pd.Series) -> ColumnKind:
    """List columns hold tuples (tech stack); numeric columns hold numbers; anything else is a category.

    Object columns are judged on their first 1,000 known values, which is what keeps this cheap.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(values.dtype):
        return "numeric"
    if isinstance(values.dtype, pd.StringDtype):
        return "categorical"  # texts only: neither lists nor numbers
    sample = _first_known(values, 1000)
    if any(isinstance(v, _LIST_TYPES) for v in sample):
        return "list"
    if sample and all(isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_) for v in sample):
        return "numeric"
    return "categorical"


def _first_known(values: pd.Series, n: int) -> list[Any]:
    """The first `n` known values, looking at a growing head only (not the whole column)."""
    found: list[Any] = []
    start, step = 0, 4 * n
    while len(found) < n and start < len(values):
        head = values.iloc[start : start + step]
        found += head[head.notna()].tolist()
        start, step = start + step, step * 4
    return found[:n]


def _numeric(values: pd.Series) -> np.ndarray:
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isfinite(x), x, np.nan)
