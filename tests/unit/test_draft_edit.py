"""Applying an owner's edit to a draft (pure): new points, removals, hypotheses given weight."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.icp.drafting import DraftedIcp, DraftOutcome
from bot.services.icp.review import DraftEdit, ReviewError, edited_icp
from icp_engine.model import ICP, Criterion


def outcome(criteria: int = 3, hypotheses: int = 2) -> DraftOutcome:
    return DraftOutcome(
        workspace="T1",
        segment="default",
        version_id=1,
        version=1,
        drafted=DraftedIcp(
            icp=ICP(
                name="Draft",
                criteria=[
                    Criterion(
                        attribute="industry",
                        op="eq",
                        values=[f"i{i}"],
                        points=10 + i,
                        evidence=[f"stat:i{i}"],
                    )
                    for i in range(criteria)
                ],
            ),
            hypotheses=[
                Criterion(attribute="plan", op="eq", values=[f"p{j}"], points=0, evidence=[f"ans:{j}"])
                for j in range(hypotheses)
            ],
        ),
    )


def test_points_removals_and_promotions() -> None:
    icp, hypotheses = edited_icp(
        outcome(), DraftEdit(points={0: 30, 2: -5}, hypothesis_points={1: 7.5}, removed=frozenset({1}))
    )
    assert [(c.describe(), c.points) for c in icp.criteria] == [
        ("industry = i0", 30),
        ("industry = i2", -5),
        ("plan = p1", 7.5),
    ]
    assert icp.criteria[2].evidence == ["ans:1"], "a promoted hypothesis keeps its evidence"
    assert [h.describe() for h in hypotheses] == ["plan = p0"]


def test_no_change_is_the_same_icp() -> None:
    source = outcome()
    icp, hypotheses = edited_icp(source, DraftEdit())
    assert icp == source.icp and hypotheses == source.drafted.hypotheses


@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: abs(x) > 100))
def test_points_out_of_range_are_refused(points: float) -> None:
    with pytest.raises(ReviewError, match="between -100 and 100"):
        edited_icp(outcome(), DraftEdit(points={0: points}))


def test_an_edit_keeps_the_characteristics_and_their_labels() -> None:
    source = outcome(criteria=2, hypotheses=0)
    labelled = ICP.model_validate(
        {
            **source.icp.model_dump(exclude={"characteristics"}),
            "characteristics": [
                {**source.icp.characteristics[0].model_dump(), "label": "Industry"},
                {"attribute": "region", "bins": [{"op": "eq", "values": ["EMEA"], "points": -6}]},
            ],
        }
    )
    hypothesis = Criterion(attribute="industry", op="eq", values=["i9"], points=0, evidence=["ans:9"])
    source = source.model_copy(
        update={"drafted": DraftedIcp(icp=labelled, hypotheses=[hypothesis])},
    )
    icp, hypotheses = edited_icp(source, DraftEdit(hypothesis_points={0: -4}, removed=frozenset({2})))
    assert [(ch.name, [(b.describe(), b.points) for b in ch.bins]) for ch in icp.characteristics] == [
        ("Industry", [("industry = i0", 10), ("industry = i1", 11), ("industry = i9", -4)])
    ], "the promoted hypothesis joins its attribute's characteristic; an emptied one is gone"
    assert hypotheses == []
