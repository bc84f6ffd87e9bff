"""How bins and points read: one wording shared by Slack, the exports and the terminal."""

from __future__ import annotations

from typing import Any

import pytest

from icp_engine.model import Characteristic, Condition
from icp_engine.wording import bin_text, characteristic_text, condition_value, signed_points


@pytest.mark.parametrize(
    ("points", "text"),
    [(12, "+12"), (-8, "−8"), (0, "0"), (2.5, "+2.5"), (-1 / 3, "−0.3"), (12.0, "+12")],
)
def test_signed_points_use_a_real_minus_sign(points: float, text: str) -> None:
    assert signed_points(points) == text


@pytest.mark.parametrize(
    ("op", "values", "text"),
    [
        ("eq", ["fintech"], "fintech"),
        ("ne", ["fintech"], "not fintech"),
        ("in", ["software", "fintech"], "software or fintech"),
        ("not_in", ["a", "b"], "none of a, b"),
        ("between", [200, 2000], "200 to 2,000"),
        ("gte", [1000], "≥ 1,000"),
        ("contains_any", ["salesforce"], "has salesforce"),
        ("contains_all", ["a", "b"], "has all of a, b"),
        ("exists", [], "known"),
        ("missing", [], "unknown"),
    ],
)
def test_a_condition_reads_without_its_attribute(op: str, values: list[Any], text: str) -> None:
    assert condition_value(Condition(attribute="x", op=op, values=values)) == text


def test_pair_bins_follow_the_characteristic_order_and_partial_ones_keep_names() -> None:
    ch = Characteristic.model_validate(
        {
            "attributes": ["lead_source", "region"],
            "bins": [
                {
                    "all_of": [
                        {"attribute": "region", "op": "eq", "values": ["EMEA"]},
                        {"attribute": "lead_source", "op": "eq", "values": ["inbound"]},
                    ],
                    "points": 6,
                },
                {"attribute": "region", "op": "eq", "values": ["NA"], "points": -4},
                {
                    "attribute": "region",
                    "op": "eq",
                    "values": ["LATAM"],
                    "points": 2,
                    "label": "Latin America",
                },
            ],
        }
    )
    assert [bin_text(ch, b) for b in ch.bins] == ["inbound & EMEA", "region = NA", "Latin America"]
    assert (
        characteristic_text(ch)
        == "lead_source × region: inbound & EMEA +6 · region = NA −4 · Latin America +2"
    )
    assert characteristic_text(ch, max_bins=1) == "lead_source × region: inbound & EMEA +6 · …and 2 more"
