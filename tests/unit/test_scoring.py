"""Single-account scoring: hand-computed scores, tiers, disqualifiers, unknown data, pairs, properties.

Every expected score below is 100 / (1 + 2^(−points / 20)) rounded half up to one decimal:
0 points → 50, +20 → 66.7 (odds 2:1), +40 → 80 (4:1), +60 → 88.9 (8:1), −20 → 33.3.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from icp_engine.model import ICP, NO_TIER, Calibration
from icp_engine.ops import evaluate
from icp_engine.scoring import (
    compile_icp,
    criterion_status,
    pick_tier,
    score,
    score_from_points,
    win_probability,
)
from tests.support.strategies import (
    ALL_OPS,
    ATTRIBUTES,
    BIN_OPS,
    account_values,
    accounts,
    condition_dicts,
    missing_values,
    nonneg_points,
    scoring_icps,
)

# The mid-market SaaS scorecard: centred points, so a value in no bin is "like the average
# account" and earns 0. Weights (largest |points|): industry 20, employees 20, country 10,
# tech_stack 10 = 60. Default tiers: A at 70, B at 55; below min_confidence 0.5 the tier is "?".
SAAS: dict[str, Any] = {
    "name": "Mid-market SaaS",
    "characteristics": [
        {
            "attribute": "industry",
            "bins": [
                {"op": "in", "values": ["software", "fintech"], "points": 20, "evidence": ["s:1"]},
                {"op": "eq", "values": ["retail"], "points": -10},
            ],
        },
        {
            "attribute": "employees",
            "bins": [
                {"op": "between", "values": [200, 2000], "points": 20},
                {"op": "lt", "values": [50], "points": -10},
            ],
        },
        {"attribute": "country", "bins": [{"op": "in", "values": ["US", "CA"], "points": 10}]},
        {
            "attribute": "tech_stack",
            "bins": [{"op": "contains_any", "values": ["salesforce", "hubspot"], "points": 10}],
        },
    ],
    "disqualifiers": [
        {"attribute": "employees", "op": "lt", "values": [20], "reason": "too small to need us"}
    ],
}


def saas(**changes: Any) -> ICP:
    return ICP.model_validate({**SAAS, **changes})


def two_bins(p: float, q: float, **changes: Any) -> ICP:
    """An ICP where an account with a = x and b = z scores exactly score_from_points(p)."""
    return ICP.model_validate(
        {
            "name": "t",
            "characteristics": [
                {"attribute": "a", "bins": [{"op": "eq", "values": ["x"], "points": p}]},
                {"attribute": "b", "bins": [{"op": "eq", "values": ["y"], "points": q}]},
            ],
            **changes,
        }
    )


# --- hand-computed scores --------------------------------------------------------------------


def test_perfect_account() -> None:
    r = score(
        {"industry": "Software", "employees": 500, "country": "us", "tech_stack": ("HubSpot", "slack")},
        saas(),
    )
    # 20 + 20 + 10 + 10 = 60 points → odds 2^3 = 8 → 8 / 9 = 88.9
    assert (r.earned, r.achievable, r.score, r.tier, r.tier_label) == (60, 60, 88.9, "A", "Best match")
    assert r.confidence == 1.0 and r.unknown == [] and r.ask_for == [] and not r.disqualified
    assert [line.status for line in r.lines] == [
        "matched",
        "missed",
        "matched",
        "missed",
        "matched",
        "matched",
    ]
    assert [c.status for c in r.characteristics] == ["matched"] * 4
    assert [c.points for c in r.characteristics] == [20, 20, 10, 10]
    assert r.win_probability is None  # no calibration: no expected win rate


def test_partial_match() -> None:
    r = score(
        {"industry": "fintech", "employees": 5000, "country": "CA", "tech_stack": ("pipedrive",)}, saas()
    )
    # industry 20 + country 10 = 30 → 2^1.5 = 2.83 → 73.88… → 73.9 → A
    assert (r.earned, r.score, r.fit_score, r.tier) == (30, 73.9, 73.9, "A")
    assert [line.points for line in r.lines] == [20.0, 0.0, 0.0, 0.0, 10.0, 0.0]
    assert [line.max_points for line in r.lines] == [20.0, -10.0, 20.0, -10.0, 10.0, 10.0]
    assert [line.characteristic for line in r.lines] == [0, 0, 1, 1, 2, 3]
    # 5,000 employees and pipedrive are in no bin: known, and like the average account (0).
    assert [c.status for c in r.characteristics] == ["matched", "average", "matched", "average"]
    assert [c.points for c in r.characteristics] == [20, 0, 10, 0]


def test_negative_points_lower_the_score_below_the_average() -> None:
    r = score({"industry": "retail", "employees": 30, "country": "FR", "tech_stack": ()}, saas())
    # retail −10, under 50 employees −10 → −20 points → 1 / 3 = 33.3 → C
    assert (r.earned, r.score, r.tier) == (-20, 33.3, "C")
    assert [c.points for c in r.characteristics] == [-10, -10, 0, 0]
    assert r.characteristics[0].matched == ["industry = retail"]


def test_unknown_attributes_score_zero() -> None:
    r = score({"industry": "retail", "employees": 300}, saas())
    # −10 + 20 = +10 points → 2^0.5 = 1.41 → 58.58… → 58.6 → B; unknowns add nothing either way
    assert (r.earned, r.score, r.tier) == (10, 58.6, "B")
    # confidence = known weight / all weight = (20 + 20) / 60 = 0.666… → 0.67
    assert r.confidence == 0.67
    assert r.unknown == ["country", "tech_stack"]
    assert [line.status for line in r.lines] == [
        "missed",
        "matched",
        "matched",
        "missed",
        "unknown",
        "unknown",
    ]
    assert [c.status for c in r.characteristics] == ["matched", "matched", "unknown", "unknown"]
    assert r.ask_for == []  # enough is known for a tier


def test_too_little_known_gives_no_tier_and_says_what_to_ask() -> None:
    r = score({"country": "US"}, saas())
    # +10 points → 58.6, but only 10 of 60 weight is known (0.17 < 0.5): no tier
    assert (r.score, r.confidence, r.tier, r.tier_label) == (58.6, 0.17, NO_TIER, "Not enough data")
    # the unknown attributes, heaviest characteristic first, ties in ICP order
    assert r.ask_for == ["industry", "employees", "tech_stack"]
    assert r.explain()[-1] == "Not enough data for a tier: ask for industry, employees, tech_stack"
    # Lowering min_confidence lets the same account have a tier.
    assert score({"country": "US"}, saas(min_confidence=0.1)).tier == "B"


def test_nothing_known_is_the_average_account() -> None:
    r = score({}, saas())
    assert (r.earned, r.score, r.fit_score, r.confidence, r.tier) == (0, 50.0, 50.0, 0.0, NO_TIER)
    assert [c.status for c in r.characteristics] == ["unknown"] * 4


@pytest.mark.parametrize("blank", [None, "", "  ", float("nan"), ()])
def test_blank_values_are_unknown(blank: Any) -> None:
    full = {"industry": "software", "employees": 500, "country": "US", "tech_stack": blank}
    r = score(full, saas())
    # 20 + 20 + 10 = 50 → 2^2.5 = 5.66 → 84.98… → 85.0; confidence 50 / 60 = 0.833 → 0.83
    assert (r.score, r.confidence, r.unknown) == (85.0, 0.83, ["tech_stack"])
    assert r.lines[5].status == "unknown" and r.lines[5].value in {"unknown", "none", "", "  "}
    assert r.characteristics[3].status == "unknown" and r.characteristics[3].points == 0


def test_no_characteristics_scores_the_average_with_full_confidence() -> None:
    r = score({"industry": "software"}, ICP(name="empty"))
    assert (r.score, r.fit_score, r.earned, r.achievable, r.confidence) == (50.0, 50.0, 0, 0.0, 1.0)
    assert r.tier == "C"  # 50 is below B (55)
    assert r.lines == [] and r.characteristics == [] and r.unknown == []


def test_only_zero_point_bins() -> None:
    icp = ICP.model_validate({"name": "t", "criteria": [{"attribute": "a", "op": "exists", "points": 0}]})
    r = score({}, icp)
    # No weight at all: nothing can be missing from it, so confidence is full.
    assert (r.score, r.confidence) == (50.0, 1.0)


def test_calibration_gives_the_expected_win_rate() -> None:
    icp = saas(calibration={"base_rate": 0.2, "deals": 500})
    # odds of a 0-point account 0.25; +20 points doubles them to 0.5 → 1/3
    assert score({}, icp).win_probability == pytest.approx(0.2)
    r = score({"industry": "software", "country": "FR"}, icp)
    assert r.earned == 20 and r.win_probability == pytest.approx(1 / 3)
    r = score({"industry": "retail", "employees": 30}, icp)  # −20 → odds 0.125 → 1/9
    assert r.win_probability == pytest.approx(1 / 9)
    assert "expected win rate 11%" in r.explain()[1]
    assert score({"employees": 5}, icp).win_probability is None  # disqualified


# --- the points-to-score map and tiers -------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        (0, 50.0),
        (20, 66.7),
        (-20, 33.3),
        (40, 80.0),
        (-40, 20.0),
        (60, 88.9),
        (10, 58.6),  # 2^0.5 / (1 + 2^0.5) = 0.5858
        (24.4, 70.0),  # 69.965 rounds half up to the A threshold
        (5.72, 54.9),
        (2000, 100.0),
        (-2000, 0.0),
        (1e6, 100.0),
        (-1e6, 0.0),  # exp would overflow: the map saturates instead of raising
    ],
)
def test_score_from_points(points: float, expected: float) -> None:
    assert score_from_points(points) == expected


def test_score_map_is_monotone_and_symmetric() -> None:
    scores = [score_from_points(t) for t in range(-300, 301)]
    assert scores == sorted(scores)
    for t in range(0, 301):
        assert score_from_points(t) + score_from_points(-t) == pytest.approx(100.0, abs=0.1 + 1e-9)


def test_twenty_points_double_the_odds() -> None:
    icp = ICP(name="t", calibration=Calibration(base_rate=0.3, deals=10))
    for t in (-60, -20, 0, 7, 33):
        p, q = win_probability(t, icp), win_probability(t + 20, icp)
        assert p is not None and q is not None
        assert (q / (1 - q)) / (p / (1 - p)) == pytest.approx(2.0)
    assert win_probability(5, ICP(name="no calibration")) is None


@pytest.mark.parametrize(
    ("p", "expected_score", "expected_tier"),
    [
        (24.45, 70.0, "A"),  # 70.0016 → A
        (24.4, 70.0, "A"),  # 69.965 → shown 70.0 → A (tiers use the shown score)
        (24.37, 69.9, "B"),
        (5.77, 55.0, "B"),  # 54.98 → shown 55.0 → B
        (5.72, 54.9, "C"),
        (0, 50.0, "C"),
        (-30, 26.1, "C"),
    ],
)
def test_tier_boundaries(p: float, expected_score: float, expected_tier: str) -> None:
    r = score({"a": "x", "b": "z"}, two_bins(p, 5))
    assert (r.score, r.tier) == (expected_score, expected_tier)


def test_pick_tier() -> None:
    tiers = (("A", 70.0), ("B", 55.0))
    assert [pick_tier(s, tiers) for s in (100.0, 70.0, 69.9, 55.0, 54.9, 0.0)] == [
        "A",
        "A",
        "B",
        "B",
        "C",
        "C",
    ]


def test_custom_tiers_and_labels() -> None:
    icp = two_bins(80, -40, tiers={"Silver": 50, "Gold": 90, "Floor": 0}, tier_labels={"Gold": "Top"})
    r = score({"a": "x", "b": "z"}, icp)  # +80 → 16:1 → 94.1 → Gold
    assert (r.score, r.tier, r.tier_label) == (94.1, "Gold", "Top")
    r = score({"a": "z", "b": "y"}, icp)  # −40 → 20.0 → Floor (threshold 0)
    assert (r.score, r.tier, r.tier_label) == (20.0, "Floor", "Floor")
    r = score({"a": "x", "b": "y"}, icp.model_copy(update={"tiers": {"Gold": 90}}))  # +40 → 80
    assert r.tier == "C"


# --- disqualifiers ---------------------------------------------------------------------------


def test_disqualifier_hit_sets_zero_and_fallback_tier() -> None:
    icp = saas(version=3)
    r = score({"industry": "software", "employees": 10, "country": "US"}, icp)
    # fit: industry +20, under 50 employees −10, country +10 = +20 → 66.7
    assert (r.score, r.tier, r.tier_label, r.fit_score, r.disqualified) == (0.0, "C", "Not a fit", 66.7, True)
    assert [(h.index, h.reason, h.condition, h.value) for h in r.disqualifiers] == [
        (0, "too small to need us", "employees < 20", "10")
    ]
    text = r.explain()
    assert text[0] == "Score 0/100 — tier C (Not a fit) — ICP 'Mid-market SaaS' v3"
    assert text[1] == "+20 points, confidence 83%"
    assert text[2] == "⛔ Disqualified: too small to need us (employees < 20: 10); fit alone: 66.7"


def test_disqualifier_beats_not_enough_data() -> None:
    r = score({"employees": 5}, saas())
    assert r.confidence < 0.5 and (r.tier, r.ask_for) == ("C", [])


def test_disqualifier_overrides_a_floor_tier() -> None:
    icp = saas(tiers={"A": 70, "Z": 0}, min_confidence=0.0)
    assert score({"employees": 5}, icp).tier == "C"
    assert score({"employees": 5000}, icp).tier == "Z"


def test_several_disqualifiers_all_reported() -> None:
    icp = saas(
        disqualifiers=[
            *SAAS["disqualifiers"],
            {"attribute": "country", "op": "in", "values": ["KP"], "reason": "sanctions"},
            {"attribute": "industry", "op": "eq", "values": ["gambling"], "reason": "policy"},
        ]
    )
    r = score({"employees": 3, "country": "kp", "industry": "software"}, icp)
    assert [h.reason for h in r.disqualifiers] == ["too small to need us", "sanctions"]
    assert r.unchecked_disqualifiers == []


def test_unknown_disqualifier_attribute_is_unchecked() -> None:
    icp = saas(
        disqualifiers=[
            *SAAS["disqualifiers"],
            {"attribute": "revenue", "op": "lt", "values": [1_000_000], "reason": "no budget"},
        ]
    )
    r = score({"industry": "software", "employees": 500, "country": "US", "tech_stack": ("hubspot",)}, icp)
    assert (r.score, r.disqualified) == (88.9, False)
    assert r.unchecked_disqualifiers == ["no budget (revenue < 1,000,000)"]
    assert "revenue" in r.unknown
    assert "? Could not check disqualifier: no budget (revenue < 1,000,000)" in r.explain()
    # The confidence figure is about characteristics only: every one is known here.
    assert r.confidence == 1.0


def test_non_numeric_value_for_numeric_disqualifier_is_checked_and_passes() -> None:
    r = score({"industry": "software", "employees": "lots"}, saas())
    assert not r.disqualified and r.unchecked_disqualifiers == []


def test_presence_disqualifier() -> None:
    icp = saas(disqualifiers=[{"attribute": "domain", "op": "missing", "reason": "no website"}])
    assert score({"industry": "software"}, icp).disqualified
    assert not score({"industry": "software", "domain": "a.com"}, icp).disqualified


# --- bins of one characteristic --------------------------------------------------------------


BANDS = ICP.model_validate(
    {
        "name": "bands",
        "characteristics": [
            {
                "attribute": "employees",
                "bins": [
                    {"op": "between", "values": [1, 49], "points": -15},
                    {"op": "between", "values": [50, 199], "points": 5},
                    {"op": "between", "values": [200, 2000], "points": 20},
                ],
            },
            {"attribute": "country", "bins": [{"op": "eq", "values": ["US"], "points": 5}]},
        ],
    }
)


def test_numeric_bins_give_the_points_of_the_band() -> None:
    comp = compile_icp(BANDS)
    assert comp.weights == (20.0, 5.0) and comp.total_weight == 25.0
    assert comp.best == (20.0, 5.0) and comp.achievable == 25.0
    assert [score({"employees": e}, BANDS).earned for e in (10, 100, 1000, 5000)] == [-15, 5, 20, 0]
    r = score({"employees": 1000, "country": "US"}, BANDS)
    assert (r.earned, r.achievable, r.score) == (25, 25, 70.4)  # 2^1.25 / (1 + 2^1.25) = 0.7040…
    assert r.characteristics[0].matched == ["employees between 200 and 2,000"]


def test_bins_on_a_list_attribute_add_up() -> None:
    icp = ICP.model_validate(
        {
            "name": "t",
            "characteristics": [
                {
                    "attribute": "tech_stack",
                    "bins": [
                        {"op": "contains_any", "values": ["salesforce"], "points": 10},
                        {"op": "contains_any", "values": ["hubspot"], "points": 5},
                        {"op": "contains_any", "values": ["pipedrive"], "points": -3},
                    ],
                }
            ],
        }
    )
    # A stack can hold salesforce and hubspot: the best is 10 + 5; the weight is the largest |points|.
    comp = compile_icp(icp)
    assert (comp.achievable, comp.weights) == (15.0, (10.0,))
    r = score({"tech_stack": ("hubspot", "pipedrive")}, icp)
    assert (r.earned, r.score) == (2, 51.7)  # 5 − 3 = 2 → 2^0.1 / (1 + 2^0.1) = 0.5173
    assert r.characteristics[0].matched == [
        "tech_stack has any of hubspot",
        "tech_stack has any of pipedrive",
    ]


def test_achievable_bounds_what_overlapping_bins_earn() -> None:
    # BUG (scoring._best_points): overlapping bins of a single-valued attribute add up (documented
    # on Characteristic), but `achievable` ("the most points any account could earn", shown on the
    # score card as "the best possible is …") takes only the best single bin: 10 here, while an
    # account with revenue 300 earns 20.
    icp = ICP.model_validate(
        {
            "name": "t",
            "characteristics": [
                {
                    "attribute": "revenue",
                    "bins": [
                        {"op": "gte", "values": [100], "points": 10},
                        {"op": "lte", "values": [500], "points": 10},
                    ],
                }
            ],
        }
    )
    r = score({"revenue": 300}, icp)
    assert r.earned == 20
    assert r.earned <= r.achievable


# --- pairs (interactions) --------------------------------------------------------------------


PAIR = ICP.model_validate(
    {
        "name": "t",
        "characteristics": [
            {
                "attributes": ["industry", "employees"],
                "bins": [
                    {
                        "all_of": [
                            {"attribute": "industry", "op": "eq", "values": ["software"]},
                            {"attribute": "employees", "op": "gte", "values": [100]},
                        ],
                        "points": 30,
                    }
                ],
            },
            {"attribute": "country", "bins": [{"op": "eq", "values": ["US"], "points": 10}]},
        ],
    }
)


def test_pair_characteristic() -> None:
    both = score({"industry": "software", "employees": 150, "country": "US"}, PAIR)
    assert (both.earned, both.achievable, both.score) == (40, 40, 80.0)
    assert both.lines[0].value == "industry software; employees 150"
    assert both.lines[0].criterion == "industry = software and employees ≥ 100"
    assert both.characteristics[0].name == "industry × employees"
    assert both.characteristics[0].value == "industry software; employees 150"
    # One condition known and failed → the bin is missed; the account is like the average (0).
    r = score({"industry": "retail", "employees": 500, "country": "US"}, PAIR)
    assert (r.lines[0].status, r.characteristics[0].status, r.earned) == ("missed", "average", 10)
    # One condition matched and the other unknown → unknown: 0 points, and its weight is not known.
    half = score({"industry": "software", "country": "US"}, PAIR)
    assert (half.lines[0].status, half.characteristics[0].status) == ("unknown", "unknown")
    # +10 → 58.6; confidence 10 / 40 = 0.25 → not enough data
    assert (half.score, half.confidence, half.tier) == (58.6, 0.25, NO_TIER)
    assert half.ask_for == ["employees"]  # only the attribute without a value


def test_unknown_lists_only_attributes_without_a_value() -> None:
    assert score({"industry": "software"}, PAIR).unknown == ["country", "employees"]


def test_criterion_status() -> None:
    crit = BANDS.criteria[2]  # employees between 200 and 2000
    assert criterion_status(crit, {"employees": 200}) == "matched"
    assert criterion_status(crit, {"employees": 199}) == "missed"
    assert criterion_status(crit, {}) == "unknown"


# --- explanation and determinism -------------------------------------------------------------


def test_explain_lines_show_value_and_points_per_characteristic() -> None:
    r = score(
        {"industry": "software", "employees": 5000, "tech_stack": ("hubspot", "slack")}, saas(version=2)
    )
    assert r.explain() == [
        # industry +20, tech_stack +10 = +30 → 73.9 → A; known weight 50 of 60 → 83%
        "Score 73.9/100 — tier A (Best match) — ICP 'Mid-market SaaS' v2",
        "+30 points, confidence 83%",
        " +20 industry: software (industry in software, fintech)",
        "   0 employees: 5,000 (like the average account)",
        "   ? country: unknown (0; worth up to ±10)",
        " +10 tech_stack: hubspot, slack (tech_stack has any of salesforce, hubspot)",
    ]
    r = score({"industry": "retail", "employees": 40, "country": "US"}, saas())
    assert r.explain()[1:4] == [
        "−10 points, confidence 83%",
        " −10 industry: retail (industry = retail)",
        " −10 employees: 40 (employees < 50)",
    ]


def test_evidence_is_carried_to_lines() -> None:
    r = score({"industry": "fintech"}, saas())
    assert r.lines[0].evidence == ["s:1"] and r.lines[2].evidence == []
    assert r.characteristics[0].evidence == ["s:1"] and r.characteristics[1].evidence == []
    assert score({"industry": "retail"}, saas()).characteristics[0].evidence == []  # only matched bins


def test_identical_input_gives_byte_identical_json() -> None:
    account = {"industry": "software", "employees": 10, "country": None, "tech_stack": ("b", "a")}
    first = score(account, saas()).to_json()
    assert score(account, saas()).to_json() == first
    fresh = ICP.from_json(saas().to_json())
    assert score(dict(reversed(account.items())), fresh).to_json() == first
    assert score(account, compile_icp(fresh)).to_json() == first
    assert score(account, ICP.from_yaml(saas().to_yaml())).to_json() == first


@given(icp=scoring_icps(), account=accounts())
@settings(max_examples=150, deadline=None)
def test_determinism_and_invariants(icp: ICP, account: dict[str, Any]) -> None:
    r = score(account, icp)
    assert score(dict(reversed(account.items())), ICP.from_json(icp.to_json())).to_json() == r.to_json()
    assert 0.0 <= r.score <= 100.0 and 0.0 <= r.fit_score <= 100.0 and 0.0 <= r.confidence <= 1.0
    assert r.fit_score == score_from_points(r.earned)
    assert r.earned == pytest.approx(sum(c.points for c in r.characteristics))
    assert r.disqualified == bool(r.disqualifiers)
    if r.disqualified:
        assert (r.score, r.tier) == (0.0, "C")
    else:
        assert r.score == r.fit_score
        expected = (
            NO_TIER if r.confidence < icp.min_confidence else pick_tier(r.score, compile_icp(icp).tiers)
        )
        assert r.tier == expected
    assert bool(r.ask_for) == (r.tier == NO_TIER)
    assert r.unknown == sorted(r.unknown)
    assert len(r.characteristics) == len(icp.characteristics)
    assert len(r.explain()) >= 2 + len(icp.characteristics)


# --- monotonicity ----------------------------------------------------------------------------

_NO_MATCH = "zz-none"


def _hit(op: str, values: list[Any]) -> Any:
    """A value that satisfies the condition (ops that a known value can satisfy)."""
    if op in {"eq", "in"}:
        return values[0]
    if op in {"ne", "not_in"}:
        return _NO_MATCH
    if op in {"gt", "lt"}:
        return values[0] + (1 if op == "gt" else -1)
    if op in {"gte", "lte", "between"}:
        return values[0]
    if op == "contains_any":
        return (values[0], "other")
    if op == "contains_all":
        return (*values, "other")
    return "something"  # exists


def _miss(op: str, values: list[Any]) -> Any:
    """A known value that fails the condition (not for 'exists')."""
    if op in {"eq", "in", "contains_any", "contains_all"}:
        return (_NO_MATCH,) if op.startswith("contains") else _NO_MATCH
    if op in {"ne", "not_in"}:
        return values[0]
    if op in {"gt", "lte", "between"}:
        return values[-1] + 1 if op != "gt" else values[0]
    return values[0] - 1 if op == "gte" else values[0]  # gte, lt


@st.composite
def monotone_cases(draw: st.DrawFn) -> tuple[ICP, dict[str, Any], dict[str, Any], float]:
    """An ICP with one bin per attribute, and an account before/after satisfying one more bin."""
    attrs = draw(st.permutations(ATTRIBUTES))[: draw(st.integers(1, len(ATTRIBUTES)))]
    criteria = [
        {**draw(condition_dicts(attributes=st.just(a), ops=BIN_OPS)), "points": draw(nonneg_points)}
        for a in attrs
    ]
    icp = ICP.model_validate({"name": "m", "criteria": criteria})
    j = draw(st.integers(0, len(criteria) - 1))
    target = criteria[j]
    op, values = target["op"], target["values"]
    assume(op != "missing")
    known_before = op != "exists" and draw(st.booleans())
    before = dict(draw(accounts()))
    options = [account_values] + ([st.just(_miss(op, values))] if known_before else [missing_values])
    before[target["attribute"]] = draw(st.one_of(*options))
    after = {**before, target["attribute"]: draw(st.one_of(st.just(_hit(op, values)), account_values))}
    _, matched_b = evaluate(op, values, before[target["attribute"]])
    _, matched_a = evaluate(op, values, after[target["attribute"]])
    assume(not matched_b and matched_a)
    return icp, before, after, float(target["points"])


@given(case=monotone_cases())
@settings(max_examples=200, deadline=None)
def test_satisfying_one_more_bin_adds_its_points(
    case: tuple[ICP, dict[str, Any], dict[str, Any], float],
) -> None:
    icp, before, after, points = case
    old, new = score(before, icp), score(after, icp)
    assert (
        sum(line.status == "matched" for line in new.lines)
        == sum(line.status == "matched" for line in old.lines) + 1
    )
    assert new.earned == pytest.approx(old.earned + points)
    assert new.fit_score >= old.fit_score, (old.explain(), new.explain())
    assert new.achievable == old.achievable  # the ICP's best does not depend on the account


def test_monotone_case_helpers_cover_every_op() -> None:
    ops = set(ALL_OPS) - {"missing"}
    samples = {"between": [1, 5], "gt": [3], "gte": [3], "lt": [3], "lte": [3], "exists": []}
    for op in ops:
        values = samples.get(op, ["a", "b"] if op == "contains_all" else ["a"])
        assert evaluate(op, values, _hit(op, values)) == (True, True), op
        if op != "exists":
            assert evaluate(op, values, _miss(op, values)) == (True, False), op
