"""Single-account scoring: hand-computed scores, tiers, disqualifiers, missing data, groups, properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from icp_engine.model import ICP
from icp_engine.ops import evaluate
from icp_engine.scoring import compile_icp, criterion_status, finalize_score, pick_tier, score
from tests.support.strategies import (
    ALL_OPS,
    ATTRIBUTES,
    account_values,
    accounts,
    condition_dicts,
    missing_values,
    nonneg_points,
    scoring_icps,
)

# The mid-market SaaS ICP of the README ("The ICP and how a score is computed"): industry,
# employees, country and tech stack, one size disqualifier, tiers A at 70 and B at 40.
# Achievable with everything known: 25 + 20 + 15 + 10 = 70.
SAAS: dict[str, Any] = {
    "name": "Mid-market SaaS",
    "criteria": [
        {
            "attribute": "industry",
            "op": "in",
            "values": ["software", "fintech"],
            "points": 25,
            "evidence": ["s:1"],
        },
        {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 20},
        {"attribute": "country", "op": "in", "values": ["US", "CA"], "points": 15},
        {"attribute": "tech_stack", "op": "contains_any", "values": ["salesforce", "hubspot"], "points": 10},
    ],
    "disqualifiers": [
        {"attribute": "employees", "op": "lt", "values": [20], "reason": "too small to need us"}
    ],
    "tiers": {"A": 70, "B": 40},
}


def saas(**changes: Any) -> ICP:
    return ICP.model_validate({**SAAS, **changes})


def two_criteria(p: float, q: float, **changes: Any) -> ICP:
    """An ICP where an account matching only `a` scores exactly 100 × p / (p + q)."""
    crit = [{"attribute": "a", "op": "eq", "values": ["x"], "points": p}]
    crit.append({"attribute": "b", "op": "eq", "values": ["y"], "points": q})
    return ICP.model_validate({"name": "t", "criteria": crit, **changes})


# --- hand-computed scores --------------------------------------------------------------------


def test_perfect_account() -> None:
    r = score(
        {"industry": "Software", "employees": 500, "country": "us", "tech_stack": ("HubSpot", "slack")},
        saas(),
    )
    # 25 + 20 + 15 + 10 = 70 of 70 → 100
    assert (r.earned, r.achievable, r.score, r.tier, r.tier_label) == (70, 70, 100.0, "A", "Best match")
    assert r.confidence == 1.0 and r.unknown == [] and not r.disqualified
    assert [line.status for line in r.lines] == ["matched"] * 4


def test_partial_match() -> None:
    r = score(
        {"industry": "fintech", "employees": 5000, "country": "CA", "tech_stack": ("pipedrive",)}, saas()
    )
    # industry 25 + country 15 = 40 of 70 → 57.142… → 57.1 → B (>= 40)
    assert (r.earned, r.achievable, r.score, r.fit_score, r.tier) == (40, 70, 57.1, 57.1, "B")
    assert [line.points for line in r.lines] == [25.0, 0.0, 15.0, 0.0]
    assert [line.max_points for line in r.lines] == [25.0, 20.0, 15.0, 10.0]


def test_unknown_attributes_neutral() -> None:
    r = score({"industry": "retail", "employees": 300}, saas())
    # known: industry (25) + employees (20) = 45 achievable; earned employees 20 → 44.44… → 44.4 → B
    assert (r.earned, r.achievable, r.score, r.tier) == (20, 45, 44.4, "B")
    # confidence = known achievable / all achievable = 45 / 70 = 0.642… → 0.64
    assert r.confidence == 0.64
    assert r.unknown == ["country", "tech_stack"]
    assert [line.status for line in r.lines] == ["missed", "matched", "unknown", "unknown"]


def test_unknown_attributes_no_match() -> None:
    r = score({"industry": "retail", "employees": 300}, saas(missing="no_match"))
    # unknowns count as misses: 20 of 70 → 28.57… → 28.6 → C
    assert (r.earned, r.achievable, r.score, r.tier) == (20, 70, 28.6, "C")
    assert r.confidence == 0.64  # confidence does not depend on the policy
    assert r.unknown == ["country", "tech_stack"]


@pytest.mark.parametrize("blank", [None, "", "  ", float("nan"), ()])
def test_blank_values_are_unknown(blank: Any) -> None:
    full = {"industry": "software", "employees": 500, "country": "US", "tech_stack": blank}
    r = score(full, saas())
    # 60 of 60 known → 100; confidence 60 / 70 = 0.857 → 0.86
    assert (r.score, r.confidence, r.unknown) == (100.0, 0.86, ["tech_stack"])
    assert r.lines[3].status == "unknown" and r.lines[3].value in {"unknown", "none", "", "  "}


def test_negative_points_penalise_and_clamp_at_zero() -> None:
    icp = ICP.model_validate(
        {
            "name": "t",
            "criteria": [
                {"attribute": "industry", "op": "in", "values": ["software"], "points": 30},
                {"attribute": "industry", "op": "eq", "values": ["gambling"], "points": -20},
                {"attribute": "employees", "op": "gte", "values": [50], "points": 10},
            ],
        }
    )
    # achievable 30 (industry: software is the best alternative) + 10 = 40
    r = score({"industry": "gambling", "employees": 100}, icp)
    assert (r.earned, r.achievable, r.score) == (-10, 40, 0.0)  # -20 + 10 → negative → clamped to 0
    r = score({"industry": "gambling", "employees": 10_000, "x": 1}, icp.model_copy())
    assert r.lines[1].status == "matched" and r.lines[1].points == -20.0


def test_no_criteria_scores_zero_with_full_confidence() -> None:
    r = score({"industry": "software"}, ICP(name="empty"))
    assert (r.score, r.fit_score, r.achievable, r.confidence, r.tier) == (0.0, 0.0, 0.0, 1.0, "C")
    assert r.lines == [] and r.unknown == []


def test_only_zero_point_criteria() -> None:
    icp = ICP.model_validate({"name": "t", "criteria": [{"attribute": "a", "op": "exists", "points": 0}]})
    r = score({}, icp)
    assert (r.score, r.confidence) == (0.0, 1.0)


# --- finalize_score and tiers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("earned", "achievable", "expected"),
    [
        (1, 3, 33.3),
        (2, 3, 66.7),
        (1, 2000, 0.1),  # 0.05 rounds half up
        (1399, 2000, 70.0),  # 69.95 rounds half up
        (5, 0, 0.0),
        (0, 0, 0.0),
        (-5, 10, 0.0),
        (15, 10, 100.0),
    ],
)
def test_finalize_score(earned: float, achievable: float, expected: float) -> None:
    assert finalize_score(earned, achievable) == expected


@pytest.mark.parametrize(
    ("p", "q", "expected_score", "expected_tier"),
    [
        (700, 300, 70.0, "A"),  # 700 / 1000 → exactly 70 → A
        (699, 301, 69.9, "B"),  # 699 / 1000 → 69.9 → B
        (1399, 601, 70.0, "A"),  # 1399 / 2000 = 69.95 → rounds to 70.0 → A (tiers use the shown score)
        (400, 600, 40.0, "B"),
        (399, 601, 39.9, "C"),
        (1, 0, 100.0, "A"),
        (0, 1, 0.0, "C"),
    ],
)
def test_tier_boundaries(p: float, q: float, expected_score: float, expected_tier: str) -> None:
    r = score({"a": "x", "b": "z"}, two_criteria(p, q))
    assert (r.score, r.tier) == (expected_score, expected_tier)


def test_pick_tier() -> None:
    tiers = (("A", 70.0), ("B", 40.0))
    assert [pick_tier(s, tiers) for s in (100.0, 70.0, 69.9, 40.0, 39.9, 0.0)] == [
        "A",
        "A",
        "B",
        "B",
        "C",
        "C",
    ]


def test_custom_tiers_and_labels() -> None:
    icp = two_criteria(9, 1, tiers={"Silver": 50, "Gold": 90, "Floor": 0}, tier_labels={"Gold": "Top"})
    r = score({"a": "x", "b": "z"}, icp)  # 9 / 10 → 90 → Gold
    assert (r.score, r.tier, r.tier_label) == (90.0, "Gold", "Top")
    r = score({"a": "z", "b": "y"}, icp)  # 1 / 10 → 10 → Floor (threshold 0)
    assert (r.tier, r.tier_label) == ("Floor", "Floor")
    r = score({"a": "x", "b": "y"}, icp.model_copy(update={"tiers": {"Gold": 90}}))
    assert r.tier == "Gold"


# --- disqualifiers ---------------------------------------------------------------------------


def test_disqualifier_hit_sets_zero_and_fallback_tier() -> None:
    icp = saas(version=3)
    r = score({"industry": "software", "employees": 10, "country": "US"}, icp)
    # fit: industry 25 + country 15 = 40 of 60 known (tech_stack unknown) → 66.66… → 66.7
    assert (r.score, r.tier, r.tier_label, r.fit_score, r.disqualified) == (0.0, "C", "Not a fit", 66.7, True)
    assert [(h.index, h.reason, h.condition, h.value) for h in r.disqualifiers] == [
        (0, "too small to need us", "employees < 20", "10")
    ]
    text = r.explain()
    assert text[0] == "Score 0/100 — tier C (Not a fit) — ICP 'Mid-market SaaS' v3"
    assert text[1] == "⛔ Disqualified: too small to need us (employees < 20: 10); fit points alone: 66.7"


def test_disqualifier_overrides_a_floor_tier() -> None:
    icp = saas(tiers={"A": 70, "Z": 0})
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
    assert (r.score, r.disqualified) == (100.0, False)
    assert r.unchecked_disqualifiers == ["no budget (revenue < 1,000,000)"]
    assert "revenue" in r.unknown
    assert "? Could not check disqualifier: no budget (revenue < 1,000,000)" in r.explain()
    # The confidence figure is about criteria only: every criterion is known here.
    assert r.confidence == 1.0


def test_non_numeric_value_for_numeric_disqualifier_is_checked_and_passes() -> None:
    r = score({"industry": "software", "employees": "lots"}, saas())
    assert not r.disqualified and r.unchecked_disqualifiers == []


def test_presence_disqualifier() -> None:
    icp = saas(disqualifiers=[{"attribute": "domain", "op": "missing", "reason": "no website"}])
    assert score({"industry": "software"}, icp).disqualified
    assert not score({"industry": "software", "domain": "a.com"}, icp).disqualified


# --- groups of alternatives ------------------------------------------------------------------


GROUPS = ICP.model_validate(
    {
        "name": "groups",
        "criteria": [
            {"attribute": "employees", "op": "between", "values": [1, 49], "points": 5},
            {"attribute": "employees", "op": "between", "values": [50, 199], "points": 10},
            {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 20},
            {"attribute": "revenue", "op": "gte", "values": [100], "points": 10},
            {"attribute": "revenue", "op": "lte", "values": [500], "points": 10},
            {"attribute": "country", "op": "eq", "values": ["US"], "points": 5},
        ],
        "missing": "no_match",
    }
)


def test_numeric_alternatives_give_the_best_combination() -> None:
    comp = compile_icp(GROUPS)
    # employees: best band 20 (not 5 + 10 + 20 = 35);
    # revenue: gte 100 and lte 500 can hold together (e.g. 300) → 10 + 10 = 20.
    assert [(g.attribute, g.max_points) for g in comp.groups] == [
        ("employees", 20.0),
        ("revenue", 20.0),
        ("country", 5.0),
    ]
    assert comp.total_max == 45.0
    r = score({"employees": 1000, "revenue": 300, "country": "US"}, GROUPS)
    assert (r.earned, r.achievable, r.score) == (45, 45, 100.0)
    r = score({"employees": 100, "revenue": 50, "country": "FR"}, GROUPS)
    # 10 (50..199) + 10 (lte 500) = 20 of 45 → 44.44… → 44.4
    assert (r.earned, r.score) == (20, 44.4)


def test_mutually_exclusive_values_give_the_best_alternative() -> None:
    # BUG (scoring._candidates): the tuple of every mentioned string is always a candidate, and
    # eq/in match a tuple if any item matches, so on a one-value attribute like industry all
    # three alternatives "match together": achievable is 25 + 15 + 10 = 50 instead of 25.
    icp = ICP.model_validate(
        {
            "name": "t",
            "criteria": [
                {"attribute": "industry", "op": "eq", "values": ["software"], "points": 25},
                {"attribute": "industry", "op": "eq", "values": ["fintech"], "points": 15},
                {"attribute": "industry", "op": "in", "values": ["retail", "services"], "points": 10},
            ],
        }
    )
    assert compile_icp(icp).total_max == 25.0
    assert score({"industry": "software"}, icp).score == 100.0
    assert score({"industry": "fintech"}, icp).score == 60.0  # 15 / 25


def test_group_on_a_list_attribute() -> None:
    icp = ICP.model_validate(
        {
            "name": "t",
            "criteria": [
                {"attribute": "tech_stack", "op": "contains_any", "values": ["salesforce"], "points": 10},
                {"attribute": "tech_stack", "op": "contains_any", "values": ["hubspot"], "points": 5},
                {"attribute": "tech_stack", "op": "not_in", "values": ["pipedrive"], "points": 3},
            ],
        }
    )
    # a stack can hold both salesforce and hubspot and lack pipedrive: 10 + 5 + 3 = 18
    assert compile_icp(icp).total_max == 18.0
    r = score({"tech_stack": ("hubspot", "pipedrive")}, icp)
    assert (r.earned, r.score) == (5, 27.8)  # 5 / 18 = 27.77… → 27.8


def test_group_max_bounds_a_list_attribute_with_an_exclusion() -> None:
    # BUG (scoring._group_max): the candidate lists never try {a, b} without c, so achievable is
    # 13 ({a, b, c}: 10 + 3) while the account below earns 15; its score is only 100 by clamping.
    icp = ICP.model_validate(
        {
            "name": "t",
            "criteria": [
                {"attribute": "t", "op": "contains_all", "values": ["a", "b"], "points": 10},
                {"attribute": "t", "op": "not_in", "values": ["c"], "points": 5},
                {"attribute": "t", "op": "contains_any", "values": ["c"], "points": 3},
            ],
            "missing": "no_match",
        }
    )
    r = score({"t": ("a", "b")}, icp)
    assert r.earned == 15
    assert r.achievable == 15


def test_compound_with_presence_condition_on_another_attribute() -> None:
    # BUG (scoring._group_attribute/_group_max): the compound criterion is grouped under
    # 'industry' and its best total is tried with tech_stack absent, so 'tech_stack exists'
    # fails and max_points is 0. The account earns 10 + 0 of an achievable 10 → 100 instead of 50.
    icp = ICP.model_validate(
        {
            "name": "t",
            "criteria": [
                {
                    "all_of": [
                        {"attribute": "industry", "op": "in", "values": ["software"]},
                        {"attribute": "tech_stack", "op": "exists"},
                    ],
                    "points": 10,
                },
                {"attribute": "country", "op": "eq", "values": ["US"], "points": 10},
            ],
        }
    )
    r = score({"industry": "software", "tech_stack": ("hubspot",), "country": "FR"}, icp)
    assert (r.earned, r.achievable, r.score) == (10, 20, 50.0)


def test_missing_op_is_an_alternative_to_values_of_the_same_attribute() -> None:
    # BUG (design): presence-only criteria get their own group, so 'industry missing' (5) and
    # 'industry in [software]' (10) add up to 15 achievable although no account can earn both;
    # the best possible account scores 66.7.
    icp = ICP.model_validate(
        {
            "name": "t",
            "criteria": [
                {"attribute": "industry", "op": "missing", "points": 5},
                {"attribute": "industry", "op": "in", "values": ["software"], "points": 10},
            ],
            "missing": "no_match",
        }
    )
    assert score({"industry": "software"}, icp).score == 100.0


def test_exists_and_value_on_the_same_attribute_add_up() -> None:
    icp = ICP.model_validate(
        {
            "name": "t",
            "criteria": [
                {"attribute": "tech_stack", "op": "exists", "points": 5},
                {"attribute": "tech_stack", "op": "contains_any", "values": ["hubspot"], "points": 10},
            ],
        }
    )
    r = score({"tech_stack": ("hubspot",)}, icp)
    assert (r.earned, r.achievable, r.score) == (15, 15, 100.0)
    r = score({}, icp)
    # exists is always known (missed here); contains_any is unknown → 0 of 5
    assert (r.earned, r.achievable, r.score, r.confidence) == (0, 5, 0.0, 0.33)


def test_compound_criterion() -> None:
    icp = ICP.model_validate(
        {
            "name": "t",
            "criteria": [
                {
                    "all_of": [
                        {"attribute": "industry", "op": "eq", "values": ["software"]},
                        {"attribute": "employees", "op": "gte", "values": [100]},
                    ],
                    "points": 30,
                },
                {"attribute": "country", "op": "eq", "values": ["US"], "points": 10},
            ],
        }
    )
    both = score({"industry": "software", "employees": 150, "country": "US"}, icp)
    assert (both.earned, both.achievable, both.score) == (40, 40, 100.0)
    assert both.lines[0].value == "industry software; employees 150"
    assert both.lines[0].criterion == "industry = software and employees ≥ 100"
    # One condition known and failed → missed, even though the other is unknown.
    assert score({"industry": "retail", "country": "US"}, icp).lines[0].status == "missed"
    # One condition matched and the other unknown → unknown, left out under neutral: 10 / 10.
    half = score({"industry": "software", "country": "US"}, icp)
    # groups: compound 30 (unknown, left out), country 10 → 10 / 10; confidence 10 / 40 = 0.25
    assert (half.lines[0].status, half.score, half.confidence) == ("unknown", 100.0, 0.25)
    assert "employees" in half.unknown


def test_unknown_lists_only_attributes_without_a_value() -> None:
    # BUG (scoring.score): `unknown` takes every attribute of an unknown compound criterion, so
    # 'industry' is reported unknown although the account says "software".
    icp = ICP.model_validate(
        {
            "name": "t",
            "criteria": [
                {
                    "all_of": [
                        {"attribute": "industry", "op": "eq", "values": ["software"]},
                        {"attribute": "employees", "op": "gte", "values": [100]},
                    ],
                    "points": 30,
                }
            ],
        }
    )
    assert score({"industry": "software"}, icp).unknown == ["employees"]


def test_criterion_status() -> None:
    crit = GROUPS.criteria[2]  # employees between 200 and 2000
    assert criterion_status(crit, {"employees": 200}) == "matched"
    assert criterion_status(crit, {"employees": 199}) == "missed"
    assert criterion_status(crit, {}) == "unknown"


# --- explanation and determinism -------------------------------------------------------------


def test_explain_lines_show_value_and_points() -> None:
    r = score(
        {"industry": "software", "employees": 5000, "tech_stack": ("hubspot", "slack")}, saas(version=2)
    )
    assert r.explain() == [
        # industry 25 + tech_stack 10 = 35 of 55 known (country unknown) → 63.63… → 63.6 → B
        "Score 63.6/100 — tier B (Good fit) — ICP 'Mid-market SaaS' v2",
        "✓ industry in software, fintech — software (+25)",
        "✗ employees between 200 and 2,000 — 5,000 (0 of 20)",
        "? country in US, CA — unknown (0 of 15)",
        "✓ tech_stack has any of salesforce, hubspot — hubspot, slack (+10)",
        "Unknown: country (confidence 79%)",  # 55 / 70 = 0.7857 → 0.79
    ]


def test_evidence_is_carried_to_lines() -> None:
    r = score({}, saas())
    assert r.lines[0].evidence == ["s:1"] and r.lines[1].evidence == []


def test_identical_input_gives_byte_identical_json() -> None:
    account = {"industry": "software", "employees": 10, "country": None, "tech_stack": ("b", "a")}
    first = score(account, saas()).to_json()
    assert score(account, saas()).to_json() == first
    fresh = ICP.from_json(saas().to_json())
    assert score(dict(reversed(account.items())), fresh).to_json() == first
    assert score(account, compile_icp(fresh)).to_json() == first


@given(icp=scoring_icps(), account=accounts())
@settings(max_examples=150, deadline=None)
def test_determinism_and_invariants(icp: ICP, account: dict[str, Any]) -> None:
    r = score(account, icp)
    assert score(dict(reversed(account.items())), ICP.from_json(icp.to_json())).to_json() == r.to_json()
    assert 0.0 <= r.score <= 100.0 and 0.0 <= r.fit_score <= 100.0 and 0.0 <= r.confidence <= 1.0
    assert r.disqualified == bool(r.disqualifiers)
    if r.disqualified:
        assert (r.score, r.tier) == (0.0, "C")
    else:
        assert r.score == r.fit_score
        assert r.tier == pick_tier(r.score, compile_icp(icp).tiers)
    assert r.unknown == sorted(r.unknown)
    assert len(r.explain()) >= 1 + len(icp.criteria)


@given(icp=scoring_icps(), account=accounts())
@settings(max_examples=150, deadline=None)
def test_achievable_bounds_what_any_account_earns(icp: ICP, account: dict[str, Any]) -> None:
    # If this fails, a group's best total is too low and the score is saved only by clamping.
    r = score(account, icp)
    assert r.earned <= r.achievable + 1e-9


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
def monotone_cases(draw: st.DrawFn) -> tuple[ICP, dict[str, Any], dict[str, Any], bool]:
    """An ICP with one criterion per attribute, and an account before/after satisfying one more."""
    attrs = draw(st.permutations(ATTRIBUTES))[: draw(st.integers(1, len(ATTRIBUTES)))]
    criteria = [
        {**draw(condition_dicts(attributes=st.just(a))), "points": draw(nonneg_points)} for a in attrs
    ]
    icp = ICP.model_validate(
        {"name": "m", "criteria": criteria, "missing": draw(st.sampled_from(["neutral", "no_match"]))}
    )
    j = draw(st.integers(0, len(criteria) - 1))
    target = criteria[j]
    op, values = target["op"], target["values"]
    assume(op != "missing")
    known_before = op != "exists" and draw(st.booleans())
    before = dict(draw(accounts()))
    options = [account_values] + ([st.just(_miss(op, values))] if known_before else [missing_values])
    before[target["attribute"]] = draw(st.one_of(*options))
    after = {**before, target["attribute"]: draw(st.one_of(st.just(_hit(op, values)), account_values))}
    known_b, matched_b = evaluate(op, values, before[target["attribute"]])
    _, matched_a = evaluate(op, values, after[target["attribute"]])
    assume(not matched_b and matched_a)
    return icp, before, after, known_b


@given(case=monotone_cases())
@settings(max_examples=200, deadline=None)
def test_satisfying_one_more_criterion_never_lowers_the_score(
    case: tuple[ICP, dict[str, Any], dict[str, Any], bool],
) -> None:
    icp, before, after, known_before = case
    old, new = score(before, icp), score(after, icp)
    assert (
        sum(line.status == "matched" for line in new.lines)
        == sum(line.status == "matched" for line in old.lines) + 1
    )
    assert new.earned >= old.earned
    assert new.fit_score >= old.fit_score, (old.explain(), new.explain())
    if known_before:
        assert new.achievable == old.achievable


def test_monotone_case_helpers_cover_every_op() -> None:
    ops = set(ALL_OPS) - {"missing"}
    samples = {"between": [1, 5], "gt": [3], "gte": [3], "lt": [3], "lte": [3], "exists": []}
    for op in ops:
        values = samples.get(op, ["a", "b"] if op == "contains_all" else ["a"])
        assert evaluate(op, values, _hit(op, values)) == (True, True), op
        if op != "exists":
            assert evaluate(op, values, _miss(op, values)) == (True, False), op
