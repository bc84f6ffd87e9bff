"""The trust counters of the quality benchmark, on hand-built ICPs with known answers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from benchmarks import quality_checks
from benchmarks.quality_checks import (
    bin_mask,
    catch_all_bins,
    characteristic_count,
    misleading_bins,
    monotonicity_violations,
)
from icp_engine.model import ICP


def _icp(*criteria: dict[str, Any]) -> ICP:
    return ICP.from_dict({"name": "hand-built", "criteria": list(criteria)})


def _train() -> pd.DataFrame:
    """Software wins 80 of 100, retail 5 of 100, media 3 of 3 lost: overall 85/203 ≈ 42%."""
    rows = (
        [("software", True)] * 80
        + [("software", False)] * 20
        + [("retail", True)] * 5
        + [("retail", False)] * 95
        + [("media", False)] * 3
    )
    return pd.DataFrame(rows, columns=["industry", "won"])


def test_characteristics_count_attributes_not_bins() -> None:
    icp = _icp(
        {"attribute": "industry", "op": "eq", "values": ["software"], "points": 10},
        {"attribute": "industry", "op": "eq", "values": ["retail"], "points": -10},
        {"attribute": "employees", "op": "gte", "values": [200], "points": 5},
    )
    assert characteristic_count(icp) == 2
    assert characteristic_count(_icp()) == 0


def test_a_not_in_bin_with_points_is_one_catch_all_row() -> None:
    icp = _icp(
        {"attribute": "industry", "op": "eq", "values": ["software"], "points": 10},
        {"attribute": "industry", "op": "not_in", "values": ["software", "retail"], "points": 5},
        {"attribute": "country", "op": "ne", "values": ["US"], "points": 0},  # no points: harmless
    )
    found = catch_all_bins(icp)
    assert [c.op for c in found] == ["not_in"]


def test_positive_points_on_a_losing_value_is_one_misleading_row() -> None:
    train = _train()
    icp = _icp(
        {"attribute": "industry", "op": "eq", "values": ["software"], "points": 10},
        {"attribute": "industry", "op": "eq", "values": ["retail"], "points": 4},
    )
    found = misleading_bins(icp, train)
    assert len(found) == 1
    v = found[0]
    assert v.criterion.values == ["retail"] and (v.wins, v.n) == (5, 100)
    assert v.high < v.overall == pytest.approx(85 / 203)
    assert "retail" in v.describe()


def test_negative_points_on_a_winning_value_mislead_and_honest_or_thin_bins_do_not() -> None:
    train = _train()
    wrong = _icp({"attribute": "industry", "op": "eq", "values": ["software"], "points": -6})
    assert len(misleading_bins(wrong, train)) == 1
    honest = _icp(
        {"attribute": "industry", "op": "eq", "values": ["software"], "points": 10},
        {"attribute": "industry", "op": "eq", "values": ["retail"], "points": -10},
        # 0 of 3 is below average but not significantly: not misleading.
        {"attribute": "industry", "op": "eq", "values": ["media"], "points": 2},
        # No training rows at all: nothing to contradict.
        {"attribute": "industry", "op": "eq", "values": ["logistics"], "points": 3},
    )
    assert misleading_bins(honest, train) == []


def test_a_pair_bin_covers_rows_where_both_conditions_hold() -> None:
    frame = pd.DataFrame(
        {"industry": ["fintech", "fintech", "software", None], "employees": [500, 50, 500, 500]}
    )
    icp = _icp(
        {
            "all_of": [
                {"attribute": "industry", "op": "eq", "values": ["fintech"]},
                {"attribute": "employees", "op": "gte", "values": [200]},
            ],
            "points": 12,
        }
    )
    assert bin_mask(frame, icp.criteria[0]).tolist() == [True, False, False, False]
    absent = _icp({"attribute": "country", "op": "eq", "values": ["US"], "points": 5})
    assert not bin_mask(frame, absent.criteria[0]).any()


def _rows() -> pd.DataFrame:
    return pd.DataFrame({"industry": ["software", "retail", "media", None]})


def _industry_icp() -> ICP:
    return _icp(
        {"attribute": "industry", "op": "eq", "values": ["software"], "points": 10},
        {"attribute": "industry", "op": "eq", "values": ["retail"], "points": -10},
    )


def test_blanking_that_moves_a_score_the_wrong_way_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scorer that lifts every account with an unknown industry (as renormalising scores did)."""

    def lifted(frame: pd.DataFrame, icp: ICP) -> np.ndarray:
        points = {"software": 10.0, "retail": -10.0}
        return np.array([55.0 if v is None else 50.0 + points.get(v, 0.0) for v in frame["industry"]])

    monkeypatch.setattr(quality_checks, "_points_score", lifted)
    # software 60 → 55 (earned +10, lowered: fine); retail 40 → 55 (earned −10, raised: fine);
    # media 50 → 55 (earned 0, moved: a violation); the unknown row is not probed.
    assert monotonicity_violations(_industry_icp(), _rows()) == 1


def test_the_engine_scores_unknowns_as_zero_points() -> None:
    assert monotonicity_violations(_industry_icp(), _rows()) == 0
    assert monotonicity_violations(_icp(), _rows()) == 0
