"""The benchmark's floor script scores what it claims to: the plain share of the ICP's points."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmarks.score_floor import score_file

ICP = {
    "criteria": [
        {"attribute": "industry", "op": "in", "values": ["software"], "points": 20},
        {"attribute": "industry", "op": "not_in", "values": ["retail"], "points": 5},
        {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 15},
        {"attribute": "tech_stack", "op": "contains_any", "values": ["jira", "slack"], "points": 10},
        {"attribute": "tech_stack", "op": "contains_all", "values": ["jira", "slack"], "points": 10},
        {"attribute": "plan", "op": "exists", "points": 40},
    ],
    "disqualifiers": [{"attribute": "employees", "op": "lt", "values": [10]}],
    "tiers": {"A": 70, "B": 40},
}


def test_floor_scores_the_plain_share_of_points(tmp_path: Path) -> None:
    source, target = tmp_path / "a.csv", tmp_path / "o.csv"
    source.write_text(
        "Account ID,Account Name,industry,employees,tech_stack,plan\n"
        "1,Alpha,software,500,jira;slack,pro\n"  # every rule: 100
        "2,Beta,retail,150,jiraX,\n"  # jiraX is not jira; retail fails not_in: 0
        "3,Gamma,,5,slack,pro\n"  # disqualified (fewer than 10 employees)
        "4,Delta,energy,,slack,\n",  # not_in 5 + contains_any 10 = 15
        encoding="utf-8",
    )
    score_file(str(source), str(target), ICP)
    out = pd.read_csv(target)
    assert out["account_id"].tolist() == [1, 2, 3, 4]
    assert out["score"].tolist() == [100.0, 0.0, 0.0, 15.0]
    assert out["tier"].tolist() == ["A", "C", "C", "C"]
    assert out["disqualified"].tolist() == [False, False, True, False]
