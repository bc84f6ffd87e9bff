"""The three learning targets: win rate, expected won value and retention, each on data where the
answer is known by construction, and the backtest reporting the metric that matches the target."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from icp_engine.backtest import backtest
from icp_engine.learn import LearnError, learn
from icp_engine.model import ICP


def _points(icp: ICP, attribute: str) -> dict[str, int]:
    """Points per value of one attribute's characteristic (values in no bin are absent: 0)."""
    out: dict[str, int] = {}
    for ch in icp.characteristics:
        if ch.attributes == [attribute]:
            for b in ch.bins:
                for v in b.values:
                    out[str(v)] = int(b.points)
    return out


def _deals(seed: int = 3) -> pd.DataFrame:
    """Three industries: 'volume' wins often with small deals, 'whale' rarely with huge ones."""
    rng = np.random.default_rng(seed)
    spec = {"volume": (0.45, 8_000.0), "whale": (0.15, 120_000.0), "steady": (0.30, 20_000.0)}
    rows = []
    for i in range(3_600):
        industry = ("volume", "whale", "steady")[i % 3]
        rate, amount = spec[industry]
        won = bool(rng.random() < rate)
        rows.append(
            {
                "account_id": f"a{i}",
                "industry": industry,
                "won": won,
                "amount": float(amount * rng.uniform(0.8, 1.2)) if won else 0.0,
            }
        )
    return pd.DataFrame(rows)


def test_win_and_value_targets_rank_the_same_segments_in_opposite_order() -> None:
    deals = _deals()
    by_win = learn(deals, attributes=["industry"], target="win").icp
    by_value = learn(deals, attributes=["industry"], target="value").icp
    win_pts, value_pts = _points(by_win, "industry"), _points(by_value, "industry")
    assert by_win.target == "win" and by_value.target == "value"
    assert win_pts.get("volume", 0) > 0 > win_pts.get("whale", 0)
    assert value_pts.get("whale", 0) > 0 > value_pts.get("volume", 0)
    # Expected won value is not a win probability: only the win target is calibrated.
    assert by_win.calibration is not None and by_value.calibration is None


def test_value_weighted_is_the_value_target() -> None:
    deals = _deals()
    assert (
        learn(deals, attributes=["industry"], value_weighted=True).icp
        == learn(deals, attributes=["industry"], target="value").icp
    )


def test_value_target_needs_amounts() -> None:
    with pytest.raises(LearnError, match="amount"):
        learn(_deals().drop(columns=["amount"]), attributes=["industry"], target="value")


def _customers(seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    churn = {"agency": 0.55, "saas": 0.12, "retail": 0.30}
    rows = []
    for i in range(2_400):
        industry = ("agency", "saas", "retail")[i % 3]
        rows.append(
            {"account_id": f"c{i}", "industry": industry, "churned": bool(rng.random() < churn[industry])}
        )
    return pd.DataFrame(rows)


def test_retention_target_learns_kept_against_churned_customers() -> None:
    customers = _customers()
    no_deals = pd.DataFrame({"account_id": [], "won": []})
    result = learn(no_deals, customers, attributes=["industry"], target="retention")
    pts = _points(result.icp, "industry")
    assert result.icp.target == "retention"
    assert pts.get("saas", 0) > 0 > pts.get("agency", 0)
    assert result.icp.calibration is not None
    assert result.icp.calibration.base_rate == pytest.approx(0.67, abs=0.08)  # about 2 in 3 are kept


def test_retention_target_without_health_data_is_a_clear_error() -> None:
    with pytest.raises(LearnError, match="--health"):
        learn(_deals(), None, attributes=["industry"], target="retention")
    blank = _customers().assign(churned=None)
    with pytest.raises(LearnError, match="no customer has a churned value"):
        learn(_deals(), blank, attributes=["industry"], target="retention")


def test_backtest_reports_the_metric_of_the_icp_target() -> None:
    deals = _deals()
    train, test = deals.iloc[:2_400].reset_index(drop=True), deals.iloc[2_400:].reset_index(drop=True)
    by_win = backtest(learn(train, attributes=["industry"]).icp, test)
    by_value = backtest(learn(train, attributes=["industry"], target="value").icp, test)
    assert by_win.target == "win" and by_win.metric_value == pytest.approx(by_win.auc)
    assert by_value.target == "value" and by_value.metric.startswith("value-weighted AUC")
    # Ranking whales first loses on plain AUC but wins on value-weighted AUC.
    assert by_value.auc < 0.5 < by_value.metric_value
    assert by_value.metric_value > 0.6
    chars = by_value.to_dict()["characteristics"]
    assert isinstance(chars, list) and chars[0]["attributes"] == ["industry"]
    assert {"bin", "points", "deals", "win_rate", "ci_low", "ci_high", "evidence"} <= set(chars[0]["bins"][0])


def test_too_few_characteristics_is_refused() -> None:
    with pytest.raises(LearnError, match="at least 1"):
        learn(_deals(), attributes=["industry"], max_characteristics=0)
