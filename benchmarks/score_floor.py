"""The floor under ``icp score --accounts``: read, score and write with nothing checked.

    .venv/bin/python benchmarks/score_floor.py ACCOUNTS.csv OUT.csv

Why: ``cli_speed.py`` holds ``icp score`` to a multiple of ``pandas.read_csv`` of the same file.
This script shows how low any implementation could go on the machine of the run: pandas' C parser
reads the file, the benchmark ICP's rules are evaluated as whole-column numpy expressions, and
Arrow writes the scores. It has none of what the command owes its users: no encoding or delimiter
detection, no physical line numbers, no duplicate, type or range checks, no header aliases, no
normalisation of industries, countries or tech stacks, no confidence and no explanation. Its
score is the plain share of the points earned, not the engine's.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

if __name__ == "__main__" and not __package__:  # run as a file: put the repository root on the path
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.scoring import ICP_DOC


def _holds(frame: pd.DataFrame, rule: Mapping[str, Any]) -> np.ndarray:
    """Where one rule of the benchmark ICP holds (missing values never hold), as booleans."""
    return np.asarray(_rule(frame, rule), dtype=bool)


def _rule(frame: pd.DataFrame, rule: Mapping[str, Any]) -> Any:
    if "all_of" in rule:
        return np.logical_and.reduce([_holds(frame, part) for part in rule["all_of"]])
    column = frame[rule["attribute"]]
    op, values = rule["op"], rule.get("values", [])
    present = column.notna().to_numpy()
    if op == "exists":
        return present
    if op in ("in", "eq"):
        return column.isin(values).to_numpy()
    if op == "not_in":
        return present & ~column.isin(values).to_numpy()
    if op in ("contains_any", "contains_all"):
        codes, stacks = pd.factorize(column)  # each distinct stack is split once
        test = any if op == "contains_any" else all
        held = np.array([test(v in stack.split(";") for v in values) for stack in stacks] + [False])
        return held[codes]  # code -1 (missing) takes the trailing False
    numbers = column.to_numpy(np.float64, na_value=np.nan)
    if op == "between":
        return (numbers >= values[0]) & (numbers <= values[1])
    compare = {"gt": np.greater, "gte": np.greater_equal, "lt": np.less, "lte": np.less_equal}[op]
    return np.asarray(compare(numbers, values[0]))


def score_file(source: str, target: str, icp: Mapping[str, Any] = ICP_DOC) -> None:
    frame = pd.read_csv(source)
    criteria = icp["criteria"]
    earned = sum(_holds(frame, rule) * float(rule["points"]) for rule in criteria)
    score = np.round(100 * np.asarray(earned) / sum(float(rule["points"]) for rule in criteria), 1)
    disqualified = np.logical_or.reduce([_holds(frame, rule) for rule in icp["disqualifiers"]])
    score[disqualified] = 0.0
    tiers = sorted(icp["tiers"].items(), key=lambda item: -item[1])
    tier = np.select([score >= floor for _, floor in tiers], [name for name, _ in tiers], "C")
    table = pa.table(
        {
            "account_id": pa.array(frame.iloc[:, 0]),
            "name": pa.array(frame.iloc[:, 1]),
            "score": score,
            "tier": tier,
            "disqualified": disqualified,
        }
    )
    pa_csv.write_csv(table, target)


if __name__ == "__main__":
    score_file(sys.argv[1], sys.argv[2])
