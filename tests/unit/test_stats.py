"""Segment statistics: the primitives against hand-computed values, analyze() on tiny hand-made
frames, determinism, and the null result on real CRM data that carries no firmographic signal."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from icp_engine.stats import (
    SegmentDef,
    analyze,
    benjamini_hochberg,
    design_effect,
    fisher_exact_p,
    intra_account_correlation,
    plan_segments,
    segment_definitions,
    two_proportion_p,
    wilson_interval,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


# --- Wilson interval ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wins", "n", "low", "high"),
    [
        # p ± z·sqrt(p(1-p)/n + z²/4n²), centred at (p + z²/2n), all over 1 + z²/n; z = 1.959964.
        (8, 10, 0.4902, 0.9433),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (50, 100, 0.4038, 0.5962),
    ],
)
def test_wilson_matches_hand_computed_values(wins: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson_interval(wins, n)
    assert lo == pytest.approx(low, abs=5e-5)
    assert hi == pytest.approx(high, abs=5e-5)


def test_wilson_without_deals_knows_nothing_and_rejects_impossible_counts() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="wins"):
        wilson_interval(11, 10)
    with pytest.raises(ValueError, match="wins"):
        wilson_interval(-1, 10)


@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_the_rate_and_stays_in_unit_interval(case: tuple[int, int]) -> None:
    wins, n = case
    lo, hi = wilson_interval(wins, n)
    assert 0.0 <= lo <= wins / n <= hi <= 1.0
    lo4, hi4 = wilson_interval(wins * 4, n * 4)
    assert hi4 - lo4 < hi - lo  # four times the data, a narrower interval


# --- Fisher exact and the two-proportion test ----------------------------------------------------


def test_fisher_exact_matches_hand_computed_tables() -> None:
    # Tea tasting [[3, 1], [1, 3]]: P(k) = C(4,k)·C(4,4-k)/C(8,4) = 1, 16, 36, 16, 1 over 70;
    # tables no more likely than k=3 sum to (1 + 16 + 16 + 1)/70.
    assert fisher_exact_p(3, 1, 1, 3) == pytest.approx(34 / 70, rel=1e-12)
    # [[1, 9], [11, 3]]: margins 10/14 and 12/12 of 24; the reference value is 0.002759.
    assert fisher_exact_p(1, 9, 11, 3) == pytest.approx(0.0027594562, rel=1e-8)
    # A table with one possible arrangement carries no evidence.
    assert fisher_exact_p(0, 5, 0, 5) == 1.0


def test_two_proportion_uses_fisher_for_small_expected_counts() -> None:
    assert two_proportion_p(3, 4, 1, 4) == pytest.approx(34 / 70, rel=1e-12)


def test_two_proportion_matches_hand_computed_z_test() -> None:
    # 60/100 vs 40/100: pooled 0.5, se = sqrt(0.25·(1/100 + 1/100)) = 0.070711, z = 2.828427.
    assert two_proportion_p(60, 100, 40, 100) == pytest.approx(math.erfc(2.828427 / math.sqrt(2)), rel=1e-6)
    assert two_proportion_p(60, 100, 40, 100) == pytest.approx(0.0046777, rel=1e-4)
    assert two_proportion_p(30, 100, 30, 100) == 1.0


def _pearson_chi2(w1: int, n1: int, w2: int, n2: int) -> float:
    table = [[w1, n1 - w1], [w2, n2 - w2]]
    rows = [n1, n2]
    cols = [w1 + w2, n1 + n2 - w1 - w2]
    total = n1 + n2
    return sum(
        (table[i][j] - rows[i] * cols[j] / total) ** 2 / (rows[i] * cols[j] / total)
        for i in range(2)
        for j in range(2)
    )


counts = st.integers(20, 3000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@given(counts, counts)
@example(a=(378, 388), b=(388, 388))  # smallest expected cell exactly 5: chi-square, not Fisher
def test_two_proportion_is_symmetric_and_agrees_with_chi_square(
    a: tuple[int, int], b: tuple[int, int]
) -> None:
    (w1, n1), (w2, n2) = a, b
    p = two_proportion_p(w1, n1, w2, n2)
    assert 0.0 <= p <= 1.0
    assert p == pytest.approx(two_proportion_p(w2, n2, w1, n1), rel=1e-9, abs=1e-300)
    assert p == pytest.approx(two_proportion_p(n1 - w1, n1, n2 - w2, n2), rel=1e-9, abs=1e-300)
    total, wins = n1 + n2, w1 + w2
    if 0 < wins < total and min(n1, n2) * min(wins, total - wins) / total >= 5:
        chi2 = _pearson_chi2(w1, n1, w2, n2)
        assert p == pytest.approx(math.erfc(math.sqrt(chi2 / 2)), rel=1e-6, abs=1e-300)


def test_two_proportion_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="wins=5, n=4"):
        two_proportion_p(5, 4, 1, 4)
    with pytest.raises(ValueError, match="design effects"):
        two_proportion_p(5, 10, 1, 4, deff1=0.5)


def test_design_effect_counts_clustered_deals_as_fewer() -> None:
    # Twice the deals at design effect 2 carry the evidence of the plain 60/100 vs 40/100.
    assert two_proportion_p(120, 200, 80, 200, deff1=2.0, deff2=2.0) == pytest.approx(
        two_proportion_p(60, 100, 40, 100), rel=1e-12
    )
    assert design_effect(8.0, 4.0, 0.25) == 1.25  # two accounts of two deals: m = 8/4 = 2
    assert design_effect(4.0, 4.0, 0.9) == 1.0  # one deal per account: no clustering
    assert design_effect(0.0, 0.0, 0.5) == 1.0


def test_intra_account_correlation_hand_computed() -> None:
    # Account 0 won both deals, account 1 lost both: outcomes are entirely the account's.
    assert intra_account_correlation(np.array([0, 0, 1, 1]), np.array([1, 1, 0, 0])) == 1.0
    # Each account won one and lost one: nothing is shared, and the estimate is clipped at 0.
    assert intra_account_correlation(np.array([0, 0, 1, 1]), np.array([1, 0, 1, 0])) == 0.0
    # Single-deal accounts carry no information about it.
    assert intra_account_correlation(np.arange(5), np.array([1, 0, 1, 0, 1])) == 0.0


def test_account_level_noise_is_not_flagged_when_deals_cluster() -> None:
    # Accounts differ a lot in how often they win (for reasons not in the data); an attribute drawn
    # at random per account must not look significant just because each account has many deals.
    rng = np.random.default_rng(8)
    n_accounts, per = 300, 12
    rate = rng.beta(0.6, 1.2, n_accounts)
    account = np.repeat(np.arange(n_accounts), per)
    deals = pd.DataFrame(
        {
            "account_id": account,
            "won": rng.random(n_accounts * per) < rate[account],
            "noise": rng.choice(["a", "b", "c", "d", "e", "f"], n_accounts)[account],
        }
    )
    result = analyze(deals)
    assert result.icc > 0.2
    assert not result.significant
    for s in result.segments:
        naive = two_proportion_p(s.wins, s.deals, result.overall.wins - s.wins, len(deals) - s.deals)
        assert s.design_effect > 2.0 and s.p_value > naive


# --- Benjamini–Hochberg ------------------------------------------------------------------------------


def test_benjamini_hochberg_matches_hand_computed_example() -> None:
    p = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205]
    # p·m/rank = .008 .032 .104 .082 .0672 .08 .08457 .205, then the running minimum from the top.
    expected = [0.008, 0.032, 0.0672, 0.0672, 0.0672, 0.08, 0.0845714, 0.205]
    assert benjamini_hochberg(p) == pytest.approx(expected, rel=1e-5)
    # Input order is kept.
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])


def test_benjamini_hochberg_edge_cases() -> None:
    assert benjamini_hochberg([]) == []
    assert benjamini_hochberg([0.9, 1.0]) == [1.0, 1.0]
    with pytest.raises(ValueError, match="p-values"):
        benjamini_hochberg([0.1, float("nan")])
    with pytest.raises(ValueError, match="p-values"):
        benjamini_hochberg([1.5])


@given(st.lists(st.floats(0, 1), min_size=1, max_size=60))
def test_benjamini_hochberg_is_monotone_and_never_below_p(p: list[float]) -> None:
    q = benjamini_hochberg(p)
    assert all(qi >= pi - 1e-15 and qi <= 1.0 for pi, qi in zip(p, q, strict=True))
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(np.asarray(q)[order]) >= -1e-15)


# --- Segment definitions ------------------------------------------------------------------------------


def test_segment_labels_and_ids() -> None:
    assert SegmentDef("industry", "value", value="software").label == "industry = software"
    assert SegmentDef("industry", "value", value="software").id == "stat:industry=software"
    band = SegmentDef("employees", "bin", low=200, high=2000, integer=True)
    assert band.label == "employees 200–1,999"
    assert band.id == "stat:employees=200..2000"
    assert SegmentDef("revenue", "bin", low=0.5, high=1.5).label == "revenue 0.5 to < 1.5"
    assert SegmentDef("employees", "bin", high=20).label == "employees < 20"
    assert SegmentDef("employees", "bin", low=2000).label == "employees ≥ 2,000"
    stack = SegmentDef("tech_stack", "contains", value="salesforce")
    assert stack.label == "tech_stack contains salesforce"
    assert stack.id == "stat:tech_stack~salesforce"


def test_segment_def_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="needs a value"):
        SegmentDef("industry", "value")
    with pytest.raises(ValueError, match="low < high"):
        SegmentDef("employees", "bin", low=10, high=5)
    with pytest.raises(ValueError, match="low or high"):
        SegmentDef("employees", "bin")


def test_masks_are_half_open_case_insensitive_and_false_for_missing() -> None:
    df = pd.DataFrame(
        {
            "employees": [19, 20, 199.5, 200, None],
            "industry": ["Software", " software ", "retail", None, "SOFTWARE"],
            "tech_stack": [("salesforce", "slack"), (), None, ("Salesforce",), ("hubspot",)],
        }
    )
    assert SegmentDef("employees", "bin", low=20, high=200).mask(df).tolist() == [0, 1, 1, 0, 0]
    assert SegmentDef("industry", "value", value="software").mask(df).tolist() == [1, 1, 0, 0, 1]
    assert SegmentDef("tech_stack", "contains", value="salesforce").mask(df).tolist() == [1, 0, 0, 1, 0]
    with pytest.raises(KeyError, match="country"):
        SegmentDef("country", "value", value="US").mask(df)


def test_rare_values_are_reported_not_lumped() -> None:
    df = pd.DataFrame(
        {"industry": ["software"] * 30 + ["retail"] * 25 + ["mining"] * 3 + ["toys"] * 2 + [None]}
    )
    plan = plan_segments(df, "industry", min_count=20)
    assert [s.value for s in plan.segments] == ["software", "retail"]
    (skipped,) = plan.skipped
    assert (skipped.values, skipped.rows, skipped.examples) == (2, 5, ("mining", "toys"))
    assert "fewer than 20" in skipped.reason
    assert plan.known == 60
    capped = plan_segments(df, "industry", min_count=2, max_values=2)
    assert [s.value for s in capped.segments] == ["software", "retail"]
    assert capped.skipped[0].examples == ("mining", "toys")
    assert "2 most common" in capped.skipped[0].reason


def test_numeric_columns_get_at_most_five_round_quantile_bins() -> None:
    x = np.exp(np.random.default_rng(3).normal(5, 1.5, 5000)).round()
    segs = segment_definitions(pd.DataFrame({"employees": x}), "employees")
    assert 2 <= len(segs) <= 5
    assert segs[0].low is None and segs[-1].high is None
    edges = [s.high for s in segs[:-1]]
    assert edges == sorted(set(edges))
    for e in edges:
        assert float(f"{e:.2g}") == e  # two significant digits
    mask_sum = sum(s.mask(pd.DataFrame({"employees": x})).sum() for s in segs)
    assert mask_sum == len(x)  # bins cover every value exactly once


def test_few_distinct_numbers_are_values_and_bands_sort_numerically() -> None:
    df = pd.DataFrame(
        {"seats": [1, 2, 3] * 30, "employee_band": ["20-199"] * 40 + ["1-19"] * 30 + ["2,000+"] * 20}
    )
    assert [s.value for s in segment_definitions(df, "seats")] == ["1", "2", "3"]
    assert [s.value for s in segment_definitions(df, "employee_band")] == ["1-19", "20-199", "2,000+"]


def test_list_columns_get_one_contains_segment_per_item() -> None:
    df = pd.DataFrame({"tech_stack": [("salesforce", "slack")] * 25 + [("slack",)] * 25 + [None] * 5})
    segs = segment_definitions(df, "tech_stack")
    assert [(s.kind, s.value) for s in segs] == [("contains", "slack"), ("contains", "salesforce")]


# --- analyze on hand-made frames -------------------------------------------------------------------


def _tiny() -> tuple[pd.DataFrame, pd.DataFrame]:
    deals = pd.DataFrame(
        {
            "account_id": ["a1", "a1", "a2", "a2", "a3", "a3", "a4", "a5"],
            "won": [True, True, False, True, False, False, True, True],
            "amount": [100.0, 300.0, 0.0, 200.0, 50.0, np.nan, 1000.0, 10.0],
            "industry": ["software", "software", "software", "software", "retail", "retail", "retail", None],
        }
    )
    accounts = pd.DataFrame(
        {
            "account_id": ["a1", "a2", "a3", "a4", "a5"],
            "arr": [1200.0, 600.0, np.nan, np.nan, np.nan],
            "tenure_months": [24.0, 0.0, np.nan, np.nan, np.nan],
            "ltv": [np.nan, np.nan, np.nan, 5000.0, np.nan],
            "churned": [False, True, None, False, None],
            "nps": [50.0, -10.0, np.nan, 30.0, np.nan],
        }
    )
    return deals, accounts


def test_segment_stats_on_a_tiny_frame() -> None:
    deals, accounts = _tiny()
    result = analyze(deals, accounts, attributes=["industry"], min_count=1)
    o = result.overall
    assert (o.deals, o.wins, o.losses, o.accounts) == (8, 5, 3, 5)
    assert o.win_rate == 5 / 8
    assert (o.mean_value, o.median_value) == (pytest.approx(322.0), 200.0)  # won amounts 100 300 200 1000 10
    assert o.retention == pytest.approx(2 / 3)
    assert o.nps == pytest.approx(70 / 3)
    # LTV: a1 1200·24/12 = 2400, a2 600·max(0,1)/12 = 50, a4 given 5000.
    assert o.ltv == pytest.approx((2400 + 50 + 5000) / 3)

    sw = result.segment("stat:industry=software")
    assert (sw.accounts, sw.deals, sw.wins, sw.losses) == (2, 4, 3, 1)
    assert sw.win_rate == 0.75
    assert sw.lift == pytest.approx(0.75 / 0.625)
    assert sw.design_effect >= 1.0
    assert (sw.mean_value, sw.median_value) == (200.0, 200.0)  # the lost amount 0 is not a deal value
    assert sw.retention == 0.5
    assert sw.nps == 20.0
    assert sw.ltv == pytest.approx((2400 + 50) / 2)

    rt = result.segment("stat:industry=retail")
    assert (rt.accounts, rt.deals, rt.wins) == (2, 3, 1)
    assert (rt.mean_value, rt.median_value, rt.retention, rt.nps, rt.ltv) == (
        1000.0,
        1000.0,
        1.0,
        30.0,
        5000.0,
    )
    assert result.tested == 2
    assert [s.id for s in result.segments] == ["stat:industry=software", "stat:industry=retail"]


def test_segment_is_tested_against_the_rest_not_the_overall_rate() -> None:
    # One deal per account: no clustering, so the test is the plain one on the 2×2 table.
    deals = pd.DataFrame(
        {
            "account_id": range(8),
            "won": [True, True, True, False, True, False, False, True],
            "industry": ["software"] * 4 + ["retail"] * 3 + [None],
        }
    )
    result = analyze(deals, min_count=1)
    sw = result.segment("stat:industry=software")
    assert result.icc == 0.0 and sw.design_effect == 1.0
    assert sw.p_value == pytest.approx(fisher_exact_p(3, 1, 1, 2))  # retail: 1 of 3; unknown left out
    assert (sw.ci_low, sw.ci_high) == wilson_interval(3, 4)
    assert result.segment("stat:industry=retail").q_value == pytest.approx(sw.q_value)


def test_attributes_only_on_accounts_are_joined_and_health_in_deals_is_used() -> None:
    deals, accounts = _tiny()
    accounts["region"] = ["na", "na", "emea", "emea", "na"]
    result = analyze(deals.drop(columns="industry"), accounts, attributes=["region"], min_count=1)
    assert result.segment("stat:region=na").deals == 5
    merged = deals.merge(accounts, on="account_id")
    alone = analyze(merged, attributes=["industry"], min_count=1)
    assert alone.overall.nps == pytest.approx(70 / 3)
    assert alone.segment("stat:industry=software").retention == 0.5


def test_band_columns_replace_raw_numbers() -> None:
    deals = pd.DataFrame(
        {
            "account_id": [f"a{i}" for i in range(60)],
            "won": [i % 2 == 0 for i in range(60)],
            "employees": [10.0] * 20 + [500.0] * 40,
            "employee_band": ["1-19"] * 20 + ["200-1,999"] * 40,
        }
    )
    result = analyze(deals)
    assert [a.attribute for a in result.attributes] == ["employee_band"]
    assert analyze(deals, attributes=["employees"]).segments[0].id == "stat:employee_band=1-19"


def test_cohort_lift_on_a_tiny_example() -> None:
    ids = [f"a{i}" for i in range(1, 11)]
    industry = ["software"] + ["retail"] * 7 + ["software", "software"]
    deals = pd.DataFrame({"account_id": ids, "won": [True] * 10, "industry": industry})
    accounts = pd.DataFrame({"account_id": ids, "ltv": [float(i) for i in range(1, 11)]})
    result = analyze(deals, accounts, min_count=1, cohort_share=0.2)
    cohort = result.cohort
    assert cohort is not None
    assert (cohort.by, cohort.size, cohort.population, cohort.threshold) == ("ltv", 2, 10, 9.0)
    sw = next(d for d in cohort.diffs if d.segment.value == "software")
    assert (sw.share_in_cohort, sw.share_in_rest) == (1.0, 1 / 8)
    assert sw.lift == pytest.approx(8.0)
    # N=10, 2 in the cohort, 3 software: P(2 of 2) = C(3,2)/C(10,2) = 3/45 is the only table as extreme.
    assert sw.p_value == pytest.approx(3 / 45)
    assert sw.id == "cohort:industry=software"


def test_retention_cohort_and_missing_health() -> None:
    deals, accounts = _tiny()
    result = analyze(deals, accounts, best_by="retention", min_count=1)
    assert result.cohort is not None
    assert (result.cohort.size, result.cohort.population) == (2, 3)
    assert "retained" in result.cohort.description
    no_health = analyze(deals, attributes=["industry"], min_count=1)
    assert no_health.cohort is None
    assert any("No best-customers cohort" in line for line in no_health.summary)
    no_nps = analyze(deals, accounts.drop(columns="nps"), best_by="nps", min_count=1)
    assert no_nps.cohort is None
    assert any("no account has a known NPS" in line for line in no_nps.summary)


def _planted(n: int = 4000, seed: int = 1, effect: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    industry = rng.choice(["software", "retail", "media", "health"], n)
    p = np.where(industry == "software", 0.3 + effect, 0.3)
    return pd.DataFrame(
        {
            "account_id": [f"a{i}" for i in rng.integers(0, n // 2, n)],
            "won": rng.random(n) < p,
            "amount": rng.integers(1, 100, n) * 100.0,
            "industry": industry,
            "country": rng.choice(["US", "DE", "FR"], n),
            "tech_stack": [
                tuple(rng.choice(["slack", "jira", "salesforce"], rng.integers(0, 3))) for _ in range(n)
            ],
        }
    )


def test_planted_effect_is_found_and_reported_in_plain_english() -> None:
    result = analyze(_planted(effect=0.2), attributes=["industry", "country", "tech_stack"])
    sw = result.segment("stat:industry=software")
    assert sw.significant and sw.q_value < 1e-6 and sw.lift > 1.3
    assert result.significant
    assert not result.segment("stat:country=US").significant
    line = next(line for line in result.summary if line.startswith("Industry = software wins"))
    assert f"n={sw.deals:,}, 95% CI" in line
    assert "overall —" in line and "(q<0.001)" in line


def test_nothing_significant_is_said_plainly() -> None:
    rng = np.random.default_rng(5)
    deals = pd.DataFrame(
        {
            "account_id": np.arange(400),
            "won": np.arange(400) % 2 == 0,
            "industry": rng.choice(["a", "b"], 400),
        }
    )
    result = analyze(deals)
    assert result.significant is False
    assert result.summary[1] == (
        "No segment's win rate differs significantly from the overall 50% (2 segments tested, "
        "Benjamini–Hochberg q < 0.05): the data do not support firmographic criteria."
    )


def test_output_is_deterministic_and_independent_of_row_order() -> None:
    deals = _planted(effect=0.1)
    first = analyze(deals).to_json()
    assert analyze(deals).to_json() == first
    for seed in (1, 2):
        shuffled = deals.sample(frac=1.0, random_state=seed).reset_index(drop=True)
        assert analyze(shuffled).to_json() == first
    data = json.loads(first)
    assert list(data) == [
        "overall",
        "tested",
        "alpha",
        "icc",
        "significant",
        "summary",
        "segments",
        "cohort",
        "attributes",
    ]
    assert list(data["segments"][0]) == [
        "id", "segment", "accounts", "deals", "wins", "losses", "win_rate", "ci_low", "ci_high",
        "lift", "p_value", "q_value", "significant", "tested", "design_effect", "mean_value",
        "median_value", "retention", "nps", "ltv",
    ]  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(5, 80))
def test_segment_counts_add_up(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    deals = pd.DataFrame(
        {
            "account_id": rng.integers(0, 10, n),
            "won": rng.random(n) < 0.4,
            "industry": rng.choice(["a", "b", "c", None], n),
            "employees": rng.integers(1, 5000, n).astype(float),
        }
    )
    result = analyze(deals, min_count=1)
    for plan in result.attributes:
        segs = [s for s in result.segments if s.segment.attribute == plan.attribute]
        assert sum(s.deals for s in segs) + sum(k.rows for k in plan.skipped) == plan.known
        for s in segs:
            assert s.wins + s.losses == s.deals and s.accounts <= s.deals
            assert 0.0 <= s.q_value <= 1.0 and s.p_value <= s.q_value + 1e-12
    json.dumps(result.to_dict(), allow_nan=False)


def test_bad_input_gets_a_clear_error() -> None:
    deals, accounts = _tiny()
    with pytest.raises(ValueError, match="deals: no 'won' column"):
        analyze(deals.drop(columns="won"))
    bad = deals.astype({"won": object})
    bad.loc[3, "won"] = "maybe"
    with pytest.raises(
        ValueError, match=r"deals row 4 \(index 3\): 'won' must be true or false, got 'maybe'"
    ):
        analyze(bad)
    open_deal = deals.astype({"won": object})
    open_deal.loc[0, "won"] = None
    with pytest.raises(ValueError, match="closed deals only"):
        analyze(open_deal)
    text_amount = deals.astype({"amount": object})
    text_amount.loc[2, "amount"] = "lots"
    with pytest.raises(ValueError, match="'amount' must be a number, got 'lots'"):
        analyze(text_amount)
    with pytest.raises(ValueError, match="'country' is not a column"):
        analyze(deals, attributes=["country"])
    with pytest.raises(ValueError, match="account_id 'a1' appears 2 times"):
        analyze(deals, pd.concat([accounts, accounts.iloc[:1]]))
    with pytest.raises(ValueError, match="best_by"):
        analyze(deals, best_by="vibes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no closed deals"):
        analyze(deals.iloc[:0])


# --- Real data: a null control ---------------------------------------------------------------------


@pytest.mark.shared_data
def test_maven_crm_has_no_significant_firmographic_pattern() -> None:
    folder = SHARED / "maven_crm"
    if not (folder / "sales_pipeline.csv").exists():
        pytest.skip(f"real CRM data not found at {folder} (a clone without ../shared/data)")
    pipeline = pd.read_csv(folder / "sales_pipeline.csv")
    accounts = pd.read_csv(folder / "accounts.csv")
    closed = pipeline[pipeline["deal_stage"].isin(["Won", "Lost"])].merge(accounts, on="account", how="left")
    deals = pd.DataFrame(
        {
            "account_id": closed["account"],
            "won": closed["deal_stage"].eq("Won"),
            "amount": closed["close_value"],
            "sector": closed["sector"],
            "employees": closed["employees"],
            "revenue": closed["revenue"],
            "office_location": closed["office_location"],
        }
    )
    result = analyze(deals, attributes=["sector", "employees", "revenue", "office_location"])
    assert (result.overall.wins, result.overall.deals) == (4238, 6711)
    assert result.overall.win_rate == pytest.approx(0.6315, abs=5e-4)
    assert result.significant is False
    assert result.tested >= 20
    assert result.summary[1].startswith("No segment's win rate differs significantly from the overall 63% (")
    assert result.summary[1].endswith("the data do not support firmographic criteria.")
    # Lost deals have close_value 0 here: deal value must come from won deals only.
    assert result.overall.median_value is not None and result.overall.median_value > 0


def test_numeric_column_whose_rounded_cuts_collapse_has_no_segments() -> None:
    ids = pd.DataFrame({"deal_id": np.arange(1_000_001, 1_000_901)})
    assert segment_definitions(ids, "deal_id") == []
