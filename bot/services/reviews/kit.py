"""The figures a review reminder carries: what happened since the last review, and what drifted.

"Since the last review" starts when an owner last marked a review done, else when the active
ICP was approved, else at the beginning of the data. New deals are closed deals whose close date
is on or after that day. Every figure is computed by the engine from the SQL store:

- deals won and lost per tier (the active ICP scoring the new deals' accounts);
- misses: won deals whose account falls in the lowest tier (wins outside the ICP);
- ICP accounts that churned: customers flagged churned since then whose account scores above the
  lowest tier (an account with too little data for a tier, "?", is not counted);
- interviews completed since then;
- drift: the active version's backtest on the new deals against its backtest at approval
  (``IcpVersion.backtest``): AUC, overall and per-tier win rates, then and now;
- adoption: score cards given per tier (``score.run`` in the audit log) beside the deals per tier;
- a re-learned proposal (bot/services/reviews/proposal.py): what ``learn`` on every closed deal
  would change, and both versions' backtests on those deals;
- check-ins: how many stakeholders the current review round asked, and how many answered (counts
  only: the answers themselves are for owners, in the decision modal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from bot.services.crm.frames import load_crm_frames
from bot.services.reviews.checkins import CheckinRound, round_figures
from bot.services.reviews.proposal import Proposal, relearned_proposal
from bot.services.scoring.usage import scores_by_tier
from bot.store.db import Engine, Session, read_scope
from bot.store.models import IcpVersion
from bot.store.models.icp import DEFAULT_SEGMENT
from bot.store.repo.crm import list_churned_health
from bot.store.repo.icp import get_active_icp
from bot.store.repo.interviews import count_completed_interviews
from bot.store.repo.workspaces import get_workspace
from icp_engine.backtest import Backtest, backtest
from icp_engine.batch import score_batch
from icp_engine.model import FALLBACK_TIER, ICP, NO_TIER, ICPError

MAX_LISTED = 10  # misses and churned accounts named in the message; the rest are counted


@dataclass(frozen=True, slots=True)
class TierFigures:
    """Closed deals in one tier: won and lost."""

    tier: str
    label: str
    won: int
    lost: int

    @property
    def n(self) -> int:
        return self.won + self.lost

    @property
    def win_rate(self) -> float | None:
        return self.won / self.n if self.n else None


@dataclass(frozen=True, slots=True)
class Miss:
    """A won deal whose account the ICP puts in the lowest tier."""

    deal_id: str
    account_id: str
    account_name: str
    amount: float | None
    score: float


@dataclass(frozen=True, slots=True)
class ChurnedAccount:
    account_id: str
    account_name: str
    tier: str
    churned_on: date | None


@dataclass(frozen=True, slots=True)
class Drift:
    """The active version's backtest at approval (``then``) and on the new deals (``now``)."""

    auc_then: float | None
    auc_now: float | None
    win_rate_then: float | None
    win_rate_now: float | None
    n_then: int
    n_now: int

    @property
    def auc_change(self) -> float | None:
        if self.auc_then is None or self.auc_now is None:
            return None
        return self.auc_now - self.auc_then


@dataclass(frozen=True, slots=True)
class ReviewKit:
    """Everything the review kit message and chart show."""

    team_id: str
    segment: str
    now: datetime
    since: datetime | None
    icp_version: int | None = None
    icp_name: str | None = None
    icp_problem: str | None = None
    tiers_now: tuple[TierFigures, ...] = ()
    tiers_then: tuple[TierFigures, ...] = ()
    misses: tuple[Miss, ...] = ()
    misses_total: int = 0
    churned: tuple[ChurnedAccount, ...] = ()
    churned_total: int = 0
    new_interviews: int = 0
    new_deals: int = 0
    drift: Drift | None = None
    proposal: Proposal | None = None  # the ICP re-learned on every closed deal, against the active one
    scores_run: tuple[tuple[str, int], ...] = ()  # score cards given since, per tier
    checkins: CheckinRound = field(default_factory=CheckinRound)  # this round's check-ins: asked, answered

    @property
    def won_now(self) -> int:
        return sum(t.won for t in self.tiers_now)

    @property
    def lost_now(self) -> int:
        return sum(t.lost for t in self.tiers_now)


def review_since(active: IcpVersion | None, last_reviewed_at: datetime | None) -> datetime | None:
    """Where "since the last review" starts: the last review, else the approval, else None (all)."""
    if last_reviewed_at is not None:
        return last_reviewed_at
    if active is not None:
        return active.approved_at
    return None


def _on_or_after(value: Any, since: date) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    if isinstance(value, datetime):
        return value.date() >= since
    if isinstance(value, date):
        return value >= since
    try:
        return pd.Timestamp(value).date() >= since
    except (ValueError, TypeError):
        return False


def new_deals(deals: pd.DataFrame, since: datetime | None) -> pd.DataFrame:
    """Closed deals whose close date is on or after ``since``'s day (all of them without ``since``)."""
    if since is None or deals.empty:
        return deals.reset_index(drop=True)
    day = since.date()
    mask = deals["close_date"].map(lambda v: _on_or_after(v, day)).astype(bool)
    return deals[mask].reset_index(drop=True)


def tiers_from_backtest(bt: Backtest) -> tuple[TierFigures, ...]:
    return tuple(TierFigures(t.tier, t.label, t.wins, t.n - t.wins) for t in bt.tiers)


def tiers_from_stored(stored: dict[str, Any] | None) -> tuple[TierFigures, ...]:
    """The per-tier figures of a stored backtest (``Backtest.to_dict()``); () if absent or unreadable."""
    if not isinstance(stored, dict) or not isinstance(stored.get("tiers"), list):
        return ()
    out = []
    for item in stored["tiers"]:
        try:
            n, wins = int(item["n"]), int(item["wins"])
            out.append(TierFigures(str(item["tier"]), str(item.get("label") or item["tier"]), wins, n - wins))
        except (KeyError, TypeError, ValueError):
            return ()
    return tuple(out)


def _number(stored: dict[str, Any] | None, key: str) -> float | None:
    if not isinstance(stored, dict):
        return None
    try:
        value = float(stored[key])
    except (KeyError, TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def drift_of(stored: dict[str, Any] | None, now: Backtest | None) -> Drift | None:
    """Then (the stored approval backtest) against now (the backtest on new deals)."""
    if stored is None and now is None:
        return None
    n_then = _number(stored, "n")
    return Drift(
        auc_then=_number(stored, "auc"),
        auc_now=now.auc if now is not None and now.n else None,
        win_rate_then=_number(stored, "win_rate"),
        win_rate_now=now.win_rate if now is not None and now.n else None,
        n_then=int(n_then) if n_then is not None else 0,
        n_now=now.n if now is not None else 0,
    )


def _amount(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _misses(deals: pd.DataFrame, icp: ICP, names: dict[str, str]) -> list[Miss]:
    if deals.empty:
        return []
    scores = score_batch(deals, icp)
    out = []
    for i, row in enumerate(deals.itertuples(index=False)):
        if bool(row.won) and scores.tier[i] == FALLBACK_TIER:
            account = str(row.account_id)
            out.append(
                Miss(
                    str(row.deal_id),
                    account,
                    names.get(account, account),
                    _amount(row.amount),
                    float(scores.score[i]),
                )
            )
    return sorted(out, key=lambda m: (-(m.amount or 0.0), m.deal_id))


def _churned(
    session: Session, workspace_id: int, accounts: pd.DataFrame, icp: ICP | None, since: datetime | None
) -> list[ChurnedAccount]:
    rows = list_churned_health(session, workspace_id=workspace_id)
    recent = [
        r
        for r in rows
        if since is None
        or (r.churned_on is not None and r.churned_on >= since.date())
        or (r.churned_on is None and r.updated_at >= since)
    ]
    if not recent or icp is None:
        return []
    ids = {r.crm_id: r for r in recent}
    subset = accounts[accounts["account_id"].isin(list(ids))].reset_index(drop=True)
    if subset.empty:
        return []
    scores = score_batch(subset, icp)
    out = []
    for i, row in enumerate(subset.itertuples(index=False)):
        if scores.tier[i] not in (FALLBACK_TIER, NO_TIER):  # "?" is too little data, not an ICP fit
            health = ids[str(row.account_id)]
            out.append(
                ChurnedAccount(str(row.account_id), str(row.name), str(scores.tier[i]), health.churned_on)
            )
    return sorted(out, key=lambda c: (c.tier, c.account_name))


def build_review_kit(
    session: Session,
    *,
    workspace_id: int,
    team_id: str,
    now: datetime,
    last_reviewed_at: datetime | None,
    segment: str = DEFAULT_SEGMENT,
) -> ReviewKit:
    """The review kit's figures for one workspace and segment, read in ``session``."""
    active = get_active_icp(session=session, workspace_id=workspace_id, segment=segment)
    since = review_since(active, last_reviewed_at)
    icp: ICP | None = None
    problem = None
    if active is not None:
        try:
            icp = ICP.from_dict(active.icp_json, source=f"ICP v{active.version}")
        except ICPError as exc:
            problem = str(exc).splitlines()[0]
    crm = load_crm_frames(session=session, workspace_id=workspace_id)
    fresh = new_deals(crm.deals, since)
    names = {str(a): str(n) for a, n in zip(crm.accounts["account_id"], crm.accounts["name"], strict=True)}
    stored = active.backtest if active is not None else None
    if icp is not None:
        bt = backtest(icp, fresh)
        tiers_now = tiers_from_backtest(bt)
        misses = _misses(fresh, icp, names)
        drift = drift_of(stored, bt)
    else:
        bt = None
        won = int(fresh["won"].astype(bool).sum()) if not fresh.empty else 0
        tiers_now = (TierFigures("all", "All deals", won, len(fresh) - won),) if len(fresh) else ()
        misses, drift = [], None
    churned = _churned(session, workspace_id, crm.accounts, icp, since)
    return ReviewKit(
        team_id=team_id,
        segment=segment,
        now=now,
        since=since,
        icp_version=active.version if active is not None else None,
        icp_name=active.name if active is not None else None,
        icp_problem=problem,
        tiers_now=tiers_now,
        tiers_then=tiers_from_stored(stored),
        misses=tuple(misses[:MAX_LISTED]),
        misses_total=len(misses),
        churned=tuple(churned[:MAX_LISTED]),
        churned_total=len(churned),
        new_interviews=count_completed_interviews(session, workspace_id=workspace_id, since=since),
        new_deals=len(fresh),
        drift=drift,
        proposal=relearned_proposal(icp, crm) if icp is not None else None,
        scores_run=tuple(sorted(scores_by_tier(session, workspace_id=workspace_id, since=since).items())),
        checkins=round_figures(session, workspace_id=workspace_id, segment=segment),
    )


def load_review_kit(
    engine: Engine,
    *,
    workspace_id: int,
    team_id: str,
    now: datetime,
    last_reviewed_at: datetime | None,
    segment: str = DEFAULT_SEGMENT,
) -> ReviewKit:
    """``build_review_kit`` in a read-only unit of work."""
    with read_scope(engine) as session:
        return build_review_kit(
            session,
            workspace_id=workspace_id,
            team_id=team_id,
            now=now,
            last_reviewed_at=last_reviewed_at,
            segment=segment,
        )


def load_team_review_kit(
    engine: Engine,
    *,
    team_id: str,
    now: datetime,
    last_reviewed_at: datetime | None,
    segment: str = DEFAULT_SEGMENT,
) -> ReviewKit | None:
    """``build_review_kit`` for a Slack team, read-only; None when the bot has not seen the team."""
    with read_scope(engine) as session:
        workspace = get_workspace(session=session, slack_team_id=team_id)
        if workspace is None or workspace.id is None:
            return None
        return build_review_kit(
            session,
            workspace_id=workspace.id,
            team_id=team_id,
            now=now,
            last_reviewed_at=last_reviewed_at,
            segment=segment,
        )
