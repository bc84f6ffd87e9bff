"""Segment statistics for closed deals: who wins, what they are worth, and whether it is more than noise.

`analyze` splits the deals by every attribute (industry, size band, country, tech stack, custom
fields), reports counts, win rates with Wilson intervals, deal value, retention, NPS and lifetime
value per segment, tests each segment against the rest of the deals, and corrects for testing many
segments at once (Benjamini–Hochberg). An ICP must only be built from what survives that
correction, so when nothing does, the summary says so in plain words instead of inventing a pattern.

Everything is deterministic (same input, same output, regardless of row order) and columnar, so a
million deals cost a few vector operations per attribute. No scipy: the handful of distributions
needed are written out with `math`.
"""

from __future__ import annotations

import itertools
import json
import math
import numbers
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "Analysis",
    "Cohort",
    "CohortDiff",
    "Overall",
    "SegmentDef",
    "SegmentPlan",
    "SegmentStat",
    "SkippedValues",
    "analyze",
    "benjamini_hochberg",
    "design_effect",
    "fisher_exact_p",
    "intra_account_correlation",
    "plan_segments",
    "segment_definitions",
    "two_proportion_p",
    "wilson_interval",
]

Z95 = 1.959964
BestBy = Literal["ltv", "acv", "nps", "retention", "health"]
SegmentKind = Literal["value", "bin", "contains"]
ColumnKind = Literal["categorical", "numeric", "list"]

#: Columns that describe the deal or the customer's health, never a segmenting attribute.
ID_COLUMNS = frozenset({"account_id", "deal_id", "id", "record_id", "opportunity_id"})
OUTCOME_COLUMNS = frozenset(
    {"won", "amount", "close_date", "create_date", "created_date", "stage", "deal_stage"}
)
HEALTH_COLUMNS = frozenset(
    {"arr", "acv", "tenure_months", "churned", "nps", "health_score", "expansion_arr", "referrals", "ltv"}
)
NAME_COLUMNS = frozenset({"name", "account_name", "company_name", "deal_name", "domain", "website", "url"})
#: Numeric canonical attributes and the band column that replaces them when present.
BAND_COLUMNS: dict[str, str] = {"employees": "employee_band", "annual_revenue": "revenue_band"}

_LIST_TYPES = (list, tuple, set, frozenset, np.ndarray)
_MAX_QUANTILE_BINS = 5
_FEW_DISTINCT = 5
_TIE_TOLERANCE = 1e-7


# ---------------------------------------------------------------------------------------------------
# Statistics primitives
# ---------------------------------------------------------------------------------------------------


def _check_counts(wins: int, n: int) -> None:
    if n < 0 or wins < 0 or wins > n:
        raise ValueError(f"need 0 <= wins <= n, got wins={wins}, n={n}")


def wilson_interval(wins: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a win rate: honest at 0/10 and 10/10, where the normal one is not.

    With no deals at all nothing is known, so the interval is the whole of [0, 1].
    """
    _check_counts(wins, n)
    if n == 0:
        return (0.0, 1.0)
    lo, hi = _wilson_arrays(np.array([wins], dtype=np.float64), np.array([n], dtype=np.float64), z)
    return (float(lo[0]), float(hi[0]))


def _wilson_arrays(wins: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised Wilson interval; n == 0 gives [0, 1]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = wins / n
        z2 = z * z
        denom = 1.0 + z2 / n
        centre = (p + z2 / (2.0 * n)) / denom
        half = z * np.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom
        lo = np.where(wins <= 0, 0.0, np.maximum(0.0, centre - half))
        hi = np.where(wins >= n, 1.0, np.minimum(1.0, centre + half))
    empty = n <= 0
    return np.where(empty, 0.0, lo), np.where(empty, 1.0, hi)


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_exact_p(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher exact p for the table [[a, b], [c, d]].

    Sums the hypergeometric probabilities of every table with the same margins that is no more
    likely than the observed one (the usual "minimum likelihood" two-sided rule, as in R).
    """
    for v in (a, b, c, d):
        if v < 0:
            raise ValueError(f"table cells must be >= 0, got {[a, b, c, d]}")
    n1, k, total = a + b, a + c, a + b + c + d
    lo, hi = max(0, n1 + k - total), min(n1, k)
    if lo == hi:
        return 1.0
    base = _log_comb(total, n1)
    logp = [_log_comb(k, x) + _log_comb(total - k, n1 - x) - base for x in range(lo, hi + 1)]
    cutoff = logp[a - lo] + _TIE_TOLERANCE
    return min(1.0, math.fsum(math.exp(lp) for lp in logp if lp <= cutoff))


def two_proportion_p(w1: int, n1: int, w2: int, n2: int, *, deff1: float = 1.0, deff2: float = 1.0) -> float:
    """Two-sided p that two win rates differ (a segment against the rest of the deals).

    Pearson chi-square with 1 df (the pooled two-proportion z-test) when every expected cell is at
    least 5; Fisher's exact test otherwise, because the normal approximation lies for small counts.
    `deff1`/`deff2` are design effects (>= 1) for deals clustered in accounts: each group then counts
    as n/deff independent deals (Donner's adjusted chi-square); 1 means independent deals.
    """
    _check_counts(w1, n1)
    _check_counts(w2, n2)
    if not (deff1 >= 1.0 and deff2 >= 1.0 and math.isfinite(deff1) and math.isfinite(deff2)):
        raise ValueError(f"design effects must be finite and >= 1, got {deff1}, {deff2}")
    total, wins = n1 + n2, w1 + w2
    if n1 == 0 or n2 == 0 or wins == 0 or wins == total:
        return 1.0
    pooled = wins / total
    # Smallest expected cell, as count × count / total: the same value as the textbook rule gives
    # (388 × 10 / 776 is exactly 5), where 388 × (10 / 776) would round to just under it.
    expected_min = min(n1 / deff1, n2 / deff2) * min(wins, total - wins) / total
    if expected_min < 5:
        if deff1 == 1.0 and deff2 == 1.0:
            return fisher_exact_p(w1, n1 - w1, w2, n2 - w2)
        cells = (w1 / deff1, (n1 - w1) / deff1, w2 / deff2, (n2 - w2) / deff2)
        a, b, c, d = (round(x) for x in cells)
        return fisher_exact_p(a, b, c, d)
    se = math.sqrt(pooled * (1.0 - pooled) * (deff1 / n1 + deff2 / n2))
    z = (w1 / n1 - w2 / n2) / se
    return min(1.0, math.erfc(abs(z) / math.sqrt(2.0)))


def intra_account_correlation(cluster: np.ndarray, won: np.ndarray) -> float:
    """ANOVA estimate of how alike the outcomes of one account's deals are (0 = independent).

    Deals of one account share its size, industry and history, so ten deals of one account carry
    less evidence than ten accounts; this figure feeds the design effect of every test.
    """
    cluster = np.asarray(cluster, dtype=np.int64)
    y = np.asarray(won, dtype=np.float64)
    if len(y) == 0:
        return 0.0
    inverse = pd.factorize(cluster)[0]
    n_i = np.bincount(inverse).astype(np.float64)
    w_i = np.bincount(inverse, weights=y)
    big_n, groups, big_w = float(len(y)), len(n_i), float(y.sum())
    if groups < 2 or big_n <= groups:
        return 0.0
    between = float(np.sum(w_i * w_i / n_i)) - big_w * big_w / big_n
    within = big_w - float(np.sum(w_i * w_i / n_i))
    msb = between / (groups - 1)
    msw = within / (big_n - groups)
    n0 = (big_n - float(np.sum(n_i * n_i)) / big_n) / (groups - 1)
    denom = msb + (n0 - 1.0) * msw
    if denom <= 0:
        return 0.0
    return float(min(1.0, max(0.0, (msb - msw) / denom)))


def design_effect(sum_squares: float, total: float, icc: float) -> float:
    """1 + (m - 1)·icc with m = Σn_i² / Σn_i, the deal-weighted number of deals per account."""
    if total <= 0:
        return 1.0
    return max(1.0, 1.0 + (sum_squares / total - 1.0) * icc)


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg q-values (false discovery rate), in input order, monotone in p, capped at 1."""
    p = np.asarray(list(pvalues), dtype=np.float64)
    if p.size == 0:
        return []
    if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
        raise ValueError(f"p-values must be numbers in [0, 1], got {p.tolist()}")
    m = p.size
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    q = np.empty(m)
    q[order] = q_sorted
    return q.tolist()


# ---------------------------------------------------------------------------------------------------
# Value keys: how raw column values become comparable segment values
# ---------------------------------------------------------------------------------------------------


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


def _factorize_keys(values: pd.Series) -> _Keys:
    """Factorise once, key the distinct values only: cheap even for a million rows."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    raw = list(uniques)
    keys = [_key_of(u) for u in raw]
    key_codes, key_uniques = pd.factorize(pd.Series(keys, dtype=object), use_na_sentinel=True)
    lut = key_codes.astype(np.int64)
    merged = np.where(codes >= 0, lut[np.maximum(codes, 0)] if len(lut) else -1, -1)
    n_keys = len(key_uniques)
    raw_counts = np.bincount(codes[codes >= 0], minlength=len(raw))
    # Display each key with its most common spelling (ties: smallest text), independent of row order.
    table = pd.DataFrame({"key": lut, "display": [_display_of(u) for u in raw], "count": raw_counts})
    table = table[table["key"] >= 0].sort_values(["key", "count", "display"], ascending=[True, False, True])
    best = table.drop_duplicates("key")
    display = [""] * n_keys
    for k, d in zip(best["key"].tolist(), best["display"].tolist(), strict=True):
        display[k] = d
    counts = np.bincount(merged[merged >= 0], minlength=n_keys)
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
    sample = values[values.notna()].head(1000).tolist()
    if any(isinstance(v, _LIST_TYPES) for v in sample):
        return "list"
    if sample and all(isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_) for v in sample):
        return "numeric"
    return "categorical"


def _numeric(values: pd.Series) -> np.ndarray:
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isfinite(x), x, np.nan)


# ---------------------------------------------------------------------------------------------------
# Segment definitions
# ---------------------------------------------------------------------------------------------------


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
            return f"{a} < {_fmt_num(self.high)}"  # type: ignore[arg-type]
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
        return keys.codes == keys.keys.index(wanted)

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
    if attribute not in df.columns:
        raise KeyError(f"attribute {attribute!r} is not a column (have: {', '.join(map(str, df.columns))})")
    if min_count < 1 or max_values < 1:
        raise ValueError(f"min_count and max_values must be >= 1, got {min_count}, {max_values}")
    col = df[attribute]
    kind = _column_kind(col)
    if kind == "list":
        items = _explode_items(col)
        segs, skipped = _plan_values(
            attribute, "contains", items.display, items.counts, max_values=max_values, min_count=min_count
        )
        known = int(items.known.sum())
    elif kind == "numeric" and pd.Series(_numeric(col)).nunique() > _FEW_DISTINCT:
        x = _numeric(col)
        segs, skipped = _plan_bins(attribute, x, min_count=min_count)
        known = int(np.isfinite(x).sum())
    else:
        keys = _factorize_keys(col)
        segs, skipped = _plan_values(
            attribute, "value", keys.display, keys.counts, max_values=max_values, min_count=min_count
        )
        known = int((keys.codes >= 0).sum())
    return SegmentPlan(attribute, kind, tuple(segs), tuple(skipped), rows=len(df), known=known)


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


def _members(df: pd.DataFrame, plan: SegmentPlan) -> _Members:
    """Membership of every row in every segment of a plan, without a Python loop over rows.

    A frame without the column has no known values (and so no members).
    """
    n = len(df)
    empty = np.zeros(0, dtype=np.int64)
    if plan.attribute not in df.columns:
        return _Members(empty, empty, np.zeros(n, dtype=bool))
    col = df[plan.attribute]
    wanted = {_key_of(s.value): i for i, s in enumerate(plan.segments) if s.kind != "bin"}
    if plan.column_kind == "list":
        items = _explode_items(col)
        lut = np.array([wanted.get(k, -1) for k in items.keys], dtype=np.int64)
        seg = lut[items.codes] if len(lut) else empty
        keep = seg >= 0
        return _Members(items.rows[keep], seg[keep], items.known)
    bins = plan.segments[0].kind == "bin" if plan.segments else plan.column_kind == "numeric"
    if bins:
        x = _numeric(col)
        rows_list, seg_list = [empty], [empty]
        for i, s in enumerate(plan.segments):
            r = np.flatnonzero(_bin_mask(x, s))
            rows_list.append(r)
            seg_list.append(np.full(len(r), i, dtype=np.int64))
        return _Members(np.concatenate(rows_list), np.concatenate(seg_list), np.isfinite(x))
    keys = _factorize_keys(col)
    lut = np.array([wanted.get(k, -1) for k in keys.keys], dtype=np.int64)
    seg_of_row = np.where(keys.codes >= 0, lut[np.maximum(keys.codes, 0)] if len(lut) else -1, -1)
    rows = np.flatnonzero(seg_of_row >= 0)
    return _Members(rows, seg_of_row[rows], keys.codes >= 0)


def _bin_mask(x: np.ndarray, s: SegmentDef) -> np.ndarray:
    lo = -np.inf if s.low is None else s.low
    hi = np.inf if s.high is None else s.high
    return (x >= lo) & (x < hi)


# ---------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------


def _finite(x: float | None) -> float | None:
    if x is None:
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def _r(x: float | None, digits: int) -> float | None:
    f = _finite(x)
    return None if f is None else round(f, digits)


def _sig(x: float | None, digits: int = 4) -> float | None:
    f = _finite(x)
    if f is None or f == 0:
        return f
    return round(f, digits - 1 - math.floor(math.log10(abs(f))))


class _Fields:
    """Read access by key as well as by attribute (`overall["win_rate"]`), for callers that treat
    these small records as the plain mappings they serialise to."""

    def __getitem__(self, key: str) -> Any:
        if key not in {f.name for f in fields(self)}:  # type: ignore[arg-type]
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


@dataclass(frozen=True)
class Overall(_Fields):
    """All closed deals together: the baseline every segment is compared with."""

    deals: int
    wins: int
    losses: int
    win_rate: float
    ci_low: float
    ci_high: float
    accounts: int
    mean_value: float | None
    median_value: float | None
    retention: float | None
    nps: float | None
    ltv: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "deals": self.deals,
            "wins": self.wins,
            "losses": self.losses,
            "win_rate": _r(self.win_rate, 4),
            "ci_low": _r(self.ci_low, 4),
            "ci_high": _r(self.ci_high, 4),
            "accounts": self.accounts,
            "mean_value": _r(self.mean_value, 2),
            "median_value": _r(self.median_value, 2),
            "retention": _r(self.retention, 4),
            "nps": _r(self.nps, 2),
            "ltv": _r(self.ltv, 2),
        }


@dataclass(frozen=True)
class SegmentStat:
    """Deals, wins and value of one segment; the test is against the rest of the deals.

    `mean_value`/`median_value` are of WON deal amounts (lost amounts are often 0 in exports);
    `retention`, `nps` and `ltv` are means over the segment's accounts that have them.
    """

    segment: SegmentDef
    accounts: int
    deals: int
    wins: int
    losses: int
    win_rate: float
    ci_low: float
    ci_high: float
    lift: float
    p_value: float
    q_value: float
    significant: bool
    mean_value: float | None
    median_value: float | None
    retention: float | None
    nps: float | None
    ltv: float | None
    tested: bool = True
    design_effect: float = 1.0

    @property
    def id(self) -> str:
        return self.segment.id

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "segment": self.segment.to_dict(),
            "accounts": self.accounts,
            "deals": self.deals,
            "wins": self.wins,
            "losses": self.losses,
            "win_rate": _r(self.win_rate, 4),
            "ci_low": _r(self.ci_low, 4),
            "ci_high": _r(self.ci_high, 4),
            "lift": _r(self.lift, 3),
            "p_value": _sig(self.p_value),
            "q_value": _sig(self.q_value),
            "significant": self.significant,
            "tested": self.tested,
            "design_effect": _r(self.design_effect, 3),
            "mean_value": _r(self.mean_value, 2),
            "median_value": _r(self.median_value, 2),
            "retention": _r(self.retention, 4),
            "nps": _r(self.nps, 2),
            "ltv": _r(self.ltv, 2),
        }


@dataclass(frozen=True)
class CohortDiff:
    """How much more (or less) common a segment is among the best customers than among the rest."""

    segment: SegmentDef
    share_in_cohort: float
    share_in_rest: float
    lift: float
    p_value: float
    q_value: float
    significant: bool
    in_cohort: int = 0
    in_rest: int = 0
    tested: bool = True

    @property
    def id(self) -> str:
        return f"cohort:{self.segment.key}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "segment": self.segment.to_dict(),
            "in_cohort": self.in_cohort,
            "in_rest": self.in_rest,
            "share_in_cohort": _r(self.share_in_cohort, 4),
            "share_in_rest": _r(self.share_in_rest, 4),
            "lift": _r(self.lift, 3),
            "p_value": _sig(self.p_value),
            "q_value": _sig(self.q_value),
            "significant": self.significant,
        }


@dataclass(frozen=True)
class Cohort(_Fields):
    """The best customers by one measure, and the segments that set them apart."""

    by: str
    size: int
    population: int
    threshold: float | None
    description: str
    diffs: list[CohortDiff]
    tested: int = 0

    @property
    def significant(self) -> bool:
        return any(d.significant for d in self.diffs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "size": self.size,
            "population": self.population,
            "threshold": _sig(self.threshold, 6),
            "description": self.description,
            "tested": self.tested,
            "significant": self.significant,
            "diffs": [d.to_dict() for d in self.diffs],
        }


@dataclass(frozen=True)
class Analysis:
    """Everything `analyze` found, JSON-ready via `to_dict`, with a plain-English `summary`."""

    overall: Overall
    segments: list[SegmentStat]
    cohort: Cohort | None
    significant: bool
    summary: list[str]
    tested: int
    alpha: float
    attributes: list[SegmentPlan] = field(default_factory=list)
    icc: float = 0.0

    def segment(self, segment_id: str) -> SegmentStat:
        """Look a segment up by its evidence id ('stat:industry=software')."""
        for s in self.segments:
            if s.id == segment_id:
                return s
        raise KeyError(f"no segment {segment_id!r} in this analysis")

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "tested": self.tested,
            "alpha": self.alpha,
            "icc": _r(self.icc, 4),
            "significant": self.significant,
            "summary": list(self.summary),
            "segments": [s.to_dict() for s in self.segments],
            "cohort": None if self.cohort is None else self.cohort.to_dict(),
            "attributes": [p.to_dict() for p in self.attributes],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False)


# ---------------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------------

_TRUE = frozenset({"true", "t", "yes", "y", "1", "won", "closedwon", "closed won"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "lost", "closedlost", "closed lost"})


def _where(frame_name: str, df: pd.DataFrame, pos: int) -> str:
    return f"{frame_name} row {pos + 1} (index {df.index[pos]!r})"


def _flags(df: pd.DataFrame, column: str, frame_name: str, *, allow_missing: bool) -> np.ndarray:
    """A yes/no column as floats 1/0 (NaN when missing and allowed), with a clear error otherwise."""
    col = df[column]
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    mapped: list[float] = []
    for u in uniques:
        key = _key_of(u)
        if key in _TRUE:
            mapped.append(1.0)
        elif key in _FALSE:
            mapped.append(0.0)
        else:
            mapped.append(math.nan)
    lut = np.array(mapped, dtype=np.float64)
    out = np.where(codes >= 0, lut[np.maximum(codes, 0)] if len(lut) else np.nan, np.nan)
    bad = np.flatnonzero((codes >= 0) & np.isnan(out))
    if len(bad):
        pos = int(bad[0])
        raise ValueError(
            f"{_where(frame_name, df, pos)}: {column!r} must be true or false, got {col.iloc[pos]!r}"
        )
    if not allow_missing and np.isnan(out).any():
        pos = int(np.flatnonzero(np.isnan(out))[0])
        raise ValueError(
            f"{_where(frame_name, df, pos)}: {column!r} is missing (pass closed deals only: won or lost)"
        )
    return out


def _numbers(df: pd.DataFrame, column: str, frame_name: str) -> np.ndarray:
    """A numeric column as float64; text that is not a number is an error naming the row."""
    col = df[column]
    x = _numeric(col)
    if not pd.api.types.is_numeric_dtype(col.dtype):
        present = col.map(_key_of, na_action="ignore").notna().to_numpy()
        bad = np.flatnonzero(present & np.isnan(x))
        if len(bad):
            pos = int(bad[0])
            raise ValueError(
                f"{_where(frame_name, df, pos)}: {column!r} must be a number, got {col.iloc[pos]!r}"
            )
    return x


def _default_attributes(frames: Iterable[pd.DataFrame]) -> list[str]:
    """Every column that can describe an account, in column order (deals first)."""
    out: list[str] = []
    for df in frames:
        for c in map(str, df.columns):
            low = c.casefold()
            if (
                c in out
                or low in ID_COLUMNS | OUTCOME_COLUMNS | HEALTH_COLUMNS | NAME_COLUMNS
                or low.endswith(("_id", "_date"))
                or c.startswith("_")
            ):
                continue
            out.append(c)
    return out


def _resolve_attributes(
    attributes: Sequence[str] | None, deals: pd.DataFrame, accounts: pd.DataFrame | None
) -> list[str]:
    frames = [deals] if accounts is None else [deals, accounts]
    available = {str(c) for df in frames for c in df.columns}
    wanted = _default_attributes(frames) if attributes is None else [str(a) for a in attributes]
    out: list[str] = []
    for a in wanted:
        if a not in available:
            raise ValueError(f"attribute {a!r} is not a column of the deals or accounts")
        if a in BAND_COLUMNS and BAND_COLUMNS[a] in available:
            a = BAND_COLUMNS[a]  # canonical bands read better than quantile bins
        if a not in out:
            out.append(a)
    return out


@dataclass(frozen=True)
class _Metrics:
    """Per-account health measures aligned with the accounts frame (NaN where unknown)."""

    churned: np.ndarray
    nps: np.ndarray
    ltv: np.ndarray
    acv: np.ndarray
    health: np.ndarray


def _metrics(accounts: pd.DataFrame) -> _Metrics:
    n = len(accounts)

    def num(c: str) -> np.ndarray:
        return _numbers(accounts, c, "accounts") if c in accounts.columns else np.full(n, np.nan)

    churned = (
        _flags(accounts, "churned", "accounts", allow_missing=True)
        if "churned" in accounts.columns
        else np.full(n, np.nan)
    )
    arr, tenure = num("arr"), num("tenure_months")
    derived = arr * np.maximum(tenure, 1.0) / 12.0
    ltv = num("ltv")
    ltv = np.where(np.isnan(ltv), derived, ltv)
    acv = num("acv")
    acv = np.where(np.isnan(acv), arr, acv)
    return _Metrics(churned, num("nps"), ltv, acv, num("health_score"))


def _accounts_frame(
    accounts: pd.DataFrame | None, deals: pd.DataFrame, attributes: list[str]
) -> pd.DataFrame | None:
    """Accounts with every analysed attribute, taking it from their deals where the accounts lack it."""
    if accounts is None:
        health = [c for c in deals.columns if c in HEALTH_COLUMNS]
        if not health:
            return None
        first = deals.drop_duplicates("account_id")
        return first[["account_id", *[a for a in attributes if a in first.columns], *health]].reset_index(
            drop=True
        )
    if "account_id" not in accounts.columns:
        raise ValueError(f"accounts: no 'account_id' column (have: {', '.join(map(str, accounts.columns))})")
    ids = accounts["account_id"]
    dup = ids[ids.duplicated(keep=False) & ids.notna()]
    if len(dup):
        raise ValueError(
            f"accounts: account_id {dup.iloc[0]!r} appears {int((ids == dup.iloc[0]).sum())} times; "
            "give one row per account"
        )
    out = accounts.reset_index(drop=True)
    missing = [a for a in attributes if a not in out.columns and a in deals.columns]
    if missing:
        first = deals.drop_duplicates("account_id").set_index("account_id")
        out = out.copy()
        for a in missing:
            out[a] = out["account_id"].map(first[a])
    return out


# ---------------------------------------------------------------------------------------------------
# Computation
# ---------------------------------------------------------------------------------------------------


def _group_mean_median(seg: np.ndarray, values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and median of `values` per segment, summed in sorted order so row order cannot matter."""
    ok = np.isfinite(values)
    seg, values = seg[ok], values[ok]
    order = np.lexsort((values, seg))
    seg, values = seg[order], values[order]
    counts = np.bincount(seg, minlength=k)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    mean = np.full(k, np.nan)
    median = np.full(k, np.nan)
    nz = counts > 0
    if values.size:
        mean[nz] = np.add.reduceat(values, starts[nz]) / counts[nz]
        lo = starts + (counts - 1) // 2
        hi = starts + counts // 2
        median[nz] = (values[lo[nz]] + values[hi[nz]]) / 2.0
    return mean, median


def _opt(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


@dataclass(frozen=True)
class _Deals:
    frame: pd.DataFrame
    won: np.ndarray
    amount: np.ndarray
    cluster: np.ndarray  # account codes 0..n_accounts-1; a deal without account is its own cluster
    n_accounts: int
    n_clusters: int
    icc: float


def _prepare_deals(deals: pd.DataFrame) -> _Deals:
    if not isinstance(deals, pd.DataFrame):
        raise TypeError(f"deals must be a pandas DataFrame, got {type(deals).__name__}")
    for c in ("account_id", "won"):
        if c not in deals.columns:
            raise ValueError(f"deals: no {c!r} column (have: {', '.join(map(str, deals.columns))})")
    if len(deals) == 0:
        raise ValueError("deals: no closed deals to analyse")
    frame = deals.reset_index(drop=True)
    won = _flags(deals, "won", "deals", allow_missing=False).astype(bool)
    amount = _numbers(deals, "amount", "deals") if "amount" in deals.columns else np.full(len(deals), np.nan)
    codes, uniques = pd.factorize(frame["account_id"], use_na_sentinel=True)
    codes = codes.astype(np.int64)
    orphans = codes < 0
    codes[orphans] = len(uniques) + np.arange(int(orphans.sum()))
    n_clusters = len(uniques) + int(orphans.sum())
    icc = intra_account_correlation(codes, won)
    return _Deals(frame, won, amount, codes, len(uniques), n_clusters, icc)


def _account_means(members: _Members, metrics: _Metrics | None, k: int) -> dict[str, np.ndarray]:
    if metrics is None:
        nan = np.full(k, np.nan)
        return {"retention": nan, "nps": nan, "ltv": nan}
    churn, _ = _group_mean_median(members.seg, metrics.churned[members.rows], k)
    nps, _ = _group_mean_median(members.seg, metrics.nps[members.rows], k)
    ltv, _ = _group_mean_median(members.seg, metrics.ltv[members.rows], k)
    return {"retention": 1.0 - churn, "nps": nps, "ltv": ltv}


def _segment_stats(
    plan: SegmentPlan,
    d: _Deals,
    accounts: pd.DataFrame | None,
    metrics: _Metrics | None,
    overall_rate: float,
) -> list[SegmentStat]:
    """Counts, rates, values and the p-value (q filled in later) for every segment of one attribute."""
    k = len(plan.segments)
    if k == 0:
        return []
    m = _members(d.frame, plan)
    deals_k = np.bincount(m.seg, minlength=k)
    wins_k = np.bincount(m.seg[d.won[m.rows]], minlength=k)
    n_known = int(m.known.sum())
    w_known = int(d.won[m.known].sum())
    # Deals per (segment, account): accounts counted, and the clustering of each group measured.
    c = d.n_clusters
    keys, n_pair = _distinct_counts(m.seg * c + d.cluster[m.rows])
    seg_of, cl_of = keys // c, keys % c
    accounts_k = np.bincount(seg_of[cl_of < d.n_accounts], minlength=k)
    per_cluster = np.bincount(d.cluster[m.known], minlength=c).astype(np.float64)
    sq_k = np.bincount(seg_of, weights=n_pair * n_pair, minlength=k)
    rest_sq_k = float(np.sum(per_cluster * per_cluster)) - np.bincount(
        seg_of, weights=2.0 * per_cluster[cl_of] * n_pair - n_pair * n_pair, minlength=k
    )
    won_rows = d.won[m.rows]
    mean_v, median_v = _group_mean_median(m.seg[won_rows], d.amount[m.rows][won_rows], k)
    deff_k = np.array([design_effect(sq_k[i], deals_k[i], d.icc) for i in range(k)])
    lo, hi = _wilson_arrays(wins_k / deff_k, deals_k / deff_k)
    health = _account_means(_members(accounts, plan), metrics, k) if accounts is not None else None
    out = []
    for i, seg in enumerate(plan.segments):
        n, w = int(deals_k[i]), int(wins_k[i])
        rest_n, rest_w = n_known - n, w_known - w
        tested = n > 0 and rest_n > 0
        rate = w / n if n else math.nan
        out.append(
            SegmentStat(
                segment=seg,
                accounts=int(accounts_k[i]),
                deals=n,
                wins=w,
                losses=n - w,
                win_rate=rate,
                ci_low=float(lo[i]),
                ci_high=float(hi[i]),
                lift=rate / overall_rate if overall_rate > 0 and n else math.nan,
                p_value=(
                    two_proportion_p(
                        w,
                        n,
                        rest_w,
                        rest_n,
                        deff1=float(deff_k[i]),
                        deff2=design_effect(rest_sq_k[i], rest_n, d.icc),
                    )
                    if tested
                    else 1.0
                ),
                q_value=1.0,
                significant=False,
                mean_value=_opt(mean_v[i]),
                median_value=_opt(median_v[i]),
                retention=None if health is None else _opt(health["retention"][i]),
                nps=None if health is None else _opt(health["nps"][i]),
                ltv=None if health is None else _opt(health["ltv"][i]),
                tested=tested,
                design_effect=float(deff_k[i]),
            )
        )
    return out


def _with_q(items: list[Any], alpha: float) -> tuple[list[Any], int]:
    """Fill q-values and significance over the tested items (one BH family)."""
    tested = [i for i, s in enumerate(items) if s.tested]
    q = benjamini_hochberg([items[i].p_value for i in tested])
    out = list(items)
    for i, qi in zip(tested, q, strict=True):
        out[i] = replace(items[i], q_value=qi, significant=bool(qi < alpha))
    return out, len(tested)


_METRIC_NAMES: dict[str, str] = {
    "ltv": "lifetime value",
    "acv": "ACV",
    "nps": "NPS",
    "retention": "retention",
    "health": "health score",
}


def _cohort(
    plans: list[SegmentPlan],
    accounts: pd.DataFrame | None,
    metrics: _Metrics | None,
    best_by: str,
    share: float,
    alpha: float,
) -> tuple[Cohort | None, str | None]:
    """The best customers and what sets them apart; or (None, why not)."""
    name = _METRIC_NAMES[best_by]
    if accounts is None or metrics is None:
        return None, "No best-customers cohort: no account health data was given."
    if best_by == "retention":
        value = 1.0 - metrics.churned
        pop = np.flatnonzero(np.isfinite(value))
        if len(pop) == 0:
            return None, "No best-customers cohort: no account has a known churn status."
        in_cohort = value[pop] >= 1.0
        threshold = None
        description = "retained customers (not churned)"
    else:
        value = getattr(metrics, best_by)
        pop = np.flatnonzero(np.isfinite(value))
        if len(pop) == 0:
            return None, f"No best-customers cohort: no account has a known {name}."
        vals = value[pop]
        size = max(1, math.ceil(share * len(pop)))
        threshold = float(np.sort(vals)[::-1][size - 1])
        in_cohort = vals >= threshold
        description = f"the top {share:.0%} by {name}, {_fmt_num(_round_sig(threshold, 3))} or more"
    size = int(in_cohort.sum())
    if size == 0 or size == len(pop):
        return None, f"No best-customers cohort: every account with a known {name} is alike on it."
    sub = accounts.iloc[pop].reset_index(drop=True)
    diffs: list[CohortDiff] = []
    for plan in plans:
        if not plan.segments:
            continue
        m = _members(sub, plan)
        k = len(plan.segments)
        c_known = int((m.known & in_cohort).sum())
        r_known = int((m.known & ~in_cohort).sum())
        c_in = np.bincount(m.seg[in_cohort[m.rows]], minlength=k)
        r_in = np.bincount(m.seg[~in_cohort[m.rows]], minlength=k)
        for i, seg in enumerate(plan.segments):
            ci, ri = int(c_in[i]), int(r_in[i])
            sc = ci / c_known if c_known else math.nan
            sr = ri / r_known if r_known else math.nan
            tested = c_known > 0 and r_known > 0 and ci + ri > 0
            lift = sc / sr if sr > 0 else (math.inf if sc > 0 else math.nan)
            diffs.append(
                CohortDiff(
                    segment=seg,
                    share_in_cohort=sc,
                    share_in_rest=sr,
                    lift=lift,
                    p_value=two_proportion_p(ci, c_known, ri, r_known) if tested else 1.0,
                    q_value=1.0,
                    significant=False,
                    in_cohort=ci,
                    in_rest=ri,
                    tested=tested,
                )
            )
    diffs, tested = _with_q(diffs, alpha)
    return Cohort(best_by, size, len(pop), threshold, description, diffs, tested=tested), None


# ---------------------------------------------------------------------------------------------------
# Plain-English summary
# ---------------------------------------------------------------------------------------------------


def _pct(x: float) -> str:
    v = 100.0 * x
    if 0 < v < 9.95 and round(v, 1) != round(v):
        return f"{v:.1f}%"
    return f"{v:.0f}%"


def _ci(lo: float, hi: float) -> str:
    return f"{_pct(lo)[:-1]}–{_pct(hi)}"


def _q(q: float) -> str:
    return "q<0.001" if q < 0.001 else f"q={q:.2g}"


def _times(lift: float) -> str:
    if not math.isfinite(lift):
        return "only here"
    return f"{lift:.2f}×" if lift < 0.095 else f"{lift:.1f}×"


def _pretty(label: str) -> str:
    attribute, sep, rest = label.partition(" ")
    text = attribute.replace("_", " ") + sep + rest
    return text[:1].upper() + text[1:]


_MAX_LINES = 8


def _ranked(items: list[Any]) -> list[Any]:
    sig = [(i, s) for i, s in enumerate(items) if s.significant]
    sig.sort(key=lambda t: (t[1].q_value, -abs(math.log(t[1].lift)) if t[1].lift > 0 else 0.0, t[0]))
    return [s for _, s in sig]


def _summary(
    overall: Overall,
    segments: list[SegmentStat],
    tested: int,
    alpha: float,
    plans: list[SegmentPlan],
    cohort: Cohort | None,
    cohort_note: str | None,
    icc: float,
) -> list[str]:
    lines = [
        f"Overall: {overall.wins:,} of {overall.deals:,} closed deals won ({_pct(overall.win_rate)}, "
        f"95% CI {_ci(overall.ci_low, overall.ci_high)}) across {overall.accounts:,} accounts."
    ]
    sig = _ranked(segments)
    if not sig:
        if tested:
            lines.append(
                f"No segment's win rate differs significantly from the overall {_pct(overall.win_rate)} "
                f"({tested} segments tested, Benjamini–Hochberg q < {alpha:g}): "
                "the data do not support firmographic criteria."
            )
        else:
            lines.append(
                "No segment could be tested (no attribute value has enough deals): "
                "the data do not support firmographic criteria."
            )
    else:
        lines.append(
            f"{len(sig)} of {tested} segments differ significantly from the overall win rate "
            f"(Benjamini–Hochberg q < {alpha:g}):"
        )
        for s in sig[:_MAX_LINES]:
            lines.append(
                f"{_pretty(s.segment.label)} wins {_pct(s.win_rate)} (n={s.deals:,}, 95% CI "
                f"{_ci(s.ci_low, s.ci_high)}) vs {_pct(overall.win_rate)} overall — "
                f"{_times(s.lift)} ({_q(s.q_value)})"
            )
        if len(sig) > _MAX_LINES:
            lines.append(f"…and {len(sig) - _MAX_LINES} more significant segments.")
    if cohort is not None:
        csig = _ranked(cohort.diffs)
        who = f"Best customers: {cohort.description}, {cohort.size:,} of {cohort.population:,} accounts"
        if not csig:
            lines.append(
                f"{who}. No segment sets them apart significantly ({cohort.tested} segments tested, "
                f"Benjamini–Hochberg q < {alpha:g})."
            )
        else:
            lines.append(f"{who}. What sets them apart (Benjamini–Hochberg q < {alpha:g}):")
        for d in csig[:_MAX_LINES]:
            lines.append(
                f"{_pretty(d.segment.label)} is {_pct(d.share_in_cohort)} of them vs "
                f"{_pct(d.share_in_rest)} of the rest — {_times(d.lift)} ({_q(d.q_value)})"
            )
        if len(csig) > _MAX_LINES:
            lines.append(f"…and {len(csig) - _MAX_LINES} more segments that set the best customers apart.")
    elif cohort_note:
        lines.append(cohort_note)
    if icc >= 0.01:
        lines.append(
            f"Deals of the same account tend to end alike (intra-account correlation {icc:.2f}), so the "
            "intervals and tests count them as less evidence than deals of different accounts."
        )
    for plan in plans:
        for sk in plan.skipped:
            lines.append(
                f"Not tested: {sk.values} value{'s' if sk.values != 1 else ''} of {_pretty(plan.attribute)} "
                f"({sk.rows:,} deals, {sk.reason}, e.g. {', '.join(sk.examples[:3])})."
            )
    return lines


def analyze(
    deals: pd.DataFrame,
    accounts: pd.DataFrame | None = None,
    *,
    attributes: Sequence[str] | None = None,
    best_by: BestBy = "ltv",
    cohort_share: float = 0.2,
    alpha: float = 0.05,
    min_count: int = 20,
    max_values: int = 30,
) -> Analysis:
    """Win rate, value and health per segment of every attribute, tested and corrected for many tests.

    `deals` holds closed deals only (`account_id`, `won`, optional `amount`) with account attributes
    joined; `accounts` (optional) adds health columns (`arr`, `tenure_months`, `churned`, `nps`,
    `ltv`, ...) and the best-customers cohort by `best_by`. Each segment is compared with the rest
    of the deals whose attribute is known; q-values are Benjamini–Hochberg over all segments tested.
    """
    if best_by not in _METRIC_NAMES:
        raise ValueError(f"best_by must be one of {', '.join(_METRIC_NAMES)}, got {best_by!r}")
    if not 0 < cohort_share < 1:
        raise ValueError(f"cohort_share must be between 0 and 1, got {cohort_share}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    d = _prepare_deals(deals)
    attrs = _resolve_attributes(attributes, d.frame, accounts)
    missing = [a for a in attrs if a not in d.frame.columns]
    if missing and accounts is not None:
        if "account_id" not in accounts.columns:
            raise ValueError("accounts: no 'account_id' column to join attributes on")
        lookup = accounts.drop_duplicates("account_id").set_index("account_id")
        frame = d.frame.copy()
        for a in missing:
            frame[a] = frame["account_id"].map(lookup[a])
        d = replace(d, frame=frame)
    acc = _accounts_frame(accounts, d.frame, attrs)
    metrics = _metrics(acc) if acc is not None else None

    n, w = len(d.won), int(d.won.sum())
    per_cluster = np.bincount(d.cluster, minlength=d.n_clusters).astype(np.float64)
    deff = design_effect(float(np.sum(per_cluster * per_cluster)), n, d.icc)
    lo_a, hi_a = _wilson_arrays(np.array([w / deff]), np.array([n / deff]))
    lo, hi = float(lo_a[0]), float(hi_a[0])
    all_seg = np.zeros(n, dtype=np.int64)
    mean_v, median_v = _group_mean_median(all_seg[d.won], d.amount[d.won], 1)
    health = (
        _account_means(_Members(np.arange(len(acc)), np.zeros(len(acc), dtype=np.int64), all_seg), metrics, 1)
        if acc is not None
        else None
    )
    overall = Overall(
        deals=n,
        wins=w,
        losses=n - w,
        win_rate=w / n,
        ci_low=lo,
        ci_high=hi,
        accounts=d.n_accounts,
        mean_value=_opt(mean_v[0]),
        median_value=_opt(median_v[0]),
        retention=None if health is None else _opt(health["retention"][0]),
        nps=None if health is None else _opt(health["nps"][0]),
        ltv=None if health is None else _opt(health["ltv"][0]),
    )

    plans = [plan_segments(d.frame, a, max_values=max_values, min_count=min_count) for a in attrs]
    stats: list[SegmentStat] = []
    for plan in plans:
        stats.extend(_segment_stats(plan, d, acc, metrics, overall.win_rate))
    stats, tested = _with_q(stats, alpha)
    cohort, note = _cohort(plans, acc, metrics, best_by, cohort_share, alpha)
    significant = any(s.significant for s in stats)
    return Analysis(
        overall=overall,
        segments=stats,
        cohort=cohort,
        significant=significant,
        summary=_summary(overall, stats, tested, alpha, plans, cohort, note, d.icc),
        tested=tested,
        alpha=alpha,
        attributes=plans,
        icc=d.icc,
    )
