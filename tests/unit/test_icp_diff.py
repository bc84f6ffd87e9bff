"""The ICP diff: empty against itself, symmetric, and right about what changed on hand-made pairs."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from icp_engine.diff import CriterionChange, IcpDiff, change_lines, diff_icps
from icp_engine.model import ICP
from tests.support.strategies import round_trip_icps, scoring_icps

BASE: dict[str, Any] = {
    "name": "Mid-market SaaS",
    "criteria": [
        {"attribute": "industry", "op": "in", "values": ["software", "fintech"], "points": 25},
        {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 20},
        {"attribute": "country", "op": "in", "values": ["US", "CA"], "points": 15},
    ],
    "disqualifiers": [{"attribute": "employees", "op": "lt", "values": [20], "reason": "too small"}],
    "tiers": {"A": 70, "B": 40},
}


def icp(**changes: Any) -> ICP:
    return ICP.model_validate({**json.loads(json.dumps(BASE)), **changes})


def _key(obj: Any) -> str:
    return json.dumps(obj.model_dump(mode="json"), sort_keys=True)


def canonical(d: IcpDiff) -> dict[str, Any]:
    """Order-free view of a diff (pairing order follows the first argument's list order)."""
    return {
        "added": sorted(_key(c) for c in d.criteria_added),
        "removed": sorted(_key(c) for c in d.criteria_removed),
        "changed": sorted((_key(c.before), _key(c.after)) for c in d.criteria_changed),
        "d_added": sorted(_key(c) for c in d.disqualifiers_added),
        "d_removed": sorted(_key(c) for c in d.disqualifiers_removed),
        "d_changed": sorted((_key(c.before), _key(c.after)) for c in d.disqualifiers_changed),
        "tiers": sorted((t.name, t.before, t.after) for t in d.tiers),
        "labels": sorted((t.name, t.before, t.after) for t in d.tier_labels),
        "settings": sorted((t.name, str(t.before), str(t.after)) for t in d.settings),
    }


@settings(max_examples=150, deadline=None)
@given(st.one_of(scoring_icps(), round_trip_icps()))
def test_a_version_against_itself_has_no_changes(a: ICP) -> None:
    d = diff_icps(a, a)
    assert d.empty and d.summary() == "no changes"
    assert diff_icps(a, a.model_copy(update={"version": (a.version or 0) + 1})).empty


@settings(max_examples=200, deadline=None)
@given(st.one_of(scoring_icps(), round_trip_icps()), st.one_of(scoring_icps(), round_trip_icps()))
def test_diff_is_symmetric(a: ICP, b: ICP) -> None:
    forward, backward = diff_icps(a, b), diff_icps(b, a)
    assert canonical(backward) == canonical(forward.reversed())
    assert forward.empty == backward.empty
    # Every criterion of each side is accounted for exactly once.
    unchanged = len(a.criteria) - len(forward.criteria_removed) - len(forward.criteria_changed)
    assert unchanged >= 0
    assert len(b.criteria) == unchanged + len(forward.criteria_added) + len(forward.criteria_changed)


@settings(max_examples=100, deadline=None)
@given(scoring_icps(), st.data())
def test_dropping_criteria_shows_them_removed_and_nothing_else(a: ICP, data: st.DataObject) -> None:
    keep = data.draw(st.lists(st.booleans(), min_size=len(a.criteria), max_size=len(a.criteria)))
    kept = [c for c, k in zip(a.criteria, keep, strict=True) if k]
    b = ICP.model_validate({**a.model_dump(exclude={"characteristics"}), "criteria": kept})
    d = diff_icps(a, b)
    assert sorted(_key(c) for c in d.criteria_removed) == sorted(
        _key(c) for c, k in zip(a.criteria, keep, strict=True) if not k
    )
    assert not d.criteria_added and not d.criteria_changed and not d.tiers


def test_added_removed_reweighted_and_condition_changed() -> None:
    before = icp()
    criteria = json.loads(json.dumps(BASE["criteria"]))
    criteria[0]["points"] = 30  # re-weighted
    criteria[1]["values"] = [100, 5000]  # condition changed, same points
    del criteria[2]  # removed
    criteria.append({"attribute": "tech_stack", "op": "contains_any", "values": ["hubspot"], "points": 10})
    after = icp(criteria=criteria, tiers={"A": 75, "B": 40}, target="value", min_confidence=0.6)
    d = diff_icps(before, after)
    assert [c.attribute for c in d.criteria_added] == ["tech_stack"]
    assert [c.attribute for c in d.criteria_removed] == ["country"]
    assert [(c.before.attribute, c.points_delta) for c in d.reweighted] == [("industry", 5.0)]
    assert [c.after.describe() for c in d.reworded] == ["employees between 100 and 5,000"]
    assert [(t.name, t.before, t.after) for t in d.tiers] == [("A", 70.0, 75.0)]
    assert [(s.name, s.before, s.after) for s in d.settings] == [
        ("target", "win rate of closed deals", "expected won value (win × deal value)"),
        ("minimum confidence", "50%", "60%"),
    ]
    assert d.summary() == (
        "criteria: 1 added, 1 removed, 1 re-weighted, 1 condition changed; tiers changed; "
        "target changed; minimum confidence changed"
    )
    assert ("Other", "minimum confidence: 50% → 60%") in change_lines(d)
    assert ("Re-weighted", "industry in software, fintech: +25 → +30 (+5)") in change_lines(d)


def test_all_of_order_and_evidence() -> None:
    compound = {
        "all_of": [
            {"attribute": "industry", "op": "eq", "values": ["software"]},
            {"attribute": "country", "op": "eq", "values": ["US"]},
        ],
        "points": 10,
    }
    swapped = {**compound, "all_of": list(reversed(compound["all_of"])), "evidence": ["stat:1"]}
    d = diff_icps(icp(criteria=[compound]), icp(criteria=[swapped]))
    assert len(d.criteria_changed) == 1
    change: CriterionChange = d.criteria_changed[0]
    assert not change.condition_changed and not change.points_changed and change.details_changed
    assert "re-labelled or re-sourced" in d.summary()


def test_disqualifier_and_tier_label_changes() -> None:
    after = icp(
        disqualifiers=[
            {"attribute": "employees", "op": "lt", "values": [20], "reason": "no budget"},
            {"attribute": "country", "op": "eq", "values": ["XX"], "reason": "embargo"},
        ],
        tiers={"A": 70, "B": 40, "Gold": 90},
        tier_labels={"A": "Best", "B": "Good fit", "C": "Not a fit"},
    )
    d = diff_icps(icp(), after)
    assert [x.reason for x in d.disqualifiers_added] == ["embargo"]
    assert [(c.before.reason, c.after.reason) for c in d.disqualifiers_changed] == [
        ("too small", "no budget")
    ]
    assert [(t.name, t.before, t.after) for t in d.tiers] == [("Gold", None, 90.0)]
    assert [(t.name, t.before, t.after) for t in d.tier_labels] == [("A", "Best match", "Best")]


def test_characteristics_diff_bin_by_bin_with_negative_points_and_calibration() -> None:
    before = ICP.model_validate(
        {
            "name": "Scorecard",
            "characteristics": [
                {
                    "attribute": "industry",
                    "bins": [
                        {"op": "eq", "values": ["fintech"], "points": 12},
                        {"op": "eq", "values": ["retail"], "points": -8},
                    ],
                }
            ],
            "calibration": {"base_rate": 0.2, "deals": 400},
        }
    )
    after = ICP.model_validate(
        {
            **before.to_dict(),
            "characteristics": [
                {
                    "attribute": "industry",
                    "bins": [
                        {"op": "eq", "values": ["fintech"], "points": 12},
                        {"op": "eq", "values": ["retail"], "points": -12},
                        {"op": "eq", "values": ["software"], "points": 9},
                    ],
                }
            ],
            "calibration": {"base_rate": 0.25, "deals": 520},
        }
    )
    d = diff_icps(before, after)
    lines = change_lines(d)
    assert ("Criteria added", "+9 industry = software") in lines
    assert ("Re-weighted", "industry = retail: −8 → −12 (−4)") in lines
    assert (
        "Other",
        "calibration: average account wins 20.0% (400 deals) → average account wins 25.0% (520 deals)",
    ) in lines
    assert diff_icps(after, before).summary() == "criteria: 1 removed, 1 re-weighted; calibration changed"
