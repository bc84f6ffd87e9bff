"""Learn a scorecard ICP from history: a few characteristics with centred integer points.

How (docs/ENGINE.md has the reasoning):

1. `analyze` tests every segment of every attribute; only attributes with a segment that stays
   significant after the multiple-testing correction may become characteristics, so data without
   signal yields an ICP without characteristics (and says so).
2. Segments that almost never win become disqualifiers.
3. Characteristics are chosen by stagewise forward selection: each step fits a ridge-penalised
   logistic regression for every candidate (an attribute's segments as indicators, or a pair of
   already chosen attributes as value-pair indicators) and keeps the one that most improves the
   AUC on forward-chaining held-out blocks; selection stops when nothing improves it enough, or at
   `max_characteristics`. An interaction is thus only added when it helps held-out ranking.
4. The final model (penalty chosen by the same cross-validation) gives each bin its log-odds;
   single-attribute bins are centred on the deal-weighted average of their attribute, so 0 means
   "like the average account"; points = log-odds × 20 / ln 2 (20 points double the odds), rounded.
   Bins that round to 0 disappear (they score 0 anyway), equal neighbours merge, and a bin whose
   own win rate contradicts its sign (significantly below average with positive points, or the
   reverse) is dropped rather than shown misleadingly.
5. Tiers come from the historical score distribution; the calibration (win rate of a 0-point
   account) is fitted on the same deals so a score can say its expected win rate.

Targets: `win` (won/lost deals), `value` (wins weighted by deal amount: expected won value) and
`retention` (customers from health data: kept = not churned). Everything is deterministic: the
same input gives the same ICP, byte for byte.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import ParamSpec, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse
from scipy.special import chdtrc
from threadpoolctl import threadpool_limits

from icp_engine.backtest import bin_mask, outcomes, weighted_auc
from icp_engine.batch import score_batch
from icp_engine.model import (
    DEFAULT_TIERS,
    ICP,
    MAX_CHARACTERISTICS,
    Calibration,
    Characteristic,
    Condition,
    Criterion,
    Disqualifier,
    Target,
)
from icp_engine.scoring import POINTS_TO_DOUBLE_ODDS
from icp_engine.stats import Analysis, SegmentDef, SegmentStat, analyze, plan_segments, wilson_interval
from icp_engine.stats.input_checks import BAND_COLUMNS

P = ParamSpec("P")
R = TypeVar("R")

DISQUALIFY_RATIO = 0.25  # a segment whose upper CI is below this share of the overall win rate
MIN_LL_GAIN = 0.0002  # held-out log-likelihood per deal a new attribute must add
MIN_PAIR_GAIN = 0.002  # an interaction must add more: it costs a reader more than an attribute
MIN_PAIR_DEALS = 30  # a cell of an interaction needs this many deals
MAX_PAIR_BINS = 6  # cells of one interaction
SELECTION_ROWS = 60_000  # deals used to choose characteristics (evenly spaced, order kept)
SELECTION_L2 = 2.0
TEST_L2 = 1e-3  # the likelihood-ratio test fits all but unpenalised
CANDIDATE_VALUES = 60  # categories: the most common values that may earn points of their own
CANDIDATE_MIN_DEALS = 10
FINE_BINS = 16
FUSE_POINTS = 4  # neighbouring ranges closer than this in points merge
MAX_RANGES = 5  # a numeric characteristic shows at most this many ranges
POINTS_PER_LOG_ODDS = POINTS_TO_DOUBLE_ODDS / math.log(2.0)

# Log-spaced in steps of √2 (0.25 … 32): held-out AUC is flat near its optimum.
L2_GRID = tuple(round(0.25 * 2 ** (k / 2), 3) for k in range(15))
L2_TOLERANCE = 0.001
DEFAULT_L2 = 1.0  # too few deals to cross-validate
CV_FOLDS = 4


@dataclass
class LearnResult:
    icp: ICP
    analysis: Analysis
    significant: bool
    notes: list[str] = field(default_factory=list)
    coefficients: dict[str, float] = field(default_factory=dict)
    penalty: str = ""
    selection: list[str] = field(default_factory=list)  # one line per step: what joined and why


class LearnError(ValueError):
    """Input `learn` cannot use; the message says what to change."""


# --- the regression ------------------------------------------------------------------------------


def fit_logistic(
    x: np.ndarray, wins: np.ndarray, totals: np.ndarray, *, l2: float = 1.0, max_iter: int = 100
) -> tuple[float, np.ndarray]:
    """Weighted logistic regression on aggregated rows (Newton's method, ridge on slopes).

    Rows are distinct feature patterns with their win and deal counts, so a million deals over
    a few attributes cost a few hundred rows. The design is mostly zeros (one level per
    attribute), so products run on a sparse matrix: selection fits this hundreds of times.
    """
    n, p = x.shape
    design = sparse.csr_matrix(np.hstack([np.ones((n, 1)), x.astype(np.float64)]))
    design_t = design.T.tocsr()
    beta = np.zeros(p + 1)
    rate = wins.sum() / max(totals.sum(), 1e-12)
    rate = min(max(rate, 1e-6), 1 - 1e-6)
    beta[0] = math.log(rate / (1 - rate))
    penalty = np.full(p + 1, l2)
    penalty[0] = 0.0
    ridge = np.diag(penalty) + 1e-9 * np.eye(p + 1)

    def objective(eta: np.ndarray, b: np.ndarray) -> float:
        return float(wins @ eta - totals @ np.logaddexp(0.0, eta) - 0.5 * penalty @ (b * b))

    eta = design @ beta
    current = objective(eta, beta)
    for _ in range(max_iter):
        mu = 1.0 / (1.0 + np.exp(-eta))
        grad = design_t @ (wins - totals * mu) - penalty * beta
        w = totals * mu * (1 - mu)
        hess = (design_t @ design.multiply(w[:, None]).tocsr()).toarray() + ridge
        step = np.linalg.solve(hess, grad)
        step_eta = design @ step
        # Damped Newton: halve the step until the penalised likelihood does not fall, so nearly
        # separable data (a level that almost always wins) cannot make the iteration overshoot.
        scale = 1.0
        while scale > 1e-6:
            candidate = beta + scale * step
            cand_eta = eta + scale * step_eta
            value = objective(cand_eta, candidate)
            if value >= current - 1e-12:
                break
            scale /= 2
        beta, eta, current = candidate, cand_eta, value
        if np.max(np.abs(scale * step)) < 1e-8:
            break
    return float(beta[0]), beta[1:]


def _aggregate(masks: np.ndarray, won: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, ...]:
    """Collapse deals to distinct indicator patterns with summed (weighted) wins and totals."""
    if masks.shape[1] == 0:
        return np.zeros((1, 0)), np.array([float((won * weight).sum())]), np.array([float(weight.sum())])
    packed = np.packbits(masks, axis=1)
    first, inverse = _row_groups(packed)
    wins = np.bincount(inverse, weights=won * weight, minlength=len(first))
    totals = np.bincount(inverse, weights=weight, minlength=len(first))
    x = np.unpackbits(packed[first], axis=1, count=masks.shape[1]).astype(np.float64)
    return x, wins, totals


def _row_groups(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a byte matrix (first index of each, in sorted order) and each row's group.

    Rows are read as 64-bit words and sorted on those: `np.unique(axis=0)` compares rows as opaque
    records and was most of the time `learn` took on a million deals.
    """
    pad = (-packed.shape[1]) % 8
    if pad:
        packed = np.hstack([packed, np.zeros((len(packed), pad), dtype=np.uint8)])
    words = np.ascontiguousarray(packed).view(np.uint64)
    order = np.lexsort(words.T[::-1]) if words.shape[1] > 1 else np.argsort(words[:, 0], kind="stable")
    ordered = words[order]
    new = np.ones(len(ordered), dtype=bool)
    new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    inverse = np.empty(len(ordered), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return order[new], inverse


def _folds(n: int) -> np.ndarray | None:
    return np.arange(n) * CV_FOLDS // n if n >= CV_FOLDS * 20 else None


@dataclass(frozen=True)
class _Fold:
    """One forward-chaining split, both sides collapsed to distinct patterns (see _aggregate)."""

    x: np.ndarray
    wins: np.ndarray
    totals: np.ndarray
    test_x: np.ndarray
    test_wins: np.ndarray
    test_totals: np.ndarray


def _fold_data(masks: np.ndarray, won: np.ndarray, weight: np.ndarray) -> list[_Fold] | None:
    fold = _folds(len(won))
    if fold is None:
        return None
    out = []
    for f in range(1, CV_FOLDS):
        train, test = fold < f, fold == f
        out.append(
            _Fold(
                *_aggregate(masks[train], won[train], weight[train]),
                *_aggregate(masks[test], won[test], weight[test]),
            )
        )
    return out


def _cv_from(folds: list[_Fold], l2: float, chosen: Sequence[_Candidate]) -> tuple[float, float]:
    aucs, lls = [], []
    for fd in folds:
        intercept, coefs = fit_logistic(_centred(fd.x, chosen), fd.wins, fd.totals, l2=l2)
        eta = intercept + _centred(fd.test_x, chosen) @ coefs
        wins, totals = fd.test_wins, fd.test_totals
        lls.append(float((wins * eta - totals * np.logaddexp(0.0, eta)).sum() / totals.sum()))
        losses = totals - wins
        if wins.sum() > 0 and losses.sum() > 0:
            both = np.concatenate([eta, eta])
            labels = np.concatenate([np.ones(len(eta), dtype=bool), np.zeros(len(eta), dtype=bool)])
            aucs.append(weighted_auc(both, labels, np.concatenate([wins, losses])))
    return (float(np.mean(aucs)) if aucs else 0.5), float(np.mean(lls))


def cv_scores(
    masks: np.ndarray,
    won: np.ndarray,
    weight: np.ndarray,
    l2: float,
    chosen: Sequence[_Candidate] = (),
) -> tuple[float, float]:
    """Mean held-out AUC and log-likelihood per deal over forward-chaining folds.

    Each block of rows is predicted from the blocks before it. When deals come in time order (as
    the CLI and the benchmarks pass them), this is how the ICP will be used, so drift counts
    against overfitting.
    """
    folds = _fold_data(masks, won, weight)
    return (0.5, -math.inf) if folds is None else _cv_from(folds, l2, chosen)


def cv_auc(
    masks: np.ndarray,
    won: np.ndarray,
    weight: np.ndarray,
    l2: float,
    chosen: Sequence[_Candidate] = (),
) -> float:
    """Mean forward-chaining held-out AUC (0.5 when there are too few deals to tell)."""
    return cv_scores(masks, won, weight, l2, chosen)[0]


def choose_l2(
    masks: np.ndarray, won: np.ndarray, weight: np.ndarray, chosen: Sequence[_Candidate] = ()
) -> float:
    """The strongest ridge penalty whose forward-chaining held-out AUC is within L2_TOLERANCE of
    the best (the one-standard-error rule): the curve is flat near its top, and there the more
    shrunk points are the ones that hold on new deals."""
    folds = _fold_data(masks, won, weight) if masks.shape[1] else None
    if folds is None:
        return DEFAULT_L2
    scores = [_cv_from(folds, l2, chosen)[0] for l2 in L2_GRID]
    top = max(scores)
    return max(l2 for l2, sc in zip(L2_GRID, scores, strict=True) if sc >= top - L2_TOLERANCE)


# --- candidate characteristics -------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    """A characteristic under consideration: its bins as indicator columns over the deals."""

    attributes: tuple[str, ...]
    kind: str  # "value", "bin", "contains" or "pair"
    segments: tuple[tuple[SegmentDef, ...], ...]  # per column: one segment, or two for a pair
    masks: np.ndarray  # deals × columns, bool
    share: np.ndarray | None = None  # value/bin levels: their share of the deals (for centring)
    coarse: _Candidate | None = None  # fine numeric bins: the bands to pair with instead
    dimension: str = ""  # candidates of one dimension (a band and its number) exclude each other

    @property
    def name(self) -> str:
        return " × ".join(self.attributes)


_RAW_OF_BAND = {band: raw for raw, band in BAND_COLUMNS.items()}


def _round_edge(x: float) -> float:
    """Two significant digits: edges people write (200, 2,000, 1.5M), not 197.4."""
    if x == 0 or not math.isfinite(x):
        return x
    digits = 1 - math.floor(math.log10(abs(x)))
    return round(x, digits)


def _fine_bins(attr: str, x: np.ndarray) -> list[SegmentDef]:
    """Up to FINE_BINS quantile bins with round edges and at least CANDIDATE_MIN_DEALS deals each."""
    known = x[np.isfinite(x)]
    if len(known) < 2 * CANDIDATE_MIN_DEALS:
        return []
    integer = bool(np.all(np.mod(known, 1) == 0))
    qs = np.quantile(known, np.linspace(0, 1, FINE_BINS + 1)[1:-1])
    lo_x, hi_x = float(known.min()), float(known.max())
    edges = [e for e in sorted({_round_edge(float(q)) for q in qs}) if lo_x < e <= hi_x]
    kept: list[float] = []
    last = -math.inf
    for e in edges:  # drop an edge that would leave too few deals below it
        if int(np.count_nonzero((known >= last) & (known < e))) >= CANDIDATE_MIN_DEALS:
            kept.append(e)
            last = e
    while kept and int(np.count_nonzero(known >= kept[-1])) < CANDIDATE_MIN_DEALS:
        kept.pop()
    bounds: list[float | None] = [None, *kept, None]
    return [
        SegmentDef(attr, "bin", low=lo, high=hi, integer=integer)
        for lo, hi in itertools.pairwise(bounds)
        if not (lo is None and hi is None)
    ]


def _single(attr: str, segments: list[SegmentDef], deals: pd.DataFrame) -> _Candidate:
    segs = tuple((s,) for s in segments)
    masks = np.column_stack([s.mask(deals) for s in segments]).astype(bool)
    kind = segments[0].kind
    share = masks.mean(axis=0) if kind in ("value", "bin") and len(deals) else None
    return _Candidate((attr,), kind, segs, masks, share)


def _centred(x: np.ndarray, chosen: Sequence[_Candidate]) -> np.ndarray:
    """Rows in no level of a value/bin attribute (unknown, rare) get the average level mix.

    That is how the scorecard treats them (0 points = the average account), so the regression
    is fitted under the same rule it will be used with.
    """
    out = x.astype(np.float64)
    col = 0
    for c in chosen:
        k = c.masks.shape[1]
        if c.share is not None:
            block = out[:, col : col + k]
            rest = 1.0 - block.sum(axis=1)
            out[:, col : col + k] = block + rest[:, None] * c.share[None, :]
        col += k
    return out


def _pair_levels(c: _Candidate) -> list[tuple[SegmentDef, np.ndarray]]:
    """The sides of one attribute an interaction may split on: its values, or for a number each
    side of each edge its bins have (fintech *from 200 employees up*, not fintech × 8 bands)."""
    if c.kind == "value":
        return [(segs[0], c.masks[:, i]) for i, segs in enumerate(c.segments)]
    segs = [s[0] for s in c.segments]
    edges = sorted({float(seg.low) for seg in segs if seg.low is not None})
    out: list[tuple[SegmentDef, np.ndarray]] = []
    integer = segs[0].integer
    for e in edges:
        above = np.zeros(len(c.masks), dtype=bool)
        below = np.zeros(len(c.masks), dtype=bool)
        for i, seg in enumerate(segs):
            if seg.low is not None and seg.low >= e:
                above |= c.masks[:, i]
            else:
                below |= c.masks[:, i]
        attr = segs[0].attribute
        out.append((SegmentDef(attr, "bin", low=e, integer=integer), above))
        out.append((SegmentDef(attr, "bin", high=e, integer=integer), below))
    return out


def _fitted_probabilities(
    chosen: Sequence[_Candidate], rows: np.ndarray, y: np.ndarray, w: np.ndarray
) -> np.ndarray:
    masks = _design(chosen, rows)
    xa, wins, totals = _aggregate(masks, y, w)
    intercept, coefs = fit_logistic(_centred(xa, chosen), wins, totals, l2=SELECTION_L2)
    eta = intercept + _centred(masks, chosen) @ coefs
    return np.asarray(1.0 / (1.0 + np.exp(-eta)))


def _pair(
    a: _Candidate,
    b: _Candidate,
    chosen: Sequence[_Candidate],
    rows: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    alpha: float,
) -> _Candidate | None:
    """An interaction of two chosen attributes: the few value pairs the additive model gets wrong.

    Every pair of sides with MIN_PAIR_DEALS deals is a cell; cells join one at a time by a score
    test against the model so far (chosen attributes plus the cells already in), at a Bonferroni
    level over all cells, so noise rarely makes a cell. Cells never overlap: an account matches
    at most one, as in every learned characteristic.
    """
    levels_a, levels_b = _pair_levels(a), _pair_levels(b)
    if not levels_a or not levels_b:
        return None
    # Cells are never materialised: counts and score statistics are products of the two sides'
    # indicator matrices, so a 60 × 60 pair costs two small matrix products, not 3,600 masks.
    side_a = np.column_stack([m[rows] for _, m in levels_a]).astype(np.float64)
    side_b = np.column_stack([m[rows] for _, m in levels_b]).astype(np.float64)
    free = side_a.T @ side_b >= MIN_PAIR_DEALS
    n_cells = int(free.sum())
    if not n_cells:
        return None
    level = alpha / n_cells
    overlap_a, overlap_b = side_a.T @ side_a > 0, side_b.T @ side_b > 0
    taken: list[tuple[int, int]] = []
    model = list(chosen)
    while len(taken) < MAX_PAIR_BINS and free.any():
        mu = _fitted_probabilities(model, rows, y, w)
        u = side_a.T @ (side_b * (w * (y - mu))[:, None])
        v = side_a.T @ (side_b * (w * mu * (1.0 - mu))[:, None])
        stats = np.where(free & (v > 0), u * u / np.where(v > 0, v, 1.0), -1.0)
        i, j = (int(k) for k in np.unravel_index(int(np.argmax(stats)), stats.shape))
        if stats[i, j] <= 0 or _chi2_sf(float(stats[i, j]), 1) >= level:
            break
        taken.append((i, j))
        free &= ~(overlap_a[:, [i]] & overlap_b[[j], :])  # no cell overlapping one already in
        model = [*chosen, _cells_candidate(a, b, [(levels_a[i], levels_b[j]) for i, j in taken])]
    if not taken:
        return None
    return _cells_candidate(a, b, [(levels_a[i], levels_b[j]) for i, j in taken])


def _cells_candidate(
    a: _Candidate,
    b: _Candidate,
    cells: list[tuple[tuple[SegmentDef, np.ndarray], tuple[SegmentDef, np.ndarray]]],
) -> _Candidate:
    return _Candidate(
        a.attributes + b.attributes,
        "pair",
        tuple((sa, sb) for (sa, _), (sb, _) in cells),
        np.column_stack([ma & mb for (_, ma), (_, mb) in cells]),
    )


def _pairs(
    chosen: Sequence[_Candidate], rows: np.ndarray, y: np.ndarray, w: np.ndarray, alpha: float
) -> list[_Candidate]:
    """Interaction candidates for every two chosen attributes (values or numbers) not yet paired."""
    taken = {frozenset(c.attributes) for c in chosen}
    singles = [c for c in chosen if c.kind in ("value", "bin")]
    out = []
    for a, b in itertools.combinations(singles, 2):
        if frozenset(a.attributes + b.attributes) in taken:
            continue
        if a.kind == "bin" and b.kind == "value":
            a, b = b, a  # "industry = fintech and employees ≥ 200" reads better than the reverse
        pair = _pair(a, b, chosen, rows, y, w, alpha)
        if pair is not None:
            out.append(pair)
    return out


def _log_likelihood(
    x: np.ndarray, wins: np.ndarray, totals: np.ndarray, chosen: Sequence[_Candidate]
) -> float:
    intercept, coefs = fit_logistic(_centred(x, chosen), wins, totals, l2=TEST_L2)
    eta = intercept + _centred(x, chosen) @ coefs
    return float(wins @ eta - totals @ np.logaddexp(0.0, eta))


def _chi2_sf(stat: float, df: int) -> float:
    """``scipy.stats.chi2.sf(stat, df)``: the same ``chdtrc`` it calls, without importing scipy.stats (0.4 s)."""
    if math.isnan(stat) or df <= 0:
        return math.nan
    return 1.0 if stat <= 0 else float(chdtrc(df, stat))


def conditional_p_value(
    chosen: Sequence[_Candidate], cand: _Candidate, rows: np.ndarray, y: np.ndarray, w: np.ndarray
) -> float:
    """Likelihood-ratio test of a candidate beside the chosen characteristics (on the same deals).

    The segment tests that gate attributes look at one attribute at a time; this asks whether it
    still explains wins once the others are known. Degrees of freedom: its indicator columns.
    """
    base = _design(chosen, rows)
    both = np.hstack([base, cand.masks[rows]])
    xa0, wins0, totals0 = _aggregate(base, y, w)
    xa1, wins1, totals1 = _aggregate(both, y, w)
    stat = 2.0 * (
        _log_likelihood(xa1, wins1, totals1, [*chosen, cand]) - _log_likelihood(xa0, wins0, totals0, chosen)
    )
    return _chi2_sf(stat, cand.masks.shape[1])


def _design(chosen: Sequence[_Candidate], rows: np.ndarray) -> np.ndarray:
    if not chosen:
        return np.zeros((len(rows), 0), dtype=bool)
    return np.hstack([c.masks[rows] for c in chosen])


def _select(
    singles: list[_Candidate],
    won: np.ndarray,
    weight: np.ndarray,
    *,
    max_characteristics: int,
    supported: set[str],
    alpha: float,
) -> tuple[list[_Candidate], list[str]]:
    """Stagewise forward selection on held-out (forward-chaining) fit.

    Attributes are taken in the order of held-out log-likelihood, the penalised likelihood's own
    yardstick (smoother than AUC on small data). An attribute with a significant segment joins
    whatever its held-out gain (the test already separated it from noise, and the ridge penalty
    shrinks what the held-out blocks cannot confirm), provided it still is significant beside the
    attributes already chosen: a proxy (revenue for head count) passes the test on its own but
    adds nothing to the attribute it stands in for. Any other must add MIN_LL_GAIN. An
    interaction of two chosen attributes joins only when it raises held-out AUC by MIN_PAIR_GAIN.
    """
    n = len(won)
    rows = (
        np.unique(np.linspace(0, n - 1, SELECTION_ROWS).astype(np.int64))
        if n > SELECTION_ROWS
        else np.arange(n)
    )
    y, w = won[rows], weight[rows]
    chosen: list[_Candidate] = []
    log: list[str] = []
    auc, ll = cv_scores(np.zeros((len(rows), 0), dtype=bool), y, w, SELECTION_L2)
    while len(chosen) < max_characteristics:
        taken = {c.attributes for c in chosen}
        used = {c.dimension for c in chosen if c.dimension}
        best: tuple[float, float, _Candidate] | None = None
        for cand in [c for c in singles if c.attributes not in taken and c.dimension not in used]:
            x = np.hstack([_design(chosen, rows), cand.masks[rows]])
            c_auc, c_ll = cv_scores(x, y, w, SELECTION_L2, [*chosen, cand])
            if best is None or c_ll > best[1] + 1e-12:
                best = (c_auc, c_ll, cand)
        if best is not None and (
            best[1] - ll >= MIN_LL_GAIN
            or (
                best[2].attributes[0] in supported
                and conditional_p_value(chosen, best[2], rows, y, w) < alpha
            )
        ):
            c_auc, c_ll, cand = best
            why = (
                ""
                if c_ll - ll >= MIN_LL_GAIN
                else " (joins anyway: significant beside the attributes already chosen)"
            )
            log.append(
                f"{cand.name}: held-out log-likelihood {ll:.4f} → {c_ll:.4f} per deal, "
                f"AUC {auc:.4f} → {c_auc:.4f}{why}"
            )
        else:
            if best is not None:
                log.append(
                    f"no other attribute improves held-out fit (best: {best[2].name}, {best[1] - ll:+.5f})"
                )
            best = None
            for cand in _pairs(chosen, rows, y, w, alpha):
                x = np.hstack([_design(chosen, rows), cand.masks[rows]])
                c_auc, c_ll = cv_scores(x, y, w, SELECTION_L2, [*chosen, cand])
                if best is None or c_auc > best[0] + 1e-12:
                    best = (c_auc, c_ll, cand)
            if best is None or best[0] - auc < MIN_PAIR_GAIN or best[1] < ll:
                if best is not None:
                    log.append(
                        f"no interaction improves held-out AUC enough (best: {best[2].name}, {best[0] - auc:+.4f})"
                    )
                break
            c_auc, c_ll, cand = best
            log.append(f"{cand.name} (interaction): held-out AUC {auc:.4f} → {c_auc:.4f}")
        chosen.append(cand)
        auc, ll = c_auc, c_ll
    return _backward(chosen, rows, y, w, ll, alpha, log), log


def _backward(
    chosen: list[_Candidate],
    rows: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    ll: float,
    alpha: float,
    log: list[str],
) -> list[_Candidate]:
    """Drop attributes an interaction made redundant (Lead Source once Referral × North America is in).

    Latest first, an attribute leaves when held-out fit does not fall by MIN_LL_GAIN without it
    and it is not significant beside the rest. Interactions stay: they joined last, on their own
    held-out gain, and their cells are points beyond the attributes they pair.
    """
    for cand in reversed([c for c in chosen if c.kind != "pair"]):
        rest = [c for c in chosen if c is not cand]
        _, r_ll = cv_scores(_design(rest, rows), y, w, SELECTION_L2, rest)
        if ll - r_ll < MIN_LL_GAIN and conditional_p_value(rest, cand, rows, y, w) >= alpha:
            log.append(
                f"{cand.name} leaves: redundant beside the rest (held-out log-likelihood "
                f"{ll:.4f} → {r_ll:.4f} per deal without it)"
            )
            chosen, ll = rest, r_ll
    return chosen


# --- from coefficients to bins -------------------------------------------------------------------


def _num(v: float) -> int | float:
    return int(v) if float(v).is_integer() else float(v)


def _seg_conditions(seg: SegmentDef) -> list[Condition]:
    if seg.kind == "contains":
        return [Condition(attribute=seg.attribute, op="contains_any", values=[_value_of(seg)])]
    if seg.kind == "value":
        return [Condition(attribute=seg.attribute, op="eq", values=[_value_of(seg)])]
    return [_range_condition(seg.attribute, seg.low, seg.high)]


def _range_condition(attr: str, low: float | None, high: float | None) -> Condition:
    """[low, high) as one condition: gte, lt, or between (low ≤ x ≤ high − ε for whole numbers)."""
    lo = low if low is not None and math.isfinite(low) else None
    hi = high if high is not None and math.isfinite(high) else None
    if lo is None and hi is None:
        return Condition(attribute=attr, op="exists")
    if lo is None:
        assert hi is not None
        return Condition(attribute=attr, op="lt", values=[_num(hi)])
    if hi is None:
        return Condition(attribute=attr, op="gte", values=[_num(lo)])
    upper = math.nextafter(hi, -math.inf) if not float(hi).is_integer() else hi - 1e-9
    if float(lo).is_integer() and float(hi).is_integer():
        upper = hi - 1  # whole-number attributes (employees): 200–999 reads better than < 1000
    return Condition(attribute=attr, op="between", values=[_num(lo), _num(upper)])


def _value_of(seg: SegmentDef) -> str:
    assert seg.value is not None
    return seg.value


def _stat_text(stat: SegmentStat, overall: float) -> str:
    text = (
        f"{stat.segment.label}: win rate {stat.win_rate:.0%} (n={stat.deals}, 95% CI "
        f"{stat.ci_low:.0%}–{stat.ci_high:.0%}) vs {overall:.0%} overall, q={stat.q_value:.2g}"
    )
    if not stat.significant:
        text += " (not significant alone; weighed within a supported attribute)"
    return text


@dataclass
class _Bin:
    conditions: list[Condition]
    points: int
    evidence: list[str]
    why: list[str]
    mask: np.ndarray  # over all deals
    order: float  # position for numeric ranges (low end); else 0


def _count_text(label: str, mask: np.ndarray, won: np.ndarray, overall: float) -> str:
    k = int(mask.sum())
    wins = int(won[mask].sum())
    lo, hi = wilson_interval(wins, k)
    rate = wins / k if k else 0.0
    return f"{label}: win rate {rate:.0%} (n={k}, 95% CI {lo:.0%}–{hi:.0%}) vs {overall:.0%} overall"


def _fuse_ranges(cand: _Candidate, coefs: np.ndarray) -> tuple[_Candidate, np.ndarray] | None:
    """Merge neighbouring numeric bins whose points differ little, and keep at most MAX_RANGES.

    Fine bins find where the edges are; a reader needs a few ranges. The neighbours closest in
    points merge first (their log-odds averaged by deals), until every step is worth more than
    FUSE_POINTS points. None when everything merges into one range: the number tells nothing.
    """
    segs = [s[0] for s in cand.segments]
    lows = [-math.inf if seg.low is None else float(seg.low) for seg in segs]
    order = sorted(range(len(segs)), key=lambda i: lows[i])
    segs = [segs[i] for i in order]
    masks = [cand.masks[:, i] for i in order]
    beta = [float(coefs[i]) for i in order]
    counts = [float(m.sum()) for m in masks]
    while len(segs) > 1:
        steps = [abs(beta[i + 1] - beta[i]) * POINTS_PER_LOG_ODDS for i in range(len(segs) - 1)]
        i = int(np.argmin(steps))
        if steps[i] > FUSE_POINTS and len(segs) <= MAX_RANGES:
            break
        if segs[i].low is None and segs[i + 1].high is None:
            return None  # one range for every value: no step is worth a point
        total = counts[i] + counts[i + 1]
        merged_beta = (beta[i] * counts[i] + beta[i + 1] * counts[i + 1]) / total if total else beta[i]
        merged = SegmentDef(
            segs[i].attribute, "bin", low=segs[i].low, high=segs[i + 1].high, integer=segs[i].integer
        )
        segs[i : i + 2] = [merged]
        masks[i : i + 2] = [masks[i] | masks[i + 1]]
        beta[i : i + 2] = [merged_beta]
        counts[i : i + 2] = [total]
    fused = dataclasses.replace(
        cand,
        segments=tuple((s,) for s in segs),
        masks=np.column_stack(masks),
        share=np.array(counts) / max(len(cand.masks), 1),
    )
    return fused, np.array(beta)


def _bins_for(
    cand: _Candidate,
    coefs: np.ndarray,
    won: np.ndarray,
    stat_by_id: dict[str, SegmentStat],
    overall: float,
    evidence_text: dict[str, str],
) -> tuple[list[_Bin], float]:
    """Centred, rounded bins of one characteristic and the log-odds its centring moved to the intercept."""
    n = len(won)
    if cand.kind in ("value", "bin"):
        share = cand.masks.sum(axis=0) / max(n, 1)
        shift = float(share @ coefs)  # the average account's contribution from this attribute
    else:
        shift = 0.0  # flags (list items) and interactions: absent = 0, the model's own baseline
    raw: list[_Bin] = []
    for col, segs in enumerate(cand.segments):
        pts = round((float(coefs[col]) - shift) * POINTS_PER_LOG_ODDS)
        if pts == 0:
            continue
        conds = [c for s in segs for c in _seg_conditions(s)]
        if cand.kind == "pair":
            key = f"stat:{segs[0].key}&{segs[1].key}"
            m = cand.masks[:, col]
            text = _count_text(f"{segs[0].label} and {segs[1].label}", m, won, overall)
            text += "; points beyond what each attribute gives alone"
            evidence_text[key] = text
            raw.append(_Bin(conds, pts, [key], [text], m, 0.0))
            continue
        sid = segs[0].id
        stat = stat_by_id.get(sid)
        if stat is not None:
            evidence_text[sid] = _stat_text(stat, overall)
        else:
            evidence_text[sid] = _count_text(segs[0].label, cand.masks[:, col], won, overall)
        low = segs[0].low if segs[0].kind == "bin" and segs[0].low is not None else -math.inf
        raw.append(
            _Bin(conds, pts, [sid], [evidence_text.get(sid, segs[0].label)], cand.masks[:, col], float(low))
        )
    return _merge(cand, raw), shift


def _merge(cand: _Candidate, bins: list[_Bin]) -> list[_Bin]:
    """Fuse bins with equal points: values into one `in`, touching numeric ranges into one range."""
    if cand.kind == "value":
        by_points: dict[int, _Bin] = {}
        for b in bins:
            if b.points in by_points:
                m = by_points[b.points]
                m.conditions[0] = Condition(
                    attribute=m.conditions[0].attribute,
                    op="in",
                    values=[*m.conditions[0].values, *b.conditions[0].values],
                )
                m.evidence += b.evidence
                m.why += b.why
                m.mask = m.mask | b.mask
            else:
                by_points[b.points] = _Bin(
                    list(b.conditions), b.points, list(b.evidence), list(b.why), b.mask, 0.0
                )
        return list(by_points.values())
    if cand.kind == "bin":
        segs = {s[0].id: s[0] for s in cand.segments}
        ordered = sorted(bins, key=lambda b: b.order)
        out: list[tuple[_Bin, float | None, float | None]] = []
        for b in ordered:
            seg = segs[b.evidence[0]]
            if out and out[-1][0].points == b.points and out[-1][2] == seg.low:
                prev, lo, _ = out[-1]
                prev.evidence += b.evidence
                prev.why += b.why
                prev.mask = prev.mask | b.mask
                out[-1] = (prev, lo, seg.high)
            else:
                out.append(
                    (
                        _Bin(list(b.conditions), b.points, list(b.evidence), list(b.why), b.mask, b.order),
                        seg.low,
                        seg.high,
                    )
                )
        result = []
        for b, lo, hi in out:
            b.conditions = [_range_condition(cand.attributes[0], lo, hi)]
            result.append(b)
        return result
    return bins


def _honest(
    bins: list[_Bin], deals: pd.DataFrame, won: np.ndarray, weight: np.ndarray
) -> tuple[list[_Bin], list[str]]:
    """Drop bins whose own (weighted) win rate says the opposite of their points, significantly.

    Judged on every closed deal (disqualified ones too): "average" is the win rate a reader sees.
    For the value target a win weighs its amount, so a segment that wins rarely but big is not
    'below average'.
    """
    overall = float((won * weight).sum() / weight.sum()) if len(won) else 0.0
    kept, dropped = [], []
    for b in bins:
        m = bin_mask(deals, _criterion(b))
        k = int(m.sum())
        rate = float((won[m] * weight[m]).sum() / weight[m].sum()) if k else 0.0
        lo, hi = wilson_interval(round(rate * k), k)
        if (b.points > 0 and hi < overall) or (b.points < 0 and lo > overall):
            desc = " and ".join(c.describe() for c in b.conditions)
            signed = f"+{b.points}" if b.points > 0 else f"−{-b.points}"
            dropped.append(
                f"{desc}: {signed} points would contradict its own win rate ({rate:.0%} vs "
                f"{overall:.0%}); left at 0"
            )
            continue
        kept.append(b)
    return kept, dropped


def _criterion(b: _Bin) -> Criterion:
    rationale = "; ".join(dict.fromkeys(b.why))
    if len(b.conditions) == 1:
        c = b.conditions[0]
        return Criterion(
            attribute=c.attribute,
            op=c.op,
            values=c.values,
            points=b.points,
            evidence=b.evidence,
            rationale=rationale,
        )
    return Criterion(all_of=b.conditions, points=b.points, evidence=b.evidence, rationale=rationale)


# --- disqualifiers, tiers, calibration -----------------------------------------------------------


def _disqualifier(stat: SegmentStat) -> Disqualifier | None:
    seg = stat.segment
    reason = f"{seg.label} almost never wins ({stat.wins} of {stat.deals} deals)"
    if seg.kind == "contains":
        return Disqualifier(
            attribute=seg.attribute, op="contains_any", values=[_value_of(seg)], reason=reason
        )
    if seg.kind == "value":
        return Disqualifier(attribute=seg.attribute, op="eq", values=[_value_of(seg)], reason=reason)
    low = seg.low if seg.low is not None and math.isfinite(seg.low) else None
    high = seg.high if seg.high is not None and math.isfinite(seg.high) else None
    if low is None and high is not None:
        return Disqualifier(attribute=seg.attribute, op="lt", values=[_num(high)], reason=reason)
    if high is None and low is not None:
        return Disqualifier(attribute=seg.attribute, op="gte", values=[_num(low)], reason=reason)
    return None  # a middle bin cannot be one condition; it stays a bin instead


def _tiers_from_scores(icp: ICP, deals: pd.DataFrame) -> dict[str, int | float]:
    """A: the top fifth of historical deals, B: the next two fifths (whole-number thresholds).

    Both stay above 50, the average account: "Good fit" never names a below-average account.
    """
    if not icp.characteristics or len(deals) == 0:
        return dict(DEFAULT_TIERS)
    scores = score_batch(deals, icp).fit_score
    a = math.floor(float(np.quantile(scores, 0.8)))
    b = math.floor(float(np.quantile(scores, 0.4)))
    b = min(max(b, 51), 99)
    a = min(max(a, b + 1), 100)
    return {"A": a, "B": b}


def _calibrate(points: np.ndarray, won: np.ndarray) -> float:
    """Win rate of a 0-point account: the intercept of a logistic fit with the slope fixed at 20 points per doubling."""
    offset = points / POINTS_PER_LOG_ODDS
    rate = min(max(float(won.mean()), 1e-6), 1 - 1e-6)
    a = math.log(rate / (1 - rate))
    for _ in range(50):
        mu = 1.0 / (1.0 + np.exp(-(a + offset)))
        grad = float((won - mu).sum())
        hess = float((mu * (1 - mu)).sum()) + 1e-9
        step = grad / hess
        a += step
        if abs(step) < 1e-10:
            break
    return 1.0 / (1.0 + math.exp(-a))


# --- inputs per target ---------------------------------------------------------------------------


def _with_attributes(deals: pd.DataFrame, accounts: pd.DataFrame | None, analysis: Analysis) -> pd.DataFrame:
    """Deals carrying every analysed attribute: those only the accounts have are joined by account_id."""
    wanted = dict.fromkeys(s.segment.attribute for s in analysis.segments)
    if accounts is None or "account_id" not in accounts.columns:
        return deals
    missing = [a for a in wanted if a not in deals.columns and a in accounts.columns]
    if not missing:
        return deals
    lookup = accounts.drop_duplicates("account_id").set_index("account_id")
    return deals.assign(**{a: deals["account_id"].map(lookup[a]) for a in missing})


def _in_time_order(deals: pd.DataFrame) -> pd.DataFrame:
    """Deals sorted by close date, then deal id (stable).

    Held-out blocks follow time, and the same deals in another file order give the same ICP.
    """
    keys = [c for c in ("close_date", "deal_id") if c in deals.columns]
    if not keys or deals.empty:
        return deals.reset_index(drop=True)
    columns = [_text_ranks(deals[k]) for k in keys]
    return deals.iloc[np.lexsort(columns[::-1])].reset_index(drop=True)


def _text_ranks(column: pd.Series) -> np.ndarray:
    """What sorts as the column's texts do (missing: ""): ranks where equal values print alike, else the texts.

    Texts, integers and dates print alike exactly when they are equal, so only their distinct
    values are made texts and sorted (a few thousand dates, not a million ``str`` calls).
    """
    if isinstance(column.dtype, pd.StringDtype):
        return _arrow_ranks(column) if column.dtype.storage == "pyarrow" else _texts(column)
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    alike = pd.api.types.is_integer_dtype(column.dtype) or (
        column.dtype == object
        and (
            pd.api.types.infer_dtype(uniques, skipna=True) == "string"
            or all(type(u) is date for u in uniques)
        )
    )
    if not alike:
        return _texts(column)
    texts = np.append(pd.Series(uniques, dtype=object).astype(str).to_numpy(dtype=object), "")
    _, rank = np.unique(texts, return_inverse=True)  # code -1 (missing) is the last text, ""
    return rank.reshape(-1)[codes]


def _arrow_ranks(column: pd.Series) -> np.ndarray:
    """Ranks of Arrow texts (missing: ""), sorted by Arrow: a million ``str`` compared one pair at a
    time take seconds. UTF-8 bytes sort as the code points Python compares, so the order is the same."""
    texts = pc.fill_null(pa.array(column.array), "")
    ranks: np.ndarray = pc.rank(texts, sort_keys="ascending", tiebreaker="dense").to_numpy()
    return ranks


def _texts(column: pd.Series) -> np.ndarray:
    return column.astype(str).where(column.notna(), "").to_numpy()


def retention_outcomes(accounts: pd.DataFrame | None) -> pd.DataFrame:
    """Customers with a known churn flag as rows with `won` = kept (the retention target's 'deals')."""
    if accounts is None or "churned" not in accounts.columns:
        raise LearnError(
            "--target retention needs customer health data with a 'churned' column (give --health)"
        )
    from icp_engine.stats import _flags  # the same reading of yes/no, true/false, 1/0 as analyze

    churned = pd.Series(_flags(accounts, "churned", "accounts", allow_missing=True), index=accounts.index)
    known = churned.notna()
    if int(known.sum()) == 0:
        raise LearnError("--target retention: no customer has a churned value (yes/no) in the health data")
    rows = accounts[known].copy()
    rows["won"] = ~churned[known].astype(bool)
    return rows.reset_index(drop=True)


def _value_weights(deals: pd.DataFrame, won: np.ndarray) -> np.ndarray:
    if "amount" not in deals.columns:
        raise LearnError("--target value needs deal amounts (an 'amount' column in the deals)")
    amount = pd.to_numeric(deals["amount"], errors="coerce").to_numpy(dtype=np.float64)
    typical = np.nanmedian(amount[won]) if won.any() else np.nan
    if not (np.isfinite(typical) and typical > 0):
        raise LearnError("--target value: no won deal has a positive amount")
    return np.where(won, np.nan_to_num(amount / typical, nan=1.0).clip(0.05, 20.0), 1.0)


# --- learn ---------------------------------------------------------------------------------------


def _on_one_blas_thread(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` with BLAS on one thread: learning solves many small systems, where BLAS threads
    only contend with each other (three times slower on two busy cores)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper


@_on_one_blas_thread
def learn(
    deals: pd.DataFrame,
    accounts: pd.DataFrame | None = None,
    *,
    attributes: Sequence[str] | None = None,
    name: str = "Learned ICP",
    alpha: float = 0.05,
    target: Target = "win",
    value_weighted: bool = False,
    max_characteristics: int = MAX_CHARACTERISTICS,
    l2: float | None = None,
    analysis: Analysis | None = None,
) -> LearnResult:
    """Learn a scorecard ICP from closed deals (`won` + normalised account attributes)."""
    if max_characteristics < 1:
        raise LearnError(f"--max-characteristics must be at least 1 (got {max_characteristics})")
    if value_weighted:
        target = "value"
    if target == "retention":
        deals = retention_outcomes(accounts)
        accounts = None
        analysis = None
    deals = _in_time_order(deals)
    if analysis is None:
        analysis = analyze(deals, accounts, attributes=attributes, alpha=alpha)
    deals = _with_attributes(deals, accounts, analysis)
    overall = analysis.overall["win_rate"]
    won_all = outcomes(deals)
    notes: list[str] = []
    evidence_text: dict[str, str] = {}
    sig = [s for s in analysis.segments if s.significant]
    weight_all = _value_weights(deals, won_all) if target == "value" else np.ones(len(deals))
    supported = {s.segment.attribute for s in sig}
    if target == "value":
        # A value pattern need not show in win rates: every tested attribute may compete, and the
        # held-out value-weighted AUC alone decides.
        supported |= {s.segment.attribute for s in analysis.segments if s.tested}
    if not supported:
        notes.append(
            "No segment is statistically supported, so the learned ICP has no characteristics: "
            "every account scores the same. Gather more deals or use interview evidence."
        )
        icp = ICP(name=name, target=target, description=" ".join(analysis.summary) or notes[0])
        return LearnResult(icp=icp, analysis=analysis, significant=False, notes=notes)

    # 1. Near-zero segments become disqualifiers (negative ICP).
    disqualifiers: list[Disqualifier] = []
    disq_ids: set[str] = set()
    for s in sig:
        d = _disqualifier(s) if s.ci_high < DISQUALIFY_RATIO * overall else None
        if d is not None:
            disqualifiers.append(d.model_copy(update={"evidence": [s.id]}))
            disq_ids.add(s.id)
            evidence_text[s.id] = _stat_text(s, overall)
    # An attribute whose only significant segment became a disqualifier has shown nothing about
    # the deals that remain: it must earn its place on held-out fit like any other.
    significant = {s.segment.attribute for s in sig if s.id not in disq_ids}
    active = np.ones(len(deals), dtype=bool)
    for s in sig:
        if s.id in disq_ids:
            active &= ~s.segment.mask(deals)
    live = deals[active].reset_index(drop=True)
    won = won_all[active]
    weight = weight_all[active]

    # 2. Candidates: the segments of each supported attribute (the ridge shrinks the weak ones).
    # Categories reach further than the tests do (more values, fewer deals each): a value with
    # ten deals still ranks better than the average it would otherwise get.
    by_attr: dict[str, list[SegmentDef]] = {}
    for s in analysis.segments:
        if s.segment.attribute in supported and s.tested and s.id not in disq_ids:
            by_attr.setdefault(s.segment.attribute, []).append(s.segment)
    # Numbers (and bands whose number is there too) get fine bins that fitting merges again: the
    # edges that matter (20, 200, 2,000 employees) rarely fall on quintiles or on band edges.
    coarse: dict[str, _Candidate] = {}
    dimension: dict[str, str] = {}
    for attr, segs in list(by_attr.items()):
        raw = _RAW_OF_BAND.get(attr, attr)
        if (segs[0].kind == "bin" or raw != attr) and raw in live.columns:
            fine = _fine_bins(raw, pd.to_numeric(live[raw], errors="coerce").to_numpy(dtype=np.float64))
            if len(fine) >= 2:
                by_attr[raw] = fine  # beside the bands (or quintiles): selection keeps the better
                coarse[raw] = _single(attr, list(segs), live)
                dimension[attr] = dimension[raw] = raw
                if attr in significant:
                    significant.add(raw)
        elif segs[0].kind == "value":
            wider = plan_segments(live, attr, max_values=CANDIDATE_VALUES, min_count=CANDIDATE_MIN_DEALS)
            by_attr[attr] = [seg for seg in wider.segments if seg.id not in disq_ids] or list(segs)
    singles = [
        dataclasses.replace(
            _single(attr, segs, live), coarse=coarse.get(attr), dimension=dimension.get(attr, attr)
        )
        for attr, segs in by_attr.items()
    ]
    y = won.astype(np.float64)
    chosen, selection = _select(
        singles,
        y,
        weight,
        max_characteristics=max_characteristics,
        supported=significant,
        alpha=alpha,
    )
    if not chosen:
        notes.append(
            "No attribute improves held-out ranking enough to earn a place, so the learned ICP has "
            "no characteristics: every account scores the same."
        )
        icp = ICP(
            name=name,
            target=target,
            description=" ".join(analysis.summary[:3]) or None,
            disqualifiers=disqualifiers,
            evidence=dict(sorted(evidence_text.items())),
        )
        return LearnResult(
            icp=icp, analysis=analysis, significant=bool(sig), notes=notes, selection=selection
        )

    # 3. One regression over the chosen characteristics.
    x_all = np.hstack([c.masks for c in chosen])
    if l2 is None:
        # Interaction cells were picked with every deal's outcome, so held-out blocks flatter them
        # (and a small penalty); the penalty is chosen on the attributes alone.
        plain = [c for c in chosen if c.kind != "pair"]
        l2 = choose_l2(np.hstack([c.masks for c in plain]), y, weight, plain)
        penalty = f"ridge penalty {l2:g} chosen by {CV_FOLDS}-fold forward-chaining cross-validation"
    else:
        penalty = f"ridge penalty {l2:g}"
    xa, wins, totals = _aggregate(x_all, y, weight)
    _, coefs = fit_logistic(_centred(xa, chosen), wins, totals, l2=l2)
    stat_by_id = {s.id: s for s in analysis.segments}
    coefficients: dict[str, float] = {}
    characteristics: list[Characteristic] = []
    col = 0
    for cand in chosen:
        k = cand.masks.shape[1]
        part = coefs[col : col + k]
        for pair_or_one, c in zip(cand.segments, part, strict=True):
            coefficients["&".join(seg.id for seg in pair_or_one)] = round(float(c), 6)
        col += k
        if cand.kind == "bin":
            fused = _fuse_ranges(cand, part)
            if fused is None:
                notes.append(f"{cand.name}: every range scores about the same; left out")
                continue
            cand, part = fused
        bins, _ = _bins_for(cand, part, won, stat_by_id, overall, evidence_text)
        bins, dropped = _honest(bins, deals, won_all.astype(np.float64), weight_all)
        notes += dropped
        if not bins:
            continue
        bins.sort(key=lambda b: (b.order, -b.points) if cand.kind == "bin" else (-b.points,))
        characteristics.append(
            Characteristic(attributes=list(cand.attributes), bins=[_criterion(b) for b in bins])
        )
    characteristics.sort(key=lambda ch: (-ch.weight, ch.name))
    icp = ICP(
        name=name,
        target=target,
        description=" ".join(analysis.summary[:3]) or None,
        characteristics=characteristics,
        disqualifiers=disqualifiers,
        evidence=dict(sorted(evidence_text.items())),
    )
    points = score_batch(live, icp).points if characteristics else np.zeros(len(live))
    calibration = (
        Calibration(base_rate=round(_calibrate(points, y), 6), deals=len(live))
        if target != "value" and 0 < y.mean() < 1
        else None
    )
    icp = icp.model_copy(update={"tiers": _tiers_from_scores(icp, live), "calibration": calibration})
    icp = ICP.model_validate(icp.model_dump())
    return LearnResult(
        icp=icp,
        analysis=analysis,
        significant=True,
        notes=notes,
        coefficients=coefficients,
        penalty=penalty,
        selection=selection,
    )
