"""Backtest: ROC AUC against hand-computed cases and scikit-learn, the tier table counted by hand,
top-tier lift, coverage, and what degenerate or malformed outcome columns give."""

from __future__ import annotations

import json
import math
from random import Random
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from icp_engine.backtest import backtest, outcomes, roc_auc
from icp_engine.batch import score_batch
from icp_engine.model import ICP
from icp_engine.stats import wilson_interval

# --- roc_auc ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "won", "expected"),
    [
        ([1, 2, 3, 4], [0, 0, 1, 1], 1.0),  # every win above every loss
        ([4, 3, 2, 1], [0, 0, 1, 1], 0.0),  # every win below every loss
        ([1, 2, 3, 4], [0, 1, 0, 1], 0.75),  # wins 2, 4 vs losses 1, 3: 3 of 4 pairs ordered
        ([1, 1, 2, 2], [0, 1, 0, 1], 0.5),  # pairs: tie, lower, higher, tie = (0.5 + 0 + 1 + 0.5) / 4
        ([3, 1, 2, 2], [1, 0, 1, 0], 0.875),  # 3>1, 3>2, 2>1, 2=2 → 3.5 / 4
        ([5, 5, 5], [1, 0, 0], 0.5),  # all tied
        ([0.1, 0.9, 0.4, 0.4, 0.8], [0, 1, 1, 0, 0], 4.5 / 6),  # 0.9 beats all 3; 0.4 beats 0.1, ties 0.4
    ],
)
def test_roc_auc_hand_computed(scores: list[float], won: list[int], expected: float) -> None:
    assert roc_auc(np.array(scores, dtype=float), np.array(won, dtype=bool)) == pytest.approx(expected)


@pytest.mark.parametrize("won", [[True, True, True], [False, False], []])
def test_roc_auc_without_both_classes_is_one_half(won: list[bool]) -> None:
    assert roc_auc(np.arange(len(won), dtype=float), np.array(won, dtype=bool)) == 0.5


def test_roc_auc_rejects_mismatched_lengths_and_nan() -> None:
    with pytest.raises(ValueError, match="3 scores but 2 outcomes"):
        roc_auc(np.array([1.0, 2.0, 3.0]), np.array([True, False]))
    with pytest.raises(ValueError, match="score 2 is not a number"):
        roc_auc(np.array([1.0, np.nan, 3.0]), np.array([True, False, True]))


scores_and_outcomes = st.integers(2, 60).flatmap(
    lambda n: st.tuples(
        st.lists(
            st.one_of(st.integers(0, 4).map(float), st.floats(-1e6, 1e6, allow_nan=False)),
            min_size=n,
            max_size=n,
        ),
        st.lists(st.booleans(), min_size=n, max_size=n).filter(lambda w: 0 < sum(w) < len(w)),
    )
)


@settings(max_examples=60, deadline=None)
@given(scores_and_outcomes)
def test_roc_auc_matches_scikit_learn_with_ties(data: tuple[list[float], list[bool]]) -> None:
    scores, won = np.array(data[0]), np.array(data[1])
    assert roc_auc(scores, won) == pytest.approx(roc_auc_score(won, scores), abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(scores_and_outcomes, st.randoms(use_true_random=False))
def test_roc_auc_symmetries(data: tuple[list[float], list[bool]], rnd: Random) -> None:
    scores, won = np.array(data[0]), np.array(data[1])
    auc = roc_auc(scores, won)
    assert 0.0 <= auc <= 1.0
    assert roc_auc(-scores, won) == pytest.approx(1.0 - auc, abs=1e-12)
    assert roc_auc(scores, ~won) == pytest.approx(1.0 - auc, abs=1e-12)
    # a strictly increasing transform keeps every pair's order (and every tie)
    assert roc_auc(pd.Series(scores).rank(method="dense").to_numpy() ** 3, won) == pytest.approx(auc)
    order = np.array(rnd.sample(range(len(scores)), len(scores)))
    assert roc_auc(scores[order], won[order]) == pytest.approx(auc, abs=1e-12)


# --- the tier table on a hand-made history -----------------------------------------------------------

ICP_TWO = ICP.model_validate(
    {
        "name": "Two criteria",
        "characteristics": [
            {
                "attribute": "industry",
                "bins": [
                    {
                        "op": "eq",
                        "values": ["software"],
                        "points": 20,
                        "evidence": ["stat:industry=software"],
                    },
                    {"op": "eq", "values": ["media"], "points": -10},
                ],
            },
            {"attribute": "country", "bins": [{"op": "eq", "values": ["US"], "points": 10}]},
        ],
        "disqualifiers": [{"attribute": "employees", "op": "lt", "values": [20], "reason": "too small"}],
        "tiers": {"A": 70, "B": 55},
        "evidence": {"stat:industry=software": "software wins 3 of 4"},
    }
)

# points → score: software+US +30 → 73.9 (A), software +20 → 66.7 (B), US +10 → 58.6 (B),
# retail (no bin) 0 → 50 (C), media −10 → 41.4 (C)
HISTORY = pd.DataFrame(
    [
        # industry, country, employees, won, amount      tier
        ("software", "US", 500, True, 100.0),  # A
        ("software", "US", 500, True, 300.0),  # A
        ("software", "US", 500, False, 50.0),  # A
        ("software", "GB", 500, True, 200.0),  # B
        ("retail", "US", 500, False, 0.0),  # B
        ("retail", "US", 500, False, np.nan),  # B
        ("retail", "GB", 500, False, 10.0),  # C
        ("retail", "GB", 500, False, 0.0),  # C
        ("media", "DE", 500, True, 40.0),  # C (−10: below the average account)
        ("retail", "GB", 500, False, 0.0),  # C
    ],
    columns=["industry", "country", "employees", "won", "amount"],
)


def test_tier_table_counted_by_hand() -> None:
    bt = backtest(ICP_TWO, HISTORY)
    assert (bt.n, bt.wins, bt.win_rate) == (10, 4, 0.4)
    rows = {t.tier: t for t in bt.tiers}
    assert [t.tier for t in bt.tiers] == ["A", "B", "C"]
    assert [t.label for t in bt.tiers] == ["Best match", "Good fit", "Not a fit"]
    a, b, c = rows["A"], rows["B"], rows["C"]
    assert (a.n, a.wins, a.share, a.won_value, a.mean_won_value) == (3, 2, 0.3, 400.0, 200.0)
    assert a.win_rate == pytest.approx(2 / 3)
    # the NaN amount belongs to a lost deal, so B's won value is deal 4's alone
    assert (b.n, b.wins, b.share, b.won_value, b.mean_won_value) == (3, 1, 0.3, 200.0, 200.0)
    assert b.win_rate == pytest.approx(1 / 3)
    assert (c.n, c.wins, c.share, c.won_value, c.mean_won_value) == (4, 1, 0.4, 40.0, 40.0)
    assert c.win_rate == 0.25
    # Wilson 95% for 2 of 3, worked by hand: centre 0.5731, half-width 0.3654
    assert (a.ci_low, a.ci_high) == (pytest.approx(0.2077, abs=1e-4), pytest.approx(0.9385, abs=1e-4))
    for t in bt.tiers:
        assert (t.ci_low, t.ci_high) == wilson_interval(t.wins, t.n)


def test_top_tier_lift_share_capture_and_auc_by_hand() -> None:
    bt = backtest(ICP_TWO, HISTORY)
    assert bt.top_tier == "A"
    assert bt.top_tier_lift == pytest.approx((2 / 3) / 0.4)
    assert bt.top_tier_share == 0.3
    assert bt.top_tier_win_capture == 0.5  # 2 of the 4 wins
    # wins score 73.9, 73.9, 66.7, 41.4; losses 73.9, 58.6, 58.6, 50, 50, 50: (5.5 + 5.5 + 5 + 0) / 24
    assert bt.auc == pytest.approx(16 / 24)
    assert (bt.target, bt.metric, bt.metric_value) == ("win", "AUC (won vs lost)", bt.auc)
    assert bt.auc == pytest.approx(roc_auc_score(HISTORY["won"], score_batch(HISTORY, ICP_TWO).score))
    assert (bt.coverage, bt.mean_confidence) == (1.0, 1.0)
    assert bt.icp_name == "Two criteria"


def test_disqualified_deals_fall_to_the_fallback_tier() -> None:
    small = HISTORY.assign(employees=[5, 500, 500, 500, 500, 500, 500, 500, 500, 500])
    rows = {t.tier: t for t in backtest(ICP_TWO, small).tiers}
    assert (rows["A"].n, rows["A"].wins, rows["C"].n, rows["C"].wins) == (2, 1, 5, 2)


def test_coverage_is_the_share_of_deals_scored_on_at_least_half_the_points() -> None:
    deals = pd.DataFrame(
        {
            "industry": ["software", "software", None, None],
            "country": ["US", None, "US", None],
            "won": [True, False, True, False],
        }
    )
    bt = backtest(ICP_TWO, deals)
    # weights: industry 20, country 10. Confidence 1.0, 0.67, 0.33, 0.0: two of four reach 0.5
    assert bt.coverage == 0.5
    assert bt.mean_confidence == pytest.approx(0.5)
    # The other two have no tier ("?"): the table gets a row for them, after the fallback tier.
    assert [(t.tier, t.label, t.n, t.wins) for t in bt.tiers] == [
        ("A", "Best match", 1, 1),
        ("B", "Good fit", 1, 0),  # software, country unknown: +20 → 66.7 on 0.67 of the weight
        ("C", "Not a fit", 0, 0),
        ("?", "Not enough data", 2, 1),
    ]
    # Without an unplaced deal the "?" row is left out.
    assert [t.tier for t in backtest(ICP_TWO, HISTORY).tiers] == ["A", "B", "C"]
    # coverage follows the ICP's own threshold
    assert backtest(ICP_TWO.model_copy(update={"min_confidence": 0.3}), deals).coverage == 0.75


def test_characteristics_carry_each_bins_deals_and_evidence() -> None:
    chars = backtest(ICP_TWO, HISTORY).characteristics
    assert chars is not None
    assert [(c["name"], c["attributes"], c["weight"]) for c in chars] == [
        ("industry", ["industry"], 20.0),
        ("country", ["country"], 10.0),
    ]
    bins: list[dict[str, Any]] = chars[0]["bins"]  # type: ignore[assignment]
    software, media = bins
    assert (software["bin"], software["points"], software["deals"], software["wins"]) == (
        "industry = software",
        20,
        4,
        3,
    )
    assert software["win_rate"] == 0.75
    lo, hi = wilson_interval(3, 4)
    assert (software["ci_low"], software["ci_high"]) == (round(lo, 4), round(hi, 4))
    assert software["evidence"] == [{"id": "stat:industry=software", "text": "software wins 3 of 4"}]
    assert (media["deals"], media["wins"], media["win_rate"], media["evidence"]) == (1, 1, 1.0, [])
    us_bins: list[dict[str, Any]] = chars[1]["bins"]  # type: ignore[assignment]
    (us,) = us_bins
    assert (us["bin"], us["deals"], us["wins"]) == ("country = US", 5, 2)


def test_value_target_reports_the_value_weighted_auc() -> None:
    bt = backtest(ICP_TWO.model_copy(update={"target": "value"}), HISTORY)
    assert (bt.target, bt.metric) == ("value", "value-weighted AUC (won value vs lost deals)")
    # each won–lost pair weighs the win's amount: wins 100 and 300 at 73.9 (5.5 of 6 losses below),
    # 200 at 66.7 (5 of 6), 40 at 41.4 (0 of 6) → (100·5.5 + 300·5.5 + 200·5) / (640 · 6)
    assert bt.metric_value == pytest.approx(3200 / 3840)
    assert bt.auc == pytest.approx(16 / 24)  # the plain AUC is still reported


def test_retention_target_names_its_metric() -> None:
    bt = backtest(ICP_TWO.model_copy(update={"target": "retention"}), HISTORY)
    assert (bt.metric, bt.metric_value) == ("AUC (kept vs churned customers)", bt.auc)


def test_top_tier_is_the_best_tier_that_holds_deals() -> None:
    deals = HISTORY[HISTORY["industry"] != "software"].reset_index(drop=True)
    bt = backtest(ICP_TWO, deals)
    a = next(t for t in bt.tiers if t.tier == "A")
    assert (a.n, a.wins, a.win_rate, a.won_value, a.mean_won_value) == (0, 0, 0.0, 0.0, None)
    assert (a.ci_low, a.ci_high) == (0.0, 1.0)  # nothing known about an empty tier
    assert bt.top_tier == "B"
    assert bt.top_tier_lift == 0.0  # B has 0 of 2 wins; overall 1 of 6
    assert bt.top_tier_share == pytest.approx(2 / 6)


def test_value_column_is_optional() -> None:
    for bt in (backtest(ICP_TWO, HISTORY, value=None), backtest(ICP_TWO, HISTORY.drop(columns="amount"))):
        assert all(t.won_value is None and t.mean_won_value is None for t in bt.tiers)
        assert [t.n for t in bt.tiers] == [3, 3, 4]


def test_row_labels_do_not_matter() -> None:
    shifted = HISTORY.set_axis(range(100, 110)).iloc[::-1]
    assert backtest(ICP_TWO, shifted) == backtest(ICP_TWO, HISTORY.iloc[::-1].reset_index(drop=True))
    assert backtest(ICP_TWO, shifted).to_dict() == backtest(ICP_TWO, HISTORY).to_dict()


def test_to_dict_is_rounded_json() -> None:
    d = backtest(ICP_TWO, HISTORY).to_dict()
    assert d["auc"] == round(16 / 24, 4)
    assert d["top_tier_lift"] == 1.6667
    assert d["tiers"][0]["win_rate"] == 0.6667
    assert json.loads(json.dumps(d)) == d


# --- degenerate and malformed inputs -------------------------------------------------------------------


@pytest.mark.parametrize(("outcome", "lift", "capture"), [(True, 1.0, 0.3), (False, 0.0, 0.0)])
def test_one_outcome_only_gives_auc_one_half(outcome: bool, lift: float, capture: float) -> None:
    bt = backtest(ICP_TWO, HISTORY.assign(won=outcome))
    assert bt.auc == 0.5
    assert bt.win_rate == float(outcome)
    assert bt.top_tier_lift == lift
    assert bt.top_tier_win_capture == capture
    assert [t.win_rate for t in bt.tiers] == [float(outcome)] * 3


def test_empty_history_gives_an_empty_result() -> None:
    bt = backtest(ICP_TWO, HISTORY.iloc[:0])
    assert (bt.n, bt.wins, bt.win_rate, bt.auc, bt.coverage) == (0, 0, 0.0, 0.5, 0.0)
    assert [t.n for t in bt.tiers] == [0, 0, 0]
    assert math.isfinite(bt.top_tier_lift)


def test_outcome_text_is_read_not_cast() -> None:
    """'lost' and 'false' are not wins (a plain bool cast would say they are)."""
    words = HISTORY.assign(won=np.where(HISTORY["won"], "Won", "lost"))
    flags = HISTORY.assign(won=np.where(HISTORY["won"], "true", "false"))
    ints = HISTORY.assign(won=HISTORY["won"].astype(int))
    expected = backtest(ICP_TWO, HISTORY)
    for frame in (words, flags, ints):
        assert backtest(ICP_TWO, frame) == expected
    np.testing.assert_array_equal(outcomes(words), HISTORY["won"].to_numpy())


def test_custom_outcome_column() -> None:
    renamed = HISTORY.rename(columns={"won": "closed_won"})
    assert backtest(ICP_TWO, renamed, outcome="closed_won") == backtest(ICP_TWO, HISTORY)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["won", "maybe"], r"deals row 2 \(index 1\): 'won' must be true or false, got 'maybe'"),
        ([True, None], r"deals row 2 \(index 1\): 'won' is missing"),
    ],
)
def test_unreadable_outcomes_name_the_row(values: list[object], message: str) -> None:
    deals = pd.DataFrame({"industry": ["software", "retail"], "won": pd.Series(values, dtype=object)})
    with pytest.raises(ValueError, match=message):
        backtest(ICP_TWO, deals)


def test_missing_outcome_column_is_named() -> None:
    with pytest.raises(ValueError, match="no outcome column 'won'"):
        backtest(ICP_TWO, HISTORY.drop(columns="won"))


# --- invariants on random histories -------------------------------------------------------------------

history_rows = st.lists(
    st.tuples(
        st.sampled_from(["software", "retail", "media", None]),
        st.sampled_from(["US", "GB", None]),
        st.sampled_from([5, 500, None]),
        st.booleans(),
        st.one_of(st.none(), st.floats(0, 1e6)),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=50, deadline=None)
@given(history_rows)
def test_tier_table_adds_up(rows: list[tuple[object, ...]]) -> None:
    deals = pd.DataFrame(rows, columns=["industry", "country", "employees", "won", "amount"])
    deals["amount"] = deals["amount"].astype(float)
    bt = backtest(ICP_TWO, deals)
    scores = score_batch(deals, ICP_TWO)
    won = deals["won"].to_numpy(dtype=bool)
    assert sum(t.n for t in bt.tiers) == bt.n == len(deals)
    assert sum(t.wins for t in bt.tiers) == bt.wins == int(won.sum())
    assert sum(t.share for t in bt.tiers) == pytest.approx(1.0)
    assert sum(t.won_value or 0.0 for t in bt.tiers) == pytest.approx(np.nansum(deals["amount"][won]))
    for t in bt.tiers:
        assert t.ci_low <= t.win_rate <= t.ci_high or t.n == 0
        assert t.n == int((scores.tier == t.tier).sum())
    expected = roc_auc_score(won, scores.score) if 0 < won.sum() < len(won) else 0.5
    assert bt.auc == pytest.approx(expected)
    assert bt.coverage == pytest.approx(float((scores.confidence >= ICP_TWO.min_confidence).mean()))
