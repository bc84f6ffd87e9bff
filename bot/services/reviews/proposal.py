"""The review's re-learned proposal: the engine's `learn` on the deals closed so far, what it
changes against the active version (points per characteristic) and both backtests on those deals.

The proposal's backtest is in-sample (learned and measured on the same deals), so it flatters
the proposal; the kit says so. None when there are too few closed deals to learn from.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from icp_engine.backtest import backtest
from icp_engine.crm import CrmData
from icp_engine.diff import change_lines, diff_icps
from icp_engine.learn import LearnError, learn
from icp_engine.model import ICP, ICPError

MIN_DEALS = 30  # fewer closed deals than this and a re-learned ICP says more about noise than fit
MAX_CHANGES = 8


@dataclass(frozen=True, slots=True)
class BacktestFigures:
    auc: float
    top_tier: str
    top_tier_win_rate: float | None
    win_rate: float
    n: int


@dataclass(frozen=True, slots=True)
class Proposal:
    """What re-learning on today's deals would change, and how both versions score those deals."""

    summary: str  # "2 criteria added, 1 re-weighted"
    changes: tuple[str, ...]  # at most MAX_CHANGES lines, e.g. "Re-weighted: industry in software: +25 → +30"
    changes_total: int
    active: BacktestFigures
    proposed: BacktestFigures


def _figures(icp: ICP, closed: pd.DataFrame) -> BacktestFigures:
    bt = backtest(icp, closed)
    top = next((t for t in bt.tiers if t.tier == bt.top_tier), None)
    return BacktestFigures(
        auc=bt.auc,
        top_tier=bt.top_tier,
        top_tier_win_rate=top.win_rate if top is not None and top.n else None,
        win_rate=bt.win_rate,
        n=bt.n,
    )


def relearned_proposal(active: ICP, crm: CrmData) -> Proposal | None:
    """The proposal for ``active``; None with fewer than MIN_DEALS closed deals or when learning fails."""
    closed = crm.closed
    if len(closed) < MIN_DEALS:
        return None
    try:
        proposed = learn(closed, crm.accounts, attributes=crm.attributes, name=active.name).icp
    except (LearnError, ICPError, ValueError):
        return None
    diff = diff_icps(active, proposed)
    lines = [f"{group}: {line}" for group, line in change_lines(diff)]
    return Proposal(
        summary=diff.summary(),
        changes=tuple(lines[:MAX_CHANGES]),
        changes_total=len(lines),
        active=_figures(active, closed),
        proposed=_figures(proposed, closed),
    )
