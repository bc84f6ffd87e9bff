"""Derive a data-backed draft ICP from won and lost deals.

Only attributes with a segment that `analyze` finds significant (after the multiple-testing
correction) may become criteria; an attribute with none contributes nothing, so data without
signal yields an ICP without criteria. Points come from one L2-regularised logistic regression
over the tested segments of the supported attributes, fitted together so that two correlated
segments do not both claim the same wins, and shrinking weakly measured values towards zero. Log-odds are
shifted per attribute so that the weakest level earns 0 and every point is non-negative; the
score is then an affine function of the model's log-odds, and ranking accounts by score is the
same as ranking them by the model. Segments that almost never win become disqualifiers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from icp_engine.backtest import outcomes, roc_auc
from icp_engine.batch import score_batch
from icp_engine.model import DEFAULT_TIERS, ICP, Condition, Criterion, Disqualifier, Op
from icp_engine.stats import Analysis, SegmentDef, SegmentStat, analyze

TOTAL_POINTS = 100
DISQUALIFY_RATIO = 0.25  # a segment whose upper CI is below this share of the overall win rate
OTHER_VALUES = "(other)"  # evidence key of an attribute's values that are not a criterion of their own


@dataclass
class LearnResult:
    icp: ICP
    analysis: Analysis
    significant: bool
    notes: list[str] = field(default_factory=list)
    coefficients: dict[str, float] = field(default_factory=dict)
    penalty: str = ""


def fit_logistic(
    x: np.ndarray, wins: np.ndarray, totals: np.ndarray, *, l2: float = 1.0, max_iter: int = 100
) -> tuple[float, np.ndarray]:
    """Weighted logistic regression on aggregated rows (Newton's method, ridge on slopes).

    Rows are distinct feature patterns with their win and deal counts, so a million deals over
    a few attributes cost a few hundred rows.
    """
    n, p = x.shape
    design = np.hstack([np.ones((n, 1)), x.astype(np.float64)])
    beta = np.zeros(p + 1)
    rate = wins.sum() / max(totals.sum(), 1e-12)
    rate = min(max(rate, 1e-6), 1 - 1e-6)
    beta[0] = math.log(rate / (1 - rate))
    penalty = np.full(p + 1, l2)
    penalty[0] = 0.0

    def objective(b: np.ndarray) -> float:
        eta = design @ b
        return float(wins @ eta - totals @ np.logaddexp(0.0, eta) - 0.5 * penalty @ (b * b))

    current = objective(beta)
    for _ in range(max_iter):
        eta = design @ beta
        mu = 1.0 / (1.0 + np.exp(-eta))
        grad = design.T @ (wins - totals * mu) - penalty * beta
        w = totals * mu * (1 - mu)
        hess = (design * w[:, None]).T @ design + np.diag(penalty) + 1e-9 * np.eye(p + 1)
        step = np.linalg.solve(hess, grad)
        # Damped Newton: halve the step until the penalised likelihood does not fall, so nearly
        # separable data (a level that almost always wins) cannot make the iteration overshoot.
        scale = 1.0
        while scale > 1e-6:
            candidate = beta + scale * step
            value = objective(candidate)
            if value >= current - 1e-12:
                break
            scale /= 2
        beta, current = candidate, value
        if np.max(np.abs(scale * step)) < 1e-8:
            break
    return float(beta[0]), beta[1:]


# Log-spaced in steps of √2 (0.25 … 32): held-out AUC is flat near its optimum, and a coarser
# half-decade grid made the choice jump between neighbours that differ by more than the CV can
# tell apart (benchmarks/quality.py: olist and generator seed 7 wanted penalties between grid points).
L2_GRID = tuple(round(0.25 * 2 ** (k / 2), 3) for k in range(15))
DEFAULT_L2 = 1.0  # too few deals to cross-validate
CV_FOLDS = 4


def choose_l2(masks: np.ndarray, won: np.ndarray, weight: np.ndarray) -> float:
    """Pick the ridge penalty with the best mean held-out AUC.

    Forward chaining over contiguous blocks of rows: each block is predicted from the blocks
    before it. When deals come in time order (as the CLI's ordered hold-out passes them), this
    is how the ICP will be used, so drift counts against overfitting.
    """
    n = len(won)
    if n < CV_FOLDS * 20 or masks.shape[1] == 0:
        return DEFAULT_L2
    fold = np.arange(n) * CV_FOLDS // n
    best, best_auc = DEFAULT_L2, -1.0
    for l2 in L2_GRID:
        aucs = []
        for f in range(1, CV_FOLDS):
            train, test = fold < f, fold == f
            if won[test].min() == won[test].max():
                continue
            x, wins, totals = _aggregate(masks[train], won[train], weight[train])
            _, coefs = fit_logistic(x, wins, totals, l2=l2)
            aucs.append(roc_auc(masks[test].astype(np.float64) @ coefs, won[test].astype(bool)))
        mean = float(np.mean(aucs)) if aucs else 0.0
        if mean > best_auc + 1e-9:
            best, best_auc = l2, mean
    return best


def _aggregate(masks: np.ndarray, won: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, ...]:
    """Collapse deals to distinct indicator patterns with summed (weighted) wins and totals."""
    if masks.shape[1] == 0:
        return np.zeros((1, 0)), np.array([float((won * weight).sum())]), np.array([float(weight.sum())])
    packed = np.packbits(masks, axis=1)
    uniq, inverse = np.unique(packed, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    wins = np.bincount(inverse, weights=won * weight, minlength=len(uniq))
    totals = np.bincount(inverse, weights=weight, minlength=len(uniq))
    x = np.unpackbits(uniq, axis=1, count=masks.shape[1]).astype(np.float64)
    return x, wins, totals


def _condition_for(seg: SegmentDef) -> list[Condition]:
    if seg.kind == "contains":
        return [Condition(attribute=seg.attribute, op="contains_any", values=[_value_of(seg)])]
    if seg.kind == "value":
        return [Condition(attribute=seg.attribute, op="eq", values=[_value_of(seg)])]
    conds = []
    if seg.low is not None and math.isfinite(seg.low):
        conds.append(Condition(attribute=seg.attribute, op="gte", values=[_num(seg.low)]))
    if seg.high is not None and math.isfinite(seg.high):
        conds.append(Condition(attribute=seg.attribute, op="lt", values=[_num(seg.high)]))
    if not conds:
        conds.append(Condition(attribute=seg.attribute, op="exists"))
    return conds


def _value_of(seg: SegmentDef) -> str:
    """The value of a 'value' or 'contains' segment (SegmentDef.__post_init__ makes sure it has one)."""
    assert seg.value is not None
    return seg.value


def _num(v: float) -> int | float:
    return int(v) if float(v).is_integer() else float(v)


def _criterion(conds: list[Condition], points: int, evidence: list[str], rationale: str) -> Criterion:
    if len(conds) == 1:
        c = conds[0]
        return Criterion(
            attribute=c.attribute,
            op=c.op,
            values=c.values,
            points=points,
            evidence=evidence,
            rationale=rationale,
        )
    return Criterion(all_of=conds, points=points, evidence=evidence, rationale=rationale)


def _disqualifier(stat: SegmentStat) -> Disqualifier | None:
    seg = stat.segment
    reason = f"{seg.label} almost never wins ({stat.wins} of {stat.deals} deals)"
    if seg.kind == "contains":
        return Disqualifier(
            attribute=seg.attribute, op="contains_any", values=[_value_of(seg)], reason=reason
        )
    if seg.kind == "value":
        return Disqualifier(attribute=seg.attribute, op="eq", values=[_value_of(seg)], reason=reason)
    low = seg.low if seg.low is not None and math.isfinite(seg.low) else None  # None: open below
    high = seg.high if seg.high is not None and math.isfinite(seg.high) else None  # None: open above
    if low is None and high is not None:
        return Disqualifier(attribute=seg.attribute, op="lt", values=[_num(high)], reason=reason)
    if high is None and low is not None:
        return Disqualifier(attribute=seg.attribute, op="gte", values=[_num(low)], reason=reason)
    return None  # a middle bin cannot be one condition; it stays a (zero-point) level instead


def _stat_text(stat: SegmentStat, overall: float) -> str:
    text = (
        f"{stat.segment.label}: win rate {stat.win_rate:.0%} (n={stat.deals}, 95% CI "
        f"{stat.ci_low:.0%}–{stat.ci_high:.0%}) vs {overall:.0%} overall, q={stat.q_value:.2g}"
    )
    if not stat.significant:
        text += " (not significant alone; weighted within a supported attribute)"
    return text


def _with_attributes(deals: pd.DataFrame, accounts: pd.DataFrame | None, analysis: Analysis) -> pd.DataFrame:
    """Deals carrying every analysed attribute: those only the accounts have are joined by account_id.

    `analyze` reads such attributes from the accounts; the regression and the tiers need them on
    the deals too.
    """
    wanted = dict.fromkeys(s.segment.attribute for s in analysis.segments)
    if accounts is None or "account_id" not in accounts.columns:
        return deals
    missing = [a for a in wanted if a not in deals.columns and a in accounts.columns]
    if not missing:
        return deals
    lookup = accounts.drop_duplicates("account_id").set_index("account_id")
    return deals.assign(**{a: deals["account_id"].map(lookup[a]) for a in missing})


def _other_values(
    attr: str, named: list[Any], deals: pd.DataFrame, won: np.ndarray, overall: float
) -> tuple[str, str]:
    """Evidence for the level of an attribute's remaining values: how the deals that have one did."""
    probe = ICP(
        name="other values",
        criteria=[Criterion(attribute=attr, op="not_in", values=named, points=1)],
    )
    hit = score_batch(deals, probe).status[:, 0] == 1
    n, w = int(hit.sum()), int(won[hit].sum())
    if n:
        seen = f"win rate {w / n:.0%} (n={n}) vs {overall:.0%} overall"
    else:
        seen = "no closed deal has one"
    text = (
        f"{attr} = any other value: {seen}; values that are not significant or too rare to test "
        "alone score as the model's baseline, between the weakest and the strongest tested values"
    )
    return f"stat:{attr}={OTHER_VALUES}", text


def learn(
    deals: pd.DataFrame,
    accounts: pd.DataFrame | None = None,
    *,
    attributes: Sequence[str] | None = None,
    name: str = "Learned ICP",
    alpha: float = 0.05,
    value_weighted: bool = False,
    l2: float | None = None,
    analysis: Analysis | None = None,
    include_supported_attributes: bool = True,
) -> LearnResult:
    """Learn a draft ICP from closed deals (`won` bool + normalised account attributes)."""
    if analysis is None:
        analysis = analyze(deals, accounts, attributes=attributes, alpha=alpha)
    deals = _with_attributes(deals, accounts, analysis)
    overall = analysis.overall["win_rate"]
    evidence_text: dict[str, str] = {}
    notes: list[str] = []
    sig = [s for s in analysis.segments if s.significant]
    if not sig:
        notes.append(
            "No segment is statistically supported, so the learned ICP has no criteria: "
            "every account scores the same. Gather more deals or use interview evidence."
        )
        icp = ICP(name=name, description=" ".join(analysis.summary) or notes[0], criteria=[])
        return LearnResult(icp=icp, analysis=analysis, significant=False, notes=notes)

    # 1. Near-zero segments become disqualifiers (negative ICP).
    disqualifiers: list[Disqualifier] = []
    kept: list[SegmentStat] = []
    for s in sig:
        d = _disqualifier(s) if s.ci_high < DISQUALIFY_RATIO * overall else None
        if d is not None:
            disqualifiers.append(d.model_copy(update={"evidence": [s.id]}))
            evidence_text[s.id] = _stat_text(s, overall)
        else:
            kept.append(s)
    # An attribute with a significant segment is supported as a whole: its other tested values
    # join the regression too, where the ridge penalty shrinks the weakly measured ones to ~0
    # points. Attributes without any significant segment never contribute.
    supported = {s.segment.attribute for s in sig}
    disq_ids = {d.evidence[0] for d in disqualifiers}
    kept_ids = {s.id for s in kept}
    if include_supported_attributes:
        kept += [
            s
            for s in analysis.segments
            if s.segment.attribute in supported
            and getattr(s, "tested", True)
            and s.id not in kept_ids
            and s.id not in disq_ids
        ]
    won = outcomes(deals)
    active = np.ones(len(deals), dtype=bool)
    for d in disqualifiers:
        seg_stat = next(s for s in sig if s.id == d.evidence[0])
        active &= ~seg_stat.segment.mask(deals)

    # 2. One regression over all supported segments.
    masks = (
        np.column_stack([s.segment.mask(deals)[active] for s in kept])
        if kept
        else np.zeros((active.sum(), 0))
    )
    weight = np.ones(int(active.sum()))
    if value_weighted and "amount" in deals.columns:
        amount = pd.to_numeric(deals["amount"], errors="coerce").to_numpy(dtype=np.float64)[active]
        typical = np.nanmedian(amount[won[active]]) if won[active].any() else np.nan
        if np.isfinite(typical) and typical > 0:
            weight = np.where(won[active], np.nan_to_num(amount / typical, nan=1.0).clip(0.1, 10.0), 1.0)
    masks = masks.astype(bool)
    y = won[active].astype(np.float64)
    if l2 is None:
        l2 = choose_l2(masks, y, weight)
        notes_l2 = f"ridge penalty {l2:g} chosen by {CV_FOLDS}-fold cross-validation"
    else:
        notes_l2 = f"ridge penalty {l2:g}"
    x, wins, totals = _aggregate(masks, y, weight)
    _, coefs = fit_logistic(x, wins, totals, l2=l2)
    coef_by_id = {s.id: float(c) for s, c in zip(kept, coefs, strict=True)}

    # 3. Per attribute: shift log-odds so the weakest level earns 0.
    by_attr: dict[str, list[SegmentStat]] = {}
    for s in kept:
        by_attr.setdefault(s.segment.attribute, []).append(s)
    all_bins: dict[str, list[SegmentStat]] = {}
    for s in analysis.segments:
        if s.segment.kind == "bin":
            all_bins.setdefault(s.segment.attribute, []).append(s)

    levels: list[tuple[list[Condition], float, list[str], str]] = []  # conditions, raw points, evidence, why
    attr_ranges: list[float] = []
    for attr, stats in by_attr.items():
        kind = stats[0].segment.kind
        if kind == "contains":
            # Items are independent flags: one that helps earns points when present, one that
            # hurts earns its points when absent (`not_in` on a list means "has none of").
            for s in stats:
                coef = coef_by_id[s.id]
                evidence_text[s.id] = _stat_text(s, overall)
                if coef > 0:
                    levels.append((_condition_for(s.segment), coef, [s.id], _stat_text(s, overall)))
                elif coef < 0:
                    lacks = [Condition(attribute=attr, op="not_in", values=[_value_of(s.segment)])]
                    levels.append((lacks, -coef, [s.id], _stat_text(s, overall)))
            attr_ranges.append(sum(abs(coef_by_id[s.id]) for s in stats))
            continue
        floor = min(0.0, *(coef_by_id[s.id] for s in stats))
        top = max(0.0, *(coef_by_id[s.id] for s in stats)) - floor
        attr_ranges.append(top)
        for s in stats:
            evidence_text[s.id] = _stat_text(s, overall)
            levels.append(
                (_condition_for(s.segment), coef_by_id[s.id] - floor, [s.id], _stat_text(s, overall))
            )
        if floor < 0:
            rest_why = f"{attr}: values with no significant difference from the overall win rate"
            if kind == "value":
                # Disqualified values are named too: the remaining values' level must not include them.
                named: list[Any] = [s.segment.value for s in stats] + [
                    s.segment.value for s in sig if s.id in disq_ids and s.segment.attribute == attr
                ]
                rest_id, rest_text = _other_values(attr, named, deals, won, overall)
                evidence_text[rest_id] = rest_text
                levels.append(
                    ([Condition(attribute=attr, op="not_in", values=named)], -floor, [rest_id], rest_text)
                )
            else:
                sig_ids = {s.id for s in stats} | disq_ids  # a disqualified bin earns no points
                for b in all_bins.get(attr, []):
                    if b.id not in sig_ids:
                        levels.append((_condition_for(b.segment), -floor, [b.id], rest_why))
                        evidence_text[b.id] = _stat_text(b, overall)

    total = sum(attr_ranges)
    scale = TOTAL_POINTS / total if total > 0 else 0.0
    criteria = _merge_levels(levels, scale)
    if not criteria:
        notes.append("The supported segments carry too little weight to earn a point after rounding.")
    icp = ICP(
        name=name,
        description=" ".join(analysis.summary[:3]) or None,
        criteria=criteria,
        disqualifiers=disqualifiers,
        evidence=dict(sorted(evidence_text.items())),
    )
    icp = icp.model_copy(update={"tiers": _tiers_from_scores(icp, deals[active])})
    icp = ICP.model_validate(icp.model_dump())
    return LearnResult(
        icp=icp,
        analysis=analysis,
        significant=True,
        notes=notes,
        coefficients={k: round(v, 6) for k, v in coef_by_id.items()},
        penalty=notes_l2,
    )


def _merge_levels(
    levels: list[tuple[list[Condition], float, list[str], str]], scale: float
) -> list[Criterion]:
    """Round to whole points; equal-valued `eq` levels of one attribute merge into one `in`."""
    merged: dict[tuple[str, int], dict[str, Any]] = {}
    out: list[Criterion] = []
    order: list[tuple[str, Any]] = []
    for conds, raw, evidence, why in levels:
        pts = round(raw * scale)
        if pts <= 0:
            continue
        c = conds[0]
        if len(conds) == 1 and c.op == "eq":
            key = (c.attribute, pts)
            if key not in merged:
                merged[key] = {"values": [], "evidence": [], "why": []}
                order.append(("merged", key))
            merged[key]["values"] += c.values
            merged[key]["evidence"] += evidence
            merged[key]["why"].append(why)
        else:
            order.append(("single", _criterion(conds, pts, evidence, why)))
    for kind, item in order:
        if kind == "single":
            out.append(item)
            continue
        attr, pts = item
        m = merged[item]
        values = m["values"]
        op: Op = "eq" if len(values) == 1 else "in"
        out.append(
            Criterion(
                attribute=attr,
                op=op,
                values=values,
                points=pts,
                evidence=m["evidence"],
                rationale="; ".join(m["why"]),
            )
        )
    out.sort(key=lambda c: (-c.points, c.describe()))
    return out


def _tiers_from_scores(icp: ICP, deals: pd.DataFrame) -> dict[str, int | float]:
    """A: the top fifth of historical deals, B: the next two fifths (whole-number thresholds)."""
    if not icp.criteria or len(deals) == 0:
        return dict(DEFAULT_TIERS)
    scores = score_batch(deals, icp).fit_score
    a = math.floor(float(np.quantile(scores, 0.8)))
    b = math.floor(float(np.quantile(scores, 0.4)))
    a = min(max(a, 2), 100)
    b = min(max(b, 1), a - 1)
    return {"A": a, "B": b}
