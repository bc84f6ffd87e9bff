"""How well an ICP separates won from lost deals on history, before anyone approves it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from icp_engine.batch import score_batch
from icp_engine.model import FALLBACK_TIER, ICP, NO_TIER, Characteristic, Criterion
from icp_engine.stats import _flags as parse_flags
from icp_engine.stats import wilson_interval


def roc_auc(scores: np.ndarray, won: np.ndarray) -> float:
    """Probability a random win outscores a random loss (ties count half); 0.5 without both classes."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    y = np.asarray(won, dtype=bool).reshape(-1)
    if len(s) != len(y):
        raise ValueError(f"roc_auc: {len(s)} scores but {len(y)} outcomes")
    if np.isnan(s).any():
        raise ValueError(f"roc_auc: score {int(np.flatnonzero(np.isnan(s))[0]) + 1} is not a number")
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return 0.5
    ranks = pd.Series(s).rank(method="average").to_numpy()
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def weighted_auc(scores: np.ndarray, won: np.ndarray, weight: np.ndarray) -> float:
    """AUC where each deal counts with its weight (value target: a won dollar, not a won deal)."""
    if np.all(weight == 1.0):
        return roc_auc(scores, won)
    order = np.argsort(scores, kind="stable")
    s, y, w = scores[order], won[order], weight[order]
    pos_w = np.where(y, w, 0.0)
    neg_w = np.where(y, 0.0, w)
    total_pos, total_neg = pos_w.sum(), neg_w.sum()
    if total_pos <= 0 or total_neg <= 0:
        return 0.5
    _, start = np.unique(s, return_index=True)
    pos_by = np.add.reduceat(pos_w, start)
    neg_by = np.add.reduceat(neg_w, start)
    neg_below = np.concatenate([[0.0], np.cumsum(neg_by)[:-1]])
    return float((pos_by * (neg_below + 0.5 * neg_by)).sum() / (total_pos * total_neg))


def outcomes(deals: pd.DataFrame, outcome: str = "won") -> np.ndarray:
    """The outcome column as booleans, read as `analyze` reads it (true/false, yes/no, won/lost, 1/0).

    A plain cast would call the text "false" (and "lost") a win; an unreadable or missing outcome
    is an error naming the row instead.
    """
    if outcome not in deals.columns:
        raise ValueError(f"no outcome column '{outcome}' in the deals table")
    col = deals[outcome]
    if col.dtype == bool:
        return col.to_numpy()
    return parse_flags(deals, outcome, "deals", allow_missing=False).astype(bool)


@dataclass(frozen=True)
class TierStat:
    tier: str
    label: str
    n: int
    wins: int
    win_rate: float
    ci_low: float
    ci_high: float
    share: float
    won_value: float | None
    mean_won_value: float | None


@dataclass(frozen=True)
class Backtest:
    icp_name: str
    n: int
    wins: int
    win_rate: float
    auc: float
    tiers: list[TierStat]
    top_tier: str
    top_tier_lift: float
    top_tier_share: float
    top_tier_win_capture: float
    coverage: float
    mean_confidence: float
    target: str = "win"
    metric: str = "AUC (won vs lost)"
    metric_value: float = 0.5
    characteristics: list[dict[str, object]] | None = None

    def to_dict(self) -> dict[str, object]:
        data = {k: _rounded(v) for k, v in asdict(self).items()}
        if data.get("characteristics") is None:
            data.pop("characteristics", None)
        return data


def _rounded(obj: object) -> object:
    if isinstance(obj, float):
        return round(obj, 4)
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v) for v in obj]
    return obj


def backtest(
    icp: ICP, deals: pd.DataFrame, *, outcome: str = "won", value: str | None = "amount"
) -> Backtest:
    """Score closed deals by their account attributes and compare tiers with outcomes.

    `deals` has one row per closed deal: a boolean `outcome` column and the account's
    normalised attributes. `value` (if present) is summed over won deals per tier. Without both
    wins and losses the AUC is 0.5 (nothing to separate); an empty table gives n = 0.
    """
    won = outcomes(deals, outcome)
    result = score_batch(deals, icp)
    n = len(deals)
    wins = int(won.sum())
    overall = wins / n if n else 0.0
    amounts = None
    if value and value in deals.columns:
        amounts = pd.to_numeric(deals[value], errors="coerce").to_numpy(dtype=np.float64)

    names = [name for name, _ in icp.ordered_tiers()] + [FALLBACK_TIER]
    if (result.tier == NO_TIER).any():
        names.append(NO_TIER)
    tiers: list[TierStat] = []
    for name in names:
        mask = result.tier == name
        k = int(mask.sum())
        w = int((won & mask).sum())
        lo, hi = wilson_interval(w, k)
        won_value = mean_value = None
        if amounts is not None:
            vals = amounts[mask & won]
            vals = vals[~np.isnan(vals)]
            won_value = float(vals.sum()) if len(vals) else 0.0
            mean_value = float(vals.mean()) if len(vals) else None
        tiers.append(
            TierStat(
                tier=name,
                label=icp.tier_label(name),
                n=k,
                wins=w,
                win_rate=w / k if k else 0.0,
                ci_low=lo,
                ci_high=hi,
                share=k / n if n else 0.0,
                won_value=won_value,
                mean_won_value=mean_value,
            )
        )
    top = next((t for t in tiers if t.n > 0), tiers[-1])
    auc = roc_auc(result.score, won)
    metric, metric_value = "AUC (won vs lost)", auc
    if icp.target == "value" and amounts is not None:
        weight = np.where(won, np.nan_to_num(amounts, nan=0.0).clip(0.0, None), 1.0)
        metric, metric_value = (
            "value-weighted AUC (won value vs lost deals)",
            weighted_auc(result.score, won, weight),
        )
    elif icp.target == "retention":
        metric = "AUC (kept vs churned customers)"
    return Backtest(
        icp_name=icp.name,
        n=n,
        wins=wins,
        win_rate=overall,
        auc=auc,
        tiers=tiers,
        top_tier=top.tier,
        top_tier_lift=(top.win_rate / overall) if overall else 0.0,
        top_tier_share=top.share,
        top_tier_win_capture=(top.wins / wins) if wins else 0.0,
        coverage=float((result.confidence >= icp.min_confidence).mean()) if n else 0.0,
        mean_confidence=float(result.confidence.mean()) if n else 0.0,
        target=icp.target,
        metric=metric,
        metric_value=metric_value,
        characteristics=characteristic_stats(icp, deals, won),
    )


def bin_mask(deals: pd.DataFrame, c: Criterion) -> np.ndarray:
    """Which rows one bin matches (scored exactly as the engine scores it)."""
    probe = ICP(name="one bin", characteristics=[Characteristic(attributes=list(c.attributes), bins=[c])])
    return np.asarray(score_batch(deals, probe).status[:, 0] == 1)


def characteristic_stats(icp: ICP, deals: pd.DataFrame, won: np.ndarray) -> list[dict[str, object]]:
    """Each characteristic with its bins: points, and how the deals in the bin did (n, win rate, 95% CI)."""
    out: list[dict[str, object]] = []
    for ch in icp.characteristics:
        bins = []
        for b in ch.bins:
            m = bin_mask(deals, b)
            k, w = int(m.sum()), int(won[m].sum())
            lo, hi = wilson_interval(w, k)
            bins.append(
                {
                    "bin": b.describe(),
                    "points": b.points,
                    "deals": k,
                    "wins": w,
                    "win_rate": round(w / k, 4) if k else None,
                    "ci_low": round(lo, 4),
                    "ci_high": round(hi, 4),
                    "evidence": [{"id": e, "text": icp.evidence.get(e)} for e in b.evidence],
                }
            )
        out.append({"name": ch.name, "attributes": list(ch.attributes), "weight": ch.weight, "bins": bins})
    return out
