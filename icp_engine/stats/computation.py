"""analyze: per-segment counts, rates, values and tests, the best-customers cohort, and the q-values."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from icp_engine.stats.input_checks import (
    _accounts_frame,
    _flags,
    _Metrics,
    _metrics,
    _numbers,
    _resolve_attributes,
)
from icp_engine.stats.primitives import (
    _wilson_arrays,
    benjamini_hochberg,
    design_effect,
    intra_account_correlation,
    two_proportion_p,
)
from icp_engine.stats.results import Analysis, Cohort, CohortDiff, Overall, SegmentStat
from icp_engine.stats.segments import (
    Encoding,
    SegmentPlan,
    _fmt_num,
    _Members,
    _members,
    _plan_encoded,
    _round_sig,
)
from icp_engine.stats.summary import _summary
from icp_engine.stats.value_keys import _distinct_counts

BestBy = Literal["ltv", "acv", "nps", "retention", "health"]


def _group_mean_median(seg: np.ndarray, values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and median of `values` per segment, summed in sorted order so row order cannot matter."""
    ok = np.isfinite(values)
    seg, values = seg[ok], values[ok]
    # By value, then stably by segment (a radix sort on small codes): several times quicker than lexsort.
    by_value = np.argsort(values)
    codes = seg.astype(np.int16) if k <= np.iinfo(np.int16).max else seg
    order = by_value[np.argsort(codes[by_value], kind="stable")]
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


def _account_means(members: _Members | None, metrics: _Metrics | None, k: int) -> dict[str, np.ndarray]:
    """Retention, NPS and LTV per segment (``members`` None: no account has any of them)."""
    if metrics is None or members is None:
        nan = np.full(k, np.nan)
        return {"retention": nan, "nps": nan, "ltv": nan}
    churn, _ = _group_mean_median(members.seg, metrics.churned[members.rows], k)
    nps, _ = _group_mean_median(members.seg, metrics.nps[members.rows], k)
    ltv, _ = _group_mean_median(members.seg, metrics.ltv[members.rows], k)
    return {"retention": 1.0 - churn, "nps": nps, "ltv": ltv}


def _any_health(metrics: _Metrics | None) -> bool:
    """Whether some account has a known churn status, NPS or lifetime value."""
    return metrics is not None and any(
        bool(np.isfinite(values).any()) for values in (metrics.churned, metrics.nps, metrics.ltv)
    )


def _segment_stats(
    plan: SegmentPlan,
    d: _Deals,
    accounts: pd.DataFrame | None,
    metrics: _Metrics | None,
    overall_rate: float,
    encoding: Encoding,
) -> list[SegmentStat]:
    """Counts, rates, values and the p-value (q filled in later) for every segment of one attribute.

    `encoding`: the plan's own reading of the attribute in `d.frame` (not made twice).
    """
    k = len(plan.segments)
    if k == 0:
        return []
    m = _members(d.frame, plan, encoding)
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
    health = None
    if accounts is not None:  # without any known measure every mean is NaN: no membership to work out
        health = _account_means(_members(accounts, plan) if _any_health(metrics) else None, metrics, k)
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
    diffs, n_tested = _with_q(diffs, alpha)
    return Cohort(best_by, size, len(pop), threshold, description, diffs, tested=n_tested), None


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

    plans: list[SegmentPlan] = []
    stats: list[SegmentStat] = []
    for a in attrs:
        plan, encoding = _plan_encoded(d.frame, a, max_values=max_values, min_count=min_count)
        plans.append(plan)
        stats.extend(_segment_stats(plan, d, acc, metrics, overall.win_rate, encoding))
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
