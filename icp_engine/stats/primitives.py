"""The tests and intervals the analysis needs (Wilson, Fisher, chi-square, BH, design effect), with no scipy."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

Z95 = 1.959964
_TIE_TOLERANCE = 1e-7


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
