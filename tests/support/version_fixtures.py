"""Two ICP versions that differ in every way a diff reports (re-weighted, added criterion), shared
by the version and export tests at the integration and end-to-end tiers."""

from __future__ import annotations

from typing import Any

V1: dict[str, Any] = {
    "name": "Mid-market SaaS",
    "criteria": [
        {"attribute": "industry", "op": "in", "values": ["software"], "points": 30},
        {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 20},
    ],
    "disqualifiers": [{"attribute": "country", "op": "eq", "values": ["XX"], "reason": "cannot sell there"}],
}
V2: dict[str, Any] = {
    **V1,
    "criteria": [
        {"attribute": "industry", "op": "in", "values": ["software"], "points": 40},
        {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 20},
        {"attribute": "country", "op": "in", "values": ["US"], "points": 10},
    ],
}
