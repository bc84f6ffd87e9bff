"""Trust checks on a learned ICP: characteristics, misleading rows, catch-all rows, unknown monotonicity.

Why: AUC says whether an ICP ranks accounts well, not whether a salesperson can trust its rows.
Issue 13 asks, per benchmark dataset, for

* characteristics — `len(icp.characteristics)`; an ICP without that attribute (the older flat
  form) counts the distinct attribute sets of `icp.criteria`;
* misleading rows — a bin with positive points whose training win rate is significantly below the
  overall rate (its Wilson 95% interval lies entirely below it), or negative points with the
  interval entirely above;
* catch-all rows — bins with nonzero points and a `not_in`/`ne` condition ("industry not in …");
* unknown-monotonicity violations — blanking an attribute the row knows must move its score
  against the points the row earned from that attribute: +p must not raise it, −p must not lower
  it, 0 must leave it unchanged. Disqualifiers are hard rules, so the score compared is the
  points-based score before them (`fit_score`).

Bins are matched with the engine's own scalar operators (`icp_engine.ops.evaluate`), so a bin
covers exactly the rows the scorer would give its points to.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from icp_engine.batch import score_batch
from icp_engine.model import ICP, Criterion
from icp_engine.ops import evaluate, is_missing
from icp_engine.stats.primitives import wilson_interval

CATCH_ALL_OPS = frozenset({"not_in", "ne"})


@dataclass(frozen=True)
class BinVerdict:
    """A bin whose points contradict its own training win rate."""

    criterion: Criterion
    wins: int
    n: int
    low: float
    high: float
    overall: float

    def describe(self) -> str:
        return (
            f"{float(self.criterion.points):+g} {self.criterion.describe()}: {self.wins}/{self.n} won "
            f"(95% CI {self.low:.1%}–{self.high:.1%}) vs {self.overall:.1%} overall"
        )


def characteristic_count(icp: ICP) -> int:
    """Characteristics of the ICP; for the older flat form, distinct attribute sets of its criteria."""
    chars = getattr(icp, "characteristics", None)
    if chars is not None:
        return len(chars)
    return len({frozenset(_attributes(c)) for c in icp.criteria})


def _attributes(c: Criterion) -> tuple[str, ...]:
    attrs = getattr(c, "attributes", None)
    if attrs is not None:
        return tuple(attrs)
    return (str(c.attribute),)


def _column_matches(values: Sequence[Any], op: str, wanted: Sequence[Any]) -> np.ndarray:
    """Matched (known and true) per value, evaluating each distinct hashable value once."""
    cache: dict[Any, bool] = {}
    out = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        key: Any = v if isinstance(v, Hashable) and not (isinstance(v, float) and v != v) else None
        if key is not None and key in cache:
            out[i] = cache[key]
            continue
        known, matched = evaluate(op, list(wanted), v)
        hit = bool(known and matched)
        if key is not None:
            cache[key] = hit
        out[i] = hit
    return out


def bin_mask(frame: pd.DataFrame, criterion: Criterion) -> np.ndarray:
    """Rows the bin gives its points to: every condition known and true (absent column = unknown)."""
    mask = np.ones(len(frame), dtype=bool)
    for cond in criterion.conditions:
        if cond.attribute not in frame.columns:
            return np.zeros(len(frame), dtype=bool)
        mask &= _column_matches(frame[cond.attribute].tolist(), cond.op, cond.values)
    return mask


def misleading_bins(icp: ICP, train: pd.DataFrame, won: np.ndarray | None = None) -> list[BinVerdict]:
    """Bins whose sign disagrees with a significant difference of their training win rate."""
    wins = np.asarray(train["won"] if won is None else won, dtype=bool)
    if len(wins) == 0:
        return []
    overall = float(wins.mean())
    out = []
    for c in icp.criteria:
        points = float(c.points)
        if points == 0:
            continue
        mask = bin_mask(train, c)
        n, k = int(mask.sum()), int(wins[mask].sum())
        if n == 0:
            continue
        low, high = wilson_interval(k, n)
        if (points > 0 and high < overall) or (points < 0 and low > overall):
            out.append(BinVerdict(c, k, n, low, high, overall))
    return out


def catch_all_bins(icp: ICP) -> list[Criterion]:
    """Bins with nonzero points on a `not_in`/`ne` condition: "everything except …" rows."""
    return [
        c
        for c in icp.criteria
        if float(c.points) != 0 and any(cond.op in CATCH_ALL_OPS for cond in c.conditions)
    ]


def _points_score(frame: pd.DataFrame, icp: ICP) -> np.ndarray:
    scores = score_batch(frame, icp)
    fit = getattr(scores, "fit_score", None)
    return np.asarray(scores.score if fit is None else fit, dtype=np.float64)


def monotonicity_violations(icp: ICP, rows: pd.DataFrame) -> int:
    """(row, attribute) pairs where blanking a known attribute moves the score the wrong way."""
    rows = rows.reset_index(drop=True)
    criteria = icp.criteria
    attributes = list(dict.fromkeys(a for c in criteria for a in _attributes(c)))
    if not attributes or rows.empty:
        return 0
    before = _points_score(rows, icp)
    masks = [bin_mask(rows, c) for c in criteria]
    violations = 0
    for a in attributes:
        if a not in rows.columns:
            continue  # unknown on every row already
        known = np.array([not is_missing(v) for v in rows[a].tolist()], dtype=bool)
        earned = np.zeros(len(rows), dtype=np.float64)
        for c, m in zip(criteria, masks, strict=True):
            if a in _attributes(c):
                earned += np.where(m, float(c.points), 0.0)
        blanked = rows.copy()
        blanked[a] = pd.Series([None] * len(rows), dtype=object)
        after = _points_score(blanked, icp)
        up, down, moved = after > before, after < before, after != before
        positive, negative = earned > 1e-9, earned < -1e-9
        wrong = (positive & up) | (negative & down) | (~positive & ~negative & moved)
        violations += int((known & wrong).sum())
    return violations
