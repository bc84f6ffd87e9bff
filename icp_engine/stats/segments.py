"""How an attribute column is cut into segments (values, bins, list items) and which rows each one holds."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from icp_engine.stats.value_keys import (
    ColumnKind,
    _column_kind,
    _explode_items,
    _factorize_keys,
    _Items,
    _key_of,
    _Keys,
    _num_text,
    _numeric,
)

SegmentKind = Literal["value", "bin", "contains"]

_MAX_QUANTILE_BINS = 5
_FEW_DISTINCT = 5


def _fmt_num(x: float) -> str:
    """Human number for labels: 1,999 / 2.5M / 4.54."""
    ax = abs(x)
    if ax >= 1e9:
        return f"{x / 1e9:.3g}B"
    if ax >= 1e6:
        return f"{x / 1e6:.3g}M"
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.4g}"


def _id_num(x: float | None) -> str:
    return "" if x is None else _num_text(x)


@dataclass(frozen=True)
class SegmentDef:
    """One segment of one attribute: a value, a half-open numeric bin [low, high), or a list item.

    `integer` only changes the label: for whole-number attributes [200, 2000) reads "200–1,999".
    """

    attribute: str
    kind: SegmentKind
    value: str | None = None
    low: float | None = None
    high: float | None = None
    integer: bool = False

    def __post_init__(self) -> None:
        if self.kind in ("value", "contains"):
            if self.value is None or not str(self.value).strip():
                raise ValueError(f"segment of {self.attribute!r}: kind {self.kind!r} needs a value")
        elif self.kind == "bin":
            if self.low is None and self.high is None:
                raise ValueError(f"segment of {self.attribute!r}: a bin needs low or high")
            if self.low is not None and self.high is not None and not self.low < self.high:
                raise ValueError(
                    f"segment of {self.attribute!r}: bin needs low < high, got {self.low}, {self.high}"
                )
        else:
            raise ValueError(f"segment of {self.attribute!r}: unknown kind {self.kind!r}")

    @property
    def label(self) -> str:
        """Plain-English name: 'industry = software', 'employees 200–1,999', 'tech_stack contains x'."""
        a = self.attribute
        if self.kind == "value":
            return f"{a} = {self.value}"
        if self.kind == "contains":
            return f"{a} contains {self.value}"
        if self.low is None:
            assert self.high is not None  # __post_init__: a bin has low or high
            return f"{a} < {_fmt_num(self.high)}"
        if self.high is None:
            return f"{a} ≥ {_fmt_num(self.low)}"
        if self.integer and float(self.high).is_integer() and self.low <= self.high - 1 < 1e6:
            return f"{a} {_fmt_num(self.low)}–{_fmt_num(self.high - 1)}"
        return f"{a} {_fmt_num(self.low)} to < {_fmt_num(self.high)}"

    @property
    def key(self) -> str:
        """Stable key: 'industry=software', 'employees=200..2000', 'tech_stack~salesforce'."""
        if self.kind == "value":
            return f"{self.attribute}={self.value}"
        if self.kind == "contains":
            return f"{self.attribute}~{self.value}"
        return f"{self.attribute}={_id_num(self.low)}..{_id_num(self.high)}"

    @property
    def id(self) -> str:
        """Evidence id used by drafts and ICP criteria, e.g. 'stat:industry=software'."""
        return f"stat:{self.key}"

    def mask(self, df: pd.DataFrame) -> np.ndarray:
        """Which rows of `df` belong to the segment (missing values never do)."""
        if self.attribute not in df.columns:
            raise KeyError(f"segment {self.label!r}: column {self.attribute!r} is not in the frame")
        col = df[self.attribute]
        if self.kind == "bin":
            return _bin_mask(_numeric(col), self)
        wanted = _key_of(self.value)
        if self.kind == "contains":
            items = _explode_items(col)
            out = np.zeros(len(df), dtype=bool)
            if wanted in items.keys:
                out[items.rows[items.codes == items.keys.index(wanted)]] = True
            return out
        keys = _factorize_keys(col)
        if wanted not in keys.keys:
            return np.zeros(len(df), dtype=bool)
        rows: np.ndarray = keys.codes == keys.keys.index(wanted)
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "attribute": self.attribute,
            "kind": self.kind,
            "value": self.value,
            "low": self.low,
            "high": self.high,
        }


@dataclass(frozen=True)
class SkippedValues:
    """Values of an attribute that were not tested, and why: never lumped together silently."""

    attribute: str
    reason: str
    values: int
    rows: int
    examples: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "reason": self.reason,
            "values": self.values,
            "rows": self.rows,
            "examples": list(self.examples),
        }


@dataclass(frozen=True)
class SegmentPlan:
    """How one attribute column is cut into segments, with what was left out."""

    attribute: str
    column_kind: ColumnKind
    segments: tuple[SegmentDef, ...]
    skipped: tuple[SkippedValues, ...]
    rows: int
    known: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "column_kind": self.column_kind,
            "rows": self.rows,
            "known": self.known,
            "segments": len(self.segments),
            "skipped": [s.to_dict() for s in self.skipped],
        }


_LEADING_NUMBER = re.compile(r"^\s*(?:[<>≤≥]=?\s*)?[$€£]?\s*(\d[\d,]*(?:\.\d+)?)\s*([kmb])?", re.IGNORECASE)
_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9}


def _leading_number(text: str) -> float | None:
    """The number a band label starts with ('200-999' -> 200, '<20' -> 20, '$10M+' -> 1e7)."""
    m = _LEADING_NUMBER.match(text)
    if not m:
        return None
    value = float(m.group(1).replace(",", ""))
    if m.group(2):
        value *= _SCALE[m.group(2).lower()]
    if text.lstrip().startswith(("<", "≤")):
        value -= 0.5  # '<20' sorts before '20-199'
    return value


def _order_values(display: list[str], counts: np.ndarray, candidates: list[int]) -> list[int]:
    """Bands in numeric order when every label starts with a number; otherwise most common first."""
    numbers_ = [_leading_number(display[i]) for i in candidates]
    if candidates and all(n is not None for n in numbers_):
        return [
            i for _, _, i in sorted(zip(numbers_, [display[i] for i in candidates], candidates, strict=True))
        ]
    return sorted(candidates, key=lambda i: (-int(counts[i]), display[i]))


def _skip(
    attribute: str, reason: str, idx: list[int], display: list[str], counts: np.ndarray
) -> SkippedValues:
    ranked = sorted(idx, key=lambda i: (-int(counts[i]), display[i]))
    return SkippedValues(
        attribute=attribute,
        reason=reason,
        values=len(idx),
        rows=int(sum(int(counts[i]) for i in idx)),
        examples=tuple(display[i] for i in ranked[:5]),
    )


def _plan_values(
    attribute: str,
    kind: SegmentKind,
    display: list[str],
    counts: np.ndarray,
    *,
    max_values: int,
    min_count: int,
) -> tuple[list[SegmentDef], list[SkippedValues]]:
    everything = list(range(len(display)))
    big = [i for i in everything if counts[i] >= min_count]
    rare = [i for i in everything if counts[i] < min_count]
    by_count = sorted(big, key=lambda i: (-int(counts[i]), display[i]))
    kept, beyond = by_count[:max_values], by_count[max_values:]
    skipped = []
    if rare:
        skipped.append(_skip(attribute, f"fewer than {min_count} deals each", rare, display, counts))
    if beyond:
        skipped.append(
            _skip(attribute, f"beyond the {max_values} most common values", beyond, display, counts)
        )
    segments = [SegmentDef(attribute, kind, value=display[i]) for i in _order_values(display, counts, kept)]
    return segments, skipped


def _round_sig(x: float, digits: int = 2) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def _plan_bins(
    attribute: str, x: np.ndarray, *, min_count: int
) -> tuple[list[SegmentDef], list[SkippedValues]]:
    """Up to five quantile bins with round edges (2 significant digits), half-open [low, high)."""
    known = x[np.isfinite(x)]
    integer = bool(np.all(np.mod(known, 1) == 0))
    qs = np.quantile(known, np.linspace(0, 1, _MAX_QUANTILE_BINS + 1)[1:-1])
    lo_x, hi_x = float(known.min()), float(known.max())
    edges = sorted({_round_sig(float(q)) for q in qs})
    edges = [e for e in edges if lo_x < e <= hi_x]
    if not edges:
        return [], []  # rounding collapsed every cut (e.g. ids 1000001..1000900): nothing to compare
    bounds = [None, *edges, None]
    segments, skipped = [], []
    for low, high in itertools.pairwise(bounds):
        seg = SegmentDef(attribute, "bin", low=low, high=high, integer=integer)
        lo = -np.inf if low is None else low
        hi = np.inf if high is None else high
        n = int(np.count_nonzero((known >= lo) & (known < hi)))
        if n >= min_count:
            segments.append(seg)
        elif n > 0:
            skipped.append(
                SkippedValues(attribute, f"bin with fewer than {min_count} deals", 1, n, (seg.label,))
            )
    if len(segments) == 1 and not skipped:
        return [], []  # one bin holding everything: nothing to compare against
    return segments, skipped


def plan_segments(
    df: pd.DataFrame, attribute: str, *, max_values: int = 30, min_count: int = 20
) -> SegmentPlan:
    """Cut one column into segments and say what was left out.

    Categories: one segment per value seen in at least `min_count` rows (at most `max_values`, most
    common first); rarer values are reported as skipped. Numbers: up to five quantile bins, or one
    segment per value when there are at most five distinct values. Lists: one 'contains' segment
    per item.
    """
    return _plan_encoded(df, attribute, max_values=max_values, min_count=min_count)[0]


Encoding = _Items | _Keys | np.ndarray
"""A column as the plan read it: list items, value keys, or numbers (what `_members` reads again)."""


def _plan_encoded(
    df: pd.DataFrame, attribute: str, *, max_values: int, min_count: int
) -> tuple[SegmentPlan, Encoding]:
    """`plan_segments`, with the column's encoding, so membership of the same frame need not redo it."""
    if attribute not in df.columns:
        raise KeyError(f"attribute {attribute!r} is not a column (have: {', '.join(map(str, df.columns))})")
    if min_count < 1 or max_values < 1:
        raise ValueError(f"min_count and max_values must be >= 1, got {min_count}, {max_values}")
    col = df[attribute]
    kind = _column_kind(col)
    encoding: Encoding
    if kind == "list":
        items = encoding = _explode_items(col)
        segs, skipped = _plan_values(
            attribute, "contains", items.display, items.counts, max_values=max_values, min_count=min_count
        )
        known = int(items.known.sum())
    elif kind == "numeric" and pd.Series(x := _numeric(col)).nunique() > _FEW_DISTINCT:
        encoding = x
        segs, skipped = _plan_bins(attribute, x, min_count=min_count)
        known = int(np.isfinite(x).sum())
    else:
        keys = encoding = _factorize_keys(col)
        segs, skipped = _plan_values(
            attribute, "value", keys.display, keys.counts, max_values=max_values, min_count=min_count
        )
        known = int((keys.codes >= 0).sum())
    plan = SegmentPlan(attribute, kind, tuple(segs), tuple(skipped), rows=len(df), known=known)
    return plan, encoding


def segment_definitions(
    df: pd.DataFrame, attribute: str, *, max_values: int = 30, min_count: int = 20
) -> list[SegmentDef]:
    """The segments of one attribute (see `plan_segments` for the rules and the skipped values)."""
    return list(plan_segments(df, attribute, max_values=max_values, min_count=min_count).segments)


@dataclass(frozen=True)
class _Members:
    """Segment membership of a frame: pairs (row, segment); `known` marks rows with a known value."""

    rows: np.ndarray
    seg: np.ndarray
    known: np.ndarray


def _members(df: pd.DataFrame, plan: SegmentPlan, encoding: Encoding | None = None) -> _Members:
    """Membership of every row in every segment of a plan, without a Python loop over rows.

    A frame without the column has no known values (and so no members). `encoding`: what
    `_plan_encoded` made of this very column of this frame (reused, not recomputed).
    """
    n = len(df)
    empty = np.zeros(0, dtype=np.int64)
    if plan.attribute not in df.columns:
        return _Members(empty, empty, np.zeros(n, dtype=bool))
    col = df[plan.attribute]
    wanted = {_key_of(s.value): i for i, s in enumerate(plan.segments) if s.kind != "bin"}
    if plan.column_kind == "list":
        items = encoding if isinstance(encoding, _Items) else _explode_items(col)
        lut = np.array([wanted.get(k, -1) for k in items.keys], dtype=np.int64)
        seg = lut[items.codes] if len(lut) else empty
        keep = seg >= 0
        return _Members(items.rows[keep], seg[keep], items.known)
    bins = plan.segments[0].kind == "bin" if plan.segments else plan.column_kind == "numeric"
    if bins:
        x = encoding if isinstance(encoding, np.ndarray) else _numeric(col)
        rows_list, seg_list = [empty], [empty]
        for i, s in enumerate(plan.segments):
            r = np.flatnonzero(_bin_mask(x, s))
            rows_list.append(r)
            seg_list.append(np.full(len(r), i, dtype=np.int64))
        return _Members(np.concatenate(rows_list), np.concatenate(seg_list), np.isfinite(x))
    keys = encoding if isinstance(encoding, _Keys) else _factorize_keys(col)
    lut = np.array([wanted.get(k, -1) for k in keys.keys], dtype=np.int64)
    seg_of_row = np.where(keys.codes >= 0, lut[np.maximum(keys.codes, 0)] if len(lut) else -1, -1)
    rows = np.flatnonzero(seg_of_row >= 0)
    return _Members(rows, seg_of_row[rows], keys.codes >= 0)


def _bin_mask(x: np.ndarray, s: SegmentDef) -> np.ndarray:
    lo = -np.inf if s.low is None else s.low
    hi = np.inf if s.high is None else s.high
    return (x >= lo) & (x < hi)
