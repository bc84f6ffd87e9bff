"""Properties of the scorecard over random ICPs and accounts, and of learned ICPs.

Random ICPs hold one-attribute characteristics with disjoint value bins (eq/in) or disjoint
numeric range bins (lt/between/gte, with gaps), and value-pair interactions, all with integer
points of either sign. The points an account should earn are computed here independently, bin by
bin with `ops.evaluate`, so the properties check the engine rather than restate it:

- centring: nothing known, or only values in no bin, is exactly 50 and 0 points;
- unknown = 0 points: blanking one attribute removes exactly the points its characteristics gave;
- monotonicity: a new fact moves the score the way its bins' points say (flat only where one-decimal
  rounding cannot show the change, near 0 and 100);
- determinism: byte-identical results across calls and YAML round trips; batch equals single;
- learn: byte-identical output for the same data, and the shape rules of learned ICPs.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icp_engine import crm, sample
from icp_engine.batch import score_batch
from icp_engine.learn import LearnResult, learn
from icp_engine.model import ICP, NO_TIER
from icp_engine.ops import evaluate, is_missing
from icp_engine.scoring import ScoreResult, score, score_from_points

CATEGORIES: dict[str, tuple[str, ...]] = {
    "industry": ("software", "fintech", "retail", "media", "education"),
    "country": ("US", "CA", "GB", "DE", "FR", "AU"),
    "plan": ("free", "pro", "enterprise"),
}
NUMBERS: dict[str, tuple[int, ...]] = {
    "employees": (10, 20, 50, 200, 1000, 5000),
    "revenue": (1, 5, 25, 100, 500),  # in millions
}
ATTRIBUTES = (*CATEGORIES, *NUMBERS)
UNSEEN = "zz-unseen"  # a category value no bin mentions
points_values = st.integers(-40, 40)


# --- random ICPs -----------------------------------------------------------------------------------


@st.composite
def value_characteristic(draw: st.DrawFn, attribute: str) -> dict[str, Any]:
    """Disjoint groups of the attribute's values, each an eq (one value) or in (several) bin."""
    values = draw(st.permutations(CATEGORIES[attribute]))
    used = values[: draw(st.integers(1, len(values)))]
    cuts = (
        sorted(draw(st.sets(st.integers(1, len(used) - 1), max_size=len(used) - 1))) if len(used) > 1 else []
    )
    groups = [list(used[a:b]) for a, b in zip([0, *cuts], [*cuts, len(used)], strict=True)]
    bins = [{"op": "eq" if len(g) == 1 else "in", "values": g, "points": draw(points_values)} for g in groups]
    return {"attribute": attribute, "bins": bins}


@st.composite
def range_characteristic(draw: st.DrawFn, attribute: str) -> dict[str, Any]:
    """Some of the ranges below, between and above sorted cut points; the rest are gaps (0 points)."""
    cuts = sorted(draw(st.sets(st.sampled_from(NUMBERS[attribute]), min_size=1, max_size=4)))
    ranges: list[dict[str, Any]] = [{"op": "lt", "values": [cuts[0]]}]
    ranges += [{"op": "between", "values": [lo, hi - 1]} for lo, hi in itertools.pairwise(cuts)]
    ranges.append({"op": "gte", "values": [cuts[-1]]})
    keep = draw(st.lists(st.booleans(), min_size=len(ranges), max_size=len(ranges)).filter(any))
    return {
        "attribute": attribute,
        "bins": [{**r, "points": draw(points_values)} for r, k in zip(ranges, keep, strict=True) if k],
    }


@st.composite
def pair_characteristic(draw: st.DrawFn) -> dict[str, Any]:
    """Value pairs of two category attributes (an interaction), each pair its own bin."""
    a, b = draw(st.permutations(list(CATEGORIES)))[:2]
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(CATEGORIES[a]), st.sampled_from(CATEGORIES[b])),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    bins = [
        {
            "all_of": [
                {"attribute": a, "op": "eq", "values": [va]},
                {"attribute": b, "op": "eq", "values": [vb]},
            ],
            "points": draw(points_values),
        }
        for va, vb in pairs
    ]
    return {"attributes": [a, b], "bins": bins}


@st.composite
def scorecards(draw: st.DrawFn) -> ICP:
    attrs = draw(st.lists(st.sampled_from(ATTRIBUTES), min_size=1, max_size=len(ATTRIBUTES), unique=True))
    chars = [draw(value_characteristic(a) if a in CATEGORIES else range_characteristic(a)) for a in attrs]
    if draw(st.booleans()):
        chars.insert(draw(st.integers(0, len(chars))), draw(pair_characteristic()))
    doc: dict[str, Any] = {"name": "random scorecard", "characteristics": chars}
    if draw(st.booleans()):
        doc["min_confidence"] = draw(st.sampled_from([0.0, 0.3, 0.5, 0.8, 1.0]))
    if draw(st.booleans()):
        doc["calibration"] = {"base_rate": draw(st.sampled_from([0.05, 0.25, 0.5, 0.9])), "deals": 100}
    if draw(st.booleans()):
        doc["tiers"] = {"A": draw(st.integers(61, 100)), "B": draw(st.integers(0, 60))}
    return ICP.model_validate(doc)


# --- random accounts -------------------------------------------------------------------------------

missing_markers = st.sampled_from([None, math.nan, "", "  "])


def category_values(attribute: str) -> st.SearchStrategy[Any]:
    pool = CATEGORIES[attribute]
    return st.one_of(
        st.sampled_from(pool),
        st.sampled_from(pool).map(str.upper),  # values are matched without regard to case
        st.sampled_from(pool).map(lambda v: f" {v} "),
        st.just(UNSEEN),
    )


def number_values(attribute: str) -> st.SearchStrategy[Any]:
    cuts = NUMBERS[attribute]
    return st.one_of(
        st.sampled_from(cuts),
        st.sampled_from(cuts).map(lambda c: c - 1),
        st.sampled_from(cuts).map(lambda c: c - 0.5),  # in the gap just below a between's top
        st.integers(0, 10_000),
        st.floats(0, 10_000, allow_nan=False).map(lambda x: round(x, 2)),
    )


def known_values(attribute: str) -> st.SearchStrategy[Any]:
    return category_values(attribute) if attribute in CATEGORIES else number_values(attribute)


@st.composite
def accounts(draw: st.DrawFn) -> dict[str, Any]:
    """Some attributes left out, some blank, the rest known (in a bin or not)."""
    out: dict[str, Any] = {}
    for a in ATTRIBUTES:
        kind = draw(st.integers(0, 4))
        if kind == 0:
            continue
        out[a] = draw(missing_markers) if kind == 1 else draw(known_values(a))
    return out


# --- the independent reckoning -----------------------------------------------------------------------


def bin_matches(icp: ICP, account: dict[str, Any]) -> list[bool]:
    """Per bin: every condition holds for a known value."""
    return [
        all(evaluate(c.op, c.values, account.get(c.attribute)) == (True, True) for c in b.conditions)
        for b in icp.criteria
    ]


def expected_points(icp: ICP, account: dict[str, Any]) -> int:
    return sum(int(b.points) for b, hit in zip(icp.criteria, bin_matches(icp, account), strict=True) if hit)


def raw_score(points: float) -> float:
    return 100.0 / (1.0 + float(2.0 ** (-points / 20.0)))


def check_consistent(icp: ICP, account: dict[str, Any], r: ScoreResult) -> None:
    """The result agrees with the independent reckoning of points and the fixed map."""
    assert r.earned == expected_points(icp, account)
    assert r.fit_score == r.score == score_from_points(r.earned)
    assert r.fit_score == math.floor(raw_score(r.earned) * 10.0 + 0.5) / 10.0


def no_bin_value(icp: ICP, attribute: str) -> Any:
    """A known value of this attribute that no bin matches, or None when the bins cover every value."""
    candidates: list[Any] = (
        [UNSEEN] if attribute in CATEGORIES else [-5, *(c - 0.5 for c in NUMBERS[attribute]), 99_999]
    )
    for v in candidates:
        conds = [c for b in icp.criteria for c in b.conditions if c.attribute == attribute]
        if not any(evaluate(c.op, c.values, v) == (True, True) for c in conds):
            return v
    return None


# --- centring ----------------------------------------------------------------------------------------


@given(icp=scorecards(), blanks=st.lists(missing_markers, min_size=len(ATTRIBUTES), max_size=len(ATTRIBUTES)))
@settings(max_examples=150, deadline=None)
def test_an_account_with_nothing_known_is_the_midpoint(icp: ICP, blanks: list[Any]) -> None:
    for account in ({}, dict(zip(ATTRIBUTES, blanks, strict=True))):
        r = score(account, icp)
        assert (r.earned, r.score, r.fit_score) == (0, 50.0, 50.0)
        assert all(c.points == 0 and c.status == "unknown" for c in r.characteristics)
        assert r.confidence == (1.0 if sum(ch.weight for ch in icp.characteristics) == 0 else 0.0)
        if r.confidence < icp.min_confidence:
            assert r.tier == NO_TIER and r.ask_for


@given(icp=scorecards(), blanks=st.lists(st.booleans(), min_size=len(ATTRIBUTES), max_size=len(ATTRIBUTES)))
@settings(max_examples=150, deadline=None)
def test_values_in_no_bin_are_the_midpoint(icp: ICP, blanks: list[bool]) -> None:
    account: dict[str, Any] = {}
    for a, blank in zip(ATTRIBUTES, blanks, strict=True):
        v = no_bin_value(icp, a)
        account[a] = None if blank or v is None else v
    r = score(account, icp)
    assert (r.earned, r.score, r.fit_score) == (0, 50.0, 50.0)
    for line in r.characteristics:
        assert line.points == 0 and line.matched == []
        assert line.status == (
            "unknown" if any(is_missing(account[a]) for a in line.attributes) else "average"
        )
    if icp.calibration is None:
        assert r.win_probability is None
    else:
        assert r.win_probability == pytest.approx(icp.calibration.base_rate)


# --- unknown = 0 points ------------------------------------------------------------------------------


@given(icp=scorecards(), account=accounts(), data=st.data())
@settings(max_examples=300, deadline=None)
def test_blanking_an_attribute_removes_exactly_its_points(
    icp: ICP, account: dict[str, Any], data: st.DataObject
) -> None:
    before = score(account, icp)
    check_consistent(icp, account, before)
    attribute = data.draw(st.sampled_from(ATTRIBUTES))
    blank = data.draw(st.sampled_from([None, math.nan, "", "drop"]))
    after_account = {k: v for k, v in account.items() if k != attribute}
    if blank != "drop":
        after_account[attribute] = blank
    after = score(after_account, icp)
    check_consistent(icp, after_account, after)
    gave = sum(c.points for c in before.characteristics if attribute in c.attributes)
    assert after.earned == before.earned - gave
    for old, new in zip(before.characteristics, after.characteristics, strict=True):
        if attribute in old.attributes:
            assert (new.status, new.points) == ("unknown", 0)
        else:
            assert new == old
    assert after.confidence <= before.confidence


# --- monotonicity ------------------------------------------------------------------------------------


@given(icp=scorecards(), account=accounts(), data=st.data())
@settings(max_examples=300, deadline=None)
def test_a_new_fact_moves_the_score_the_way_its_points_say(
    icp: ICP, account: dict[str, Any], data: st.DataObject
) -> None:
    attribute = data.draw(st.sampled_from(ATTRIBUTES))
    before_account = {**account, attribute: None}
    after_account = {**account, attribute: data.draw(known_values(attribute))}
    before, after = score(before_account, icp), score(after_account, icp)
    check_consistent(icp, before_account, before)
    check_consistent(icp, after_account, after)
    # The points of the bins the fact completes (computed without the engine).
    old_hits, new_hits = bin_matches(icp, before_account), bin_matches(icp, after_account)
    assert all(n for o, n in zip(old_hits, new_hits, strict=True) if o)  # a fact never un-matches a bin
    delta = sum(
        int(b.points) for b, o, n in zip(icp.criteria, old_hits, new_hits, strict=True) if n and not o
    )
    assert after.earned == before.earned + delta
    visible = abs(raw_score(after.earned) - raw_score(before.earned)) >= 0.1
    if delta > 0:
        assert after.score > before.score if visible else after.score >= before.score
    elif delta < 0:
        assert after.score < before.score if visible else after.score <= before.score
    else:
        assert after.score == before.score
    if delta != 0 and not visible:  # only saturation near 0 or 100 can hide a whole point
        assert min(abs(before.earned), abs(after.earned)) > 90
    assert after.confidence >= before.confidence


def test_a_point_is_visible_everywhere_but_near_the_limits() -> None:
    shown = [score_from_points(t) for t in range(-400, 401)]
    assert shown == sorted(shown)
    for t in range(-90, 91):
        assert score_from_points(t + 1) > score_from_points(t)
    assert score_from_points(400) == 100.0 and score_from_points(-400) == 0.0


# --- determinism -------------------------------------------------------------------------------------


@given(icp=scorecards(), account=accounts())
@settings(max_examples=150, deadline=None)
def test_scores_are_byte_identical_across_calls_and_round_trips(icp: ICP, account: dict[str, Any]) -> None:
    first = score(account, icp).to_json()
    assert score(account, icp).to_json() == first
    from_yaml = ICP.from_yaml(icp.to_yaml())
    assert from_yaml == icp and from_yaml.to_yaml() == icp.to_yaml()
    assert score(account, from_yaml).to_json() == first
    assert score(dict(reversed(account.items())), ICP.from_json(icp.to_json())).to_json() == first


@given(icp=scorecards(), rows=st.lists(accounts(), min_size=1, max_size=12))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_batch_agrees_with_single_scores_row_by_row(icp: ICP, rows: list[dict[str, Any]]) -> None:
    frame = pd.DataFrame({a: pd.Series([r.get(a) for r in rows], dtype=object) for a in ATTRIBUTES})
    singles = [score(r, icp) for r in rows]
    for batch in (score_batch(frame, icp), score_batch(frame.infer_objects(), icp)):
        assert batch.score.tolist() == [r.score for r in singles]
        assert batch.tier.tolist() == [r.tier for r in singles]
        assert batch.confidence.tolist() == [r.confidence for r in singles]
        assert batch.points.tolist() == [r.earned for r in singles]


# --- learned ICPs ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_company(tmp_path_factory: pytest.TempPathFactory) -> crm.CrmData:
    folder = tmp_path_factory.mktemp("small_sample")
    paths = sample.write_csv(sample.generate(3, n_accounts=400), Path(folder))
    return crm.load_crm(paths["accounts"], paths["deals"], paths["health"])


@pytest.fixture(scope="module")
def small_learned(small_company: crm.CrmData) -> LearnResult:
    return learn(small_company.closed)


def test_learn_is_byte_identical_on_the_same_data(
    small_company: crm.CrmData, small_learned: LearnResult
) -> None:
    again = learn(small_company.closed.copy())
    assert again.icp.to_yaml() == small_learned.icp.to_yaml()
    assert again.icp.to_json() == small_learned.icp.to_json()
    assert again.selection == small_learned.selection
    assert small_learned.icp.characteristics  # the sample has signal: this is not a trivial ICP


def assert_learned_shape(icp: ICP, max_characteristics: int) -> None:
    assert len(icp.characteristics) <= max_characteristics
    for ch in icp.characteristics:
        assert 1 <= len(ch.attributes) <= 2
        for b in ch.bins:
            assert isinstance(b.points, int) and not isinstance(b.points, bool) and b.points != 0, b
            assert all(c.op not in {"not_in", "ne"} for c in b.conditions), b.describe()
    assert ICP.from_yaml(icp.to_yaml()) == icp


@pytest.mark.parametrize("max_characteristics", [1, 3, None])
def test_learned_icps_keep_the_scorecard_rules(
    small_company: crm.CrmData, small_learned: LearnResult, max_characteristics: int | None
) -> None:
    if max_characteristics is None:
        result, limit = small_learned, 10
    else:
        result, limit = (
            learn(small_company.closed, max_characteristics=max_characteristics),
            max_characteristics,
        )
    assert_learned_shape(result.icp, limit)
    assert result.icp.characteristics


@st.composite
def synthetic_deals(draw: st.DrawFn) -> pd.DataFrame:
    """A few hundred deals over two categories and a number, with random (seeded) effects."""
    seed = draw(st.integers(0, 2**16))
    n = draw(st.integers(200, 600))
    rng = np.random.default_rng(seed)
    plan = rng.choice(["free", "pro", "enterprise", "custom"], n)
    region = rng.choice(["EMEA", "APAC", "AMER"], n)
    seats = rng.integers(1, 2000, n).astype(float)
    effect = {"free": -1.2, "pro": 0.0, "enterprise": 0.8, "custom": draw(st.sampled_from([-0.5, 0.0, 1.0]))}
    logit = np.array([effect[p] for p in plan]) + draw(st.sampled_from([0.0, 0.6])) * (seats > 500) - 0.7
    won = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    return pd.DataFrame(
        {
            "account_id": [f"a{i}" for i in range(n)],
            "won": won,
            "plan": plan,
            "region": region,
            "seats": seats,
        }
    )


@given(deals=synthetic_deals(), max_characteristics=st.integers(1, 3))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_learned_icps_keep_the_scorecard_rules_on_random_data(
    deals: pd.DataFrame, max_characteristics: int
) -> None:
    first = learn(deals, max_characteristics=max_characteristics)
    assert_learned_shape(first.icp, max_characteristics)
    assert learn(deals.copy(), max_characteristics=max_characteristics).icp.to_yaml() == first.icp.to_yaml()
