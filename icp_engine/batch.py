"""Columnar scoring for many accounts at once, with exactly the single-account results.

Numeric columns are compared with numpy. Other columns are factorised: each distinct value is
evaluated once with the scalar operator code (`icp_engine.ops`) and the answers are spread back
with one `take`, so millions of rows cost a handful of vector operations per criterion. The
arithmetic mirrors `icp_engine.scoring` step for step (same order of float additions, same
rounding), which is what makes single and batch results identical.
"""

from __future__ import annotations

import ctypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa

from icp_engine.model import FALLBACK_TIER, ICP, LIST_OPS, NO_TIER, NUMERIC_OPS, Scalar
from icp_engine.ops import evaluate, is_missing, value_key
from icp_engine.scoring import CompiledICP, compile_icp, score_from_points

MATCHED, MISSED, UNKNOWN = 1, 0, -1


@dataclass
class BatchScores:
    """Per-account arrays; `status[i, j]` is 1 matched, 0 missed, -1 unknown for criterion j."""

    icp: ICP
    score: np.ndarray
    fit_score: np.ndarray
    points: np.ndarray
    tier: np.ndarray
    disqualified: np.ndarray
    confidence: np.ndarray
    status: np.ndarray
    index: pd.Index = field(default_factory=lambda: pd.RangeIndex(0))
    tier_codes: tuple[np.ndarray, list[str]] | None = (
        None  # (code per account, tier names): ``tier`` as codes
    )

    def __len__(self) -> int:
        return len(self.score)

    def to_frame(self) -> pd.DataFrame:
        names, codes = self._tier_codes()
        labels = [self.icp.tier_label(t) for t in names]
        return pd.DataFrame(
            {
                "score": self.score,
                "tier": _texts(names, codes),
                "tier_label": _texts(labels, codes),
                "disqualified": self.disqualified,
                "confidence": self.confidence,
            },
            index=self.index,
        )

    def tier_labels(self) -> np.ndarray:
        """Each account's tier label, looked up once per distinct tier (a handful for a million rows)."""
        names, codes = self._tier_codes()
        labels: np.ndarray = np.array([self.icp.tier_label(t) for t in names], dtype=object)[codes]
        return labels

    def _tier_codes(self) -> tuple[list[str], np.ndarray]:
        codes, names = pd.factorize(self.tier) if self.tier_codes is None else self.tier_codes
        return list(names), np.asarray(codes)


def _texts(texts: list[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``texts[codes]`` as pandas' str column, taken by Arrow: what pandas would make of the
    objects, without a million Python strings to convert."""
    taken = pa.array(texts, pa.string()).take(pa.array(codes))
    column: pd.api.extensions.ExtensionArray = pd.array(
        taken, dtype=pd.StringDtype("pyarrow", na_value=np.nan)
    )
    return column


def _bool_prone(uniques: list[Any]) -> bool:
    """Could factorising have merged a boolean with the number 0 or 1?"""
    return any(
        isinstance(u, bool | np.bool_) or (isinstance(u, int | float | np.number) and u in (0, 1))
        for u in uniques
    )


@dataclass(frozen=True)
class _BoolKey:
    value: bool


def _factorize(values: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """``pd.factorize`` of a column of values, booleans kept apart from the numbers 0 and 1.

    An object column is first factorised by the address of each object, then its distinct
    objects by value. Why: a normalised column holds a few thousand objects, each shared by many
    rows; their addresses are integers, factorised several times faster than a million values
    are hashed. Two rows sharing an object share its value, so the codes are the same.
    """
    if values.dtype != object or not len(values) or values.itemsize != ctypes.sizeof(ctypes.c_ssize_t):
        return _factorize_values(values)
    objects = np.ascontiguousarray(values)
    addresses = np.ctypeslib.as_array((ctypes.c_ssize_t * len(objects)).from_address(objects.ctypes.data))
    by_object, _ = pd.factorize(addresses)
    firsts = np.flatnonzero(by_object > np.maximum.accumulate(np.concatenate(([-1], by_object[:-1]))))
    codes, uniques = _factorize_values(objects[firsts])
    return codes[by_object], uniques


def _factorize_values(values: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if not _bool_prone(list(uniques)):
        return codes, list(uniques)
    # factorize merges True with 1: tag booleans so they stay distinct
    tagged = [_BoolKey(bool(v)) if isinstance(v, bool | np.bool_) else v for v in values]
    codes, uniques = pd.factorize(pd.Series(tagged, dtype=object).to_numpy(), use_na_sentinel=True)
    return codes, [u.value if isinstance(u, _BoolKey) else u for u in uniques]


class _Column:
    """One attribute column prepared once, however many conditions read it."""

    def __init__(self, values: np.ndarray | pd.Categorical) -> None:
        self.numeric = not isinstance(values, pd.Categorical) and values.dtype.kind in "iuf"
        if not isinstance(values, pd.Categorical) and self.numeric:
            self.x: np.ndarray = values.astype(np.float64, copy=False)
            self.missing = np.isnan(self.x)
            return
        uniques: list[Any] | np.ndarray
        if isinstance(values, pd.Categorical) and not _bool_prone(list(values.categories)):
            codes, uniques = values.codes, list(values.categories)
        else:
            if isinstance(values, pd.Categorical):
                values = np.asarray(values, dtype=object)
            codes, uniques = _factorize(values)
        self.uniques: list[Any] = [*uniques, None]
        # kept while the batch is scored: 4 bytes a row, not 8 (a million rows, many text columns)
        codes = codes.astype(np.int32 if len(self.uniques) < 2**31 else np.intp, copy=True)
        codes[codes < 0] = len(self.uniques) - 1
        self.codes = codes
        self.missing = np.array([is_missing(u) for u in self.uniques], dtype=bool)[codes]

    def evaluate(self, op: str, values: Sequence[Scalar]) -> tuple[np.ndarray, np.ndarray]:
        if not self.numeric:
            pairs = [evaluate(op, values, u) for u in self.uniques]
            known = np.fromiter((k for k, _ in pairs), dtype=bool, count=len(pairs))
            matched = np.fromiter((m for _, m in pairs), dtype=bool, count=len(pairs))
            return known[self.codes], matched[self.codes]
        present = ~self.missing
        if op == "exists":
            return np.ones_like(present), present
        if op == "missing":
            return np.ones_like(present), self.missing.copy()
        x = self.x
        if op in NUMERIC_OPS:
            nums = [float(v) for v in values]
            with np.errstate(invalid="ignore"):
                if op == "gt":
                    hit = x > nums[0]
                elif op == "gte":
                    hit = x >= nums[0]
                elif op == "lt":
                    hit = x < nums[0]
                elif op == "lte":
                    hit = x <= nums[0]
                else:
                    hit = (x >= nums[0]) & (x <= nums[1])
            return present, hit & present
        wanted = {value_key(v) for v in values}
        wanted_nums = np.array(sorted(k[1] for k in wanted if k[0] == "n"), dtype=np.float64)
        hit = np.isin(x, wanted_nums) & present
        if op == "contains_all":
            hit = hit if len(wanted) == 1 else np.zeros_like(hit)
        elif op in {"ne", "not_in"}:
            hit = present & ~hit
        elif op not in LIST_OPS and op not in {"eq", "in"}:  # pragma: no cover - Op is a closed set
            raise ValueError(f"unknown op {op!r}")
        return present, hit


def _as_columns(
    accounts: pd.DataFrame | Mapping[str, Any],
) -> tuple[pd.DataFrame | Mapping[str, Any], int, pd.Index]:
    if isinstance(accounts, pd.DataFrame):
        return accounts, len(accounts), accounts.index
    lengths = {len(v) for v in accounts.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns have different lengths: {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    return accounts, n, pd.RangeIndex(n)


def _column_array(data: pd.DataFrame | Mapping[str, Any], name: str, n: int) -> np.ndarray | pd.Categorical:
    if name not in data:
        return np.full(n, None, dtype=object)
    col: Any = data[name]  # a Series of a frame, or whatever a mapping holds
    if isinstance(col, pd.Series):
        if isinstance(col.dtype, pd.CategoricalDtype):
            return cast(pd.Categorical, col.array)  # a pd.Categorical: codes are reused
        if col.dtype.kind in "iuf":
            return col.to_numpy(dtype=np.float64, na_value=np.nan)
        # Missing values stay as pandas holds them (None, NaN, NA): factorising, as isna, takes each
        # one for missing, so no isna pass over the column (a third of a second per million texts).
        objects: np.ndarray = col.to_numpy(dtype=object)
        return objects
    if isinstance(col, np.ndarray) and col.ndim == 1:
        return col if col.dtype.kind in "iufO" else col.astype(object)
    return _column_array({name: pd.Series(list(col), dtype=_series_dtype(col))}, name, n)


def _series_dtype(values: Any) -> Any:
    """Let pandas infer numbers, but keep booleans (and anything mixed with them) as objects."""
    return object if any(isinstance(v, bool | np.bool_) for v in values) else None


def score_batch(accounts: pd.DataFrame | Mapping[str, Any], icp: ICP | CompiledICP) -> BatchScores:
    """Score every row of a column table of normalised attributes."""
    comp = icp if isinstance(icp, CompiledICP) else compile_icp(icp)
    model = comp.icp
    data, n, index = _as_columns(accounts)
    columns: dict[str, _Column] = {}

    def column(name: str) -> _Column:
        if name not in columns:
            columns[name] = _Column(_column_array(data, name, n))
        return columns[name]

    criteria = model.criteria
    status = np.empty((n, len(criteria)), dtype=np.int8)
    per_char = [np.zeros(n, dtype=np.float64) for _ in model.characteristics]
    for j, c in enumerate(criteria):
        failed = np.zeros(n, dtype=bool)
        all_matched = np.ones(n, dtype=bool)
        for cond in c.conditions:
            known, matched = column(cond.attribute).evaluate(cond.op, cond.values)
            failed |= known & ~matched
            all_matched &= known & matched
        st = np.full(n, UNKNOWN, dtype=np.int8)
        st[all_matched] = MATCHED
        st[failed] = MISSED
        status[:, j] = st
        k = comp.characteristic_of[j]
        per_char[k] = per_char[k] + np.where(st == MATCHED, float(c.points), 0.0)
    # Same order of additions as scoring.score: bins into characteristics, then characteristics.
    earned = np.zeros(n, dtype=np.float64)
    known_weight = np.zeros(n, dtype=np.float64)
    for k, ch in enumerate(model.characteristics):
        earned = earned + per_char[k]
        known_k = np.ones(n, dtype=bool)
        for a in ch.attributes:
            known_k &= ~column(a).missing
        known_weight = known_weight + np.where(known_k, comp.weights[k], 0.0)

    # Integer points give few distinct totals: map each once with the scalar function, so single
    # and batch scores agree bit for bit.
    inverse, totals = pd.factorize(earned, use_na_sentinel=False)  # hashing: no sort of n floats
    fit = np.array([score_from_points(float(t)) for t in totals], dtype=np.float64)[inverse]

    disq = np.zeros(n, dtype=bool)
    for d in model.disqualifiers:
        _, matched = column(d.attribute).evaluate(d.op, d.values)
        disq |= matched
    final = np.where(disq, 0.0, fit)

    if comp.total_weight <= 0:
        confidence = np.ones(n, dtype=np.float64)
    else:
        confidence = np.floor(known_weight / comp.total_weight * 100.0 + 0.5) / 100.0

    names = [FALLBACK_TIER, NO_TIER, *(name for name, _ in comp.tiers)]
    tier_code = np.zeros(n, dtype=np.int8 if len(names) < 128 else np.int32)
    assigned = disq.copy()
    thin = ~assigned & (confidence < model.min_confidence)
    tier_code[thin] = 1
    assigned |= thin
    for code, (_, threshold) in enumerate(comp.tiers, 2):
        take = ~assigned & (final >= threshold)
        tier_code[take] = code
        assigned |= take
    tier = np.array(names, dtype=object)[tier_code]
    return BatchScores(
        icp=model,
        score=final,
        fit_score=fit,
        points=earned,
        tier=tier,
        disqualified=disq,
        confidence=confidence,
        status=status,
        index=index,
        tier_codes=(tier_code, names),
    )
