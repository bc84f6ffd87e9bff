"""Batch scoring must give exactly the single-account results, whatever the column types."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_engine.batch import BatchScores, score_batch
from icp_engine.model import ICP
from icp_engine.scoring import ScoreResult, compile_icp, score
from tests.support.strategies import ATTRIBUTES, FLAG_ATTRIBUTE, accounts, scoring_icps

STATUS_CODE = {"matched": 1, "missed": 0, "unknown": -1}
COLUMNS = (*ATTRIBUTES, FLAG_ATTRIBUTE)


def assert_same(batch: BatchScores, singles: Sequence[ScoreResult]) -> None:
    """Every per-account output of the batch path equals the single path, bit for bit."""
    assert len(batch) == len(singles)
    assert batch.score.tolist() == [r.score for r in singles]
    assert batch.fit_score.tolist() == [r.fit_score for r in singles]
    assert batch.points.tolist() == [r.earned for r in singles]
    assert batch.tier.tolist() == [r.tier for r in singles]
    assert batch.disqualified.tolist() == [r.disqualified for r in singles]
    assert batch.confidence.tolist() == [r.confidence for r in singles]
    expected = [[STATUS_CODE[line.status] for line in r.lines] for r in singles]
    assert batch.status.tolist() == expected


def object_column(values: Sequence[Any]) -> np.ndarray:
    """An object array holding each value as it is (np.array would split tuples into a 2-D array)."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out


def frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Columns built the way pandas infers them: numbers-and-NaN become float64, others object/str."""
    return pd.DataFrame({c: pd.Series([r.get(c) for r in rows]) for c in COLUMNS}, index=range(len(rows)))


# Weights (largest |points| per characteristic): industry 25, employees 20, country 15, tech 10 = 70.
SAAS = ICP.model_validate(
    {
        "name": "SaaS",
        "criteria": [
            {"attribute": "industry", "op": "in", "values": ["software", "fintech"], "points": 25},
            {"attribute": "industry", "op": "eq", "values": ["retail"], "points": -10},
            {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 20},
            {"attribute": "country", "op": "in", "values": ["US", "CA"], "points": 15},
            {
                "attribute": "tech_stack",
                "op": "contains_any",
                "values": ["salesforce", "hubspot"],
                "points": 10,
            },
        ],
        "disqualifiers": [{"attribute": "employees", "op": "lt", "values": [20], "reason": "too small"}],
    }
)
SAAS_ROWS: list[dict[str, Any]] = [
    {"industry": "Software", "employees": 500, "country": "US", "tech_stack": ("hubspot",)},
    {"industry": "retail", "employees": 300.0},
    {"industry": "fintech", "employees": 10, "country": "ca", "tech_stack": ()},
    {"industry": None, "employees": math.nan, "country": "", "tech_stack": ("salesforce", "jira")},
]


# --- properties ------------------------------------------------------------------------------


@given(icp=scoring_icps(), rows=st.lists(accounts(), min_size=1, max_size=8))
@settings(max_examples=150, deadline=None)
def test_dataframe_equals_single_path(icp: ICP, rows: list[dict[str, Any]]) -> None:
    assert_same(score_batch(frame(rows), icp), [score(r, icp) for r in rows])


@given(icp=scoring_icps(), rows=st.lists(accounts(), min_size=1, max_size=8))
@settings(max_examples=100, deadline=None)
def test_dict_of_numpy_columns_equals_single_path(icp: ICP, rows: list[dict[str, Any]]) -> None:
    columns = {c: object_column([r.get(c) for r in rows]) for c in COLUMNS}
    assert_same(score_batch(columns, compile_icp(icp)), [score(r, icp) for r in rows])


def _fresh(value: Any) -> Any:
    """An equal value that is another object (texts and tuples rebuilt), as a CSV reader makes them."""
    if isinstance(value, str):
        return "".join(list(value))
    if isinstance(value, tuple):
        return tuple(_fresh(v) for v in value)
    return value


@given(icp=scoring_icps(), rows=st.lists(accounts(), min_size=1, max_size=8), repeat=st.integers(1, 4))
@settings(max_examples=100, deadline=None)
def test_shared_and_separate_objects_score_alike(icp: ICP, rows: list[dict[str, Any]], repeat: int) -> None:
    """Rows sharing one object per value (a normalised column) and rows each holding their own."""
    rows = rows * repeat
    shared = {c: object_column([r.get(c) for r in rows]) for c in COLUMNS}
    separate = {c: object_column([_fresh(r.get(c)) for r in rows]) for c in COLUMNS}
    expected = [score(r, icp) for r in rows]
    assert_same(score_batch(shared, icp), expected)
    assert_same(score_batch(separate, icp), expected)
    tiers = score_batch(separate, icp).to_frame()["tier"]
    assert tiers.tolist() == [r.tier for r in expected] and tiers.dtype == "str"


numeric_values = st.one_of(
    st.just(math.nan),
    st.integers(-5, 3000),
    st.floats(-10, 3000, allow_nan=False),
    st.sampled_from([0.1, 2.5, 5.0, 199.99999999999997, 200.00000000000003, math.inf, -math.inf]),
)


@given(
    icp=scoring_icps(),
    data=st.lists(
        st.lists(numeric_values, min_size=len(COLUMNS), max_size=len(COLUMNS)), min_size=1, max_size=8
    ),
)
@settings(max_examples=100, deadline=None)
def test_pure_float_columns_equal_single_path(icp: ICP, data: list[list[float]]) -> None:
    columns = {c: np.array([float(row[k]) for row in data], dtype=np.float64) for k, c in enumerate(COLUMNS)}
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in data]
    batch = score_batch(columns, icp)
    assert_same(batch, [score(r, icp) for r in rows])
    # The same numbers as an int column (where they are whole) take the same path to the same answer.
    ints = {c: np.array([int(v) if math.isfinite(v) else 0 for v in col]) for c, col in columns.items()}
    int_rows = [{c: ints[c][i] for c in COLUMNS} for i in range(len(rows))]
    assert_same(score_batch(ints, icp), [score(r, icp) for r in int_rows])


@given(icp=scoring_icps(), rows=st.lists(accounts(), min_size=1, max_size=8))
@settings(max_examples=60, deadline=None)
def test_categorical_columns_equal_single_path(icp: ICP, rows: list[dict[str, Any]]) -> None:
    df = frame(rows)
    for c in df.columns:
        if not df[c].map(lambda v: isinstance(v, tuple)).any():
            df[c] = df[c].astype("category")
    assert_same(score_batch(df, icp), [score(r, icp) for r in rows])


# --- examples --------------------------------------------------------------------------------


def test_known_scores() -> None:
    b = score_batch(frame(SAAS_ROWS), SAAS)
    # +70 → 2^3.5 : 1 → 91.9; −10 + 20 = +10 → 58.6; disqualified (fit +40 → 80.0); tech only +10 → 58.6
    assert b.points.tolist() == [70, 10, 40, 10]
    assert b.score.tolist() == [91.9, 58.6, 0.0, 58.6]
    assert b.fit_score.tolist() == [91.9, 58.6, 80.0, 58.6]
    assert b.confidence.tolist() == [1.0, 0.64, 0.86, 0.14]  # 70, 45, 60, 10 of 70 weight known
    # The last account is known on too little of the ICP (0.14 < 0.5) for a tier.
    assert b.tier.tolist() == ["A", "B", "C", "?"]
    assert b.disqualified.tolist() == [False, False, True, False]
    assert_same(b, [score(r, SAAS) for r in SAAS_ROWS])


def test_missing_column_is_unknown() -> None:
    df = frame(SAAS_ROWS).drop(columns=["country", "tech_stack"])
    rows = [{k: v for k, v in r.items() if k in df.columns} for r in SAAS_ROWS]
    b = score_batch(df, SAAS)
    assert [c.describe() for c in SAAS.criteria][3:] == [
        "country in US, CA",
        "tech_stack has any of salesforce, hubspot",
    ]
    assert (b.status[:, 3] == -1).all() and (b.status[:, 4] == -1).all()
    assert_same(b, [score(r, SAAS) for r in rows])


def test_missing_column_scores_zero() -> None:
    b = score_batch({"industry": ["software", "retail"]}, SAAS)
    # Only industry is known: +25 → 70.4 and −10 → 41.4; unknowns add 0 points either way.
    assert b.points.tolist() == [25, -10]
    assert b.score.tolist() == [70.4, 41.4]
    assert b.confidence.tolist() == [0.36, 0.36]  # 25 of 70 → no tier
    assert b.tier.tolist() == ["?", "?"]
    assert_same(b, [score({"industry": v}, SAAS) for v in ["software", "retail"]])


def test_zero_rows() -> None:
    for empty in (frame([]), {}, {"industry": np.array([], dtype=object)}, pd.DataFrame()):
        b = score_batch(empty, SAAS)
        assert len(b) == 0
        assert b.status.shape == (0, len(SAAS.criteria))
        assert b.to_frame().shape == (0, 5)


def test_to_frame_keeps_index_and_labels() -> None:
    df = frame(SAAS_ROWS)
    df.index = pd.Index(["acme", "globex", "initech", "umbrella"], name="account")
    out = score_batch(df, SAAS).to_frame()
    assert out.shape == (4, 5)
    assert list(out.columns) == ["score", "tier", "tier_label", "disqualified", "confidence"]
    assert out.index.equals(df.index)
    assert out.loc["acme", "tier_label"] == "Best match"
    assert out.loc["initech", "tier_label"] == "Not a fit"
    assert out.loc["globex", "score"] == 58.6
    assert out.loc["umbrella", "tier_label"] == "Not enough data"


def test_nullable_pandas_dtypes() -> None:
    df = pd.DataFrame(
        {
            "employees": pd.Series([500, None, 10], dtype="Int64"),
            "industry": pd.Series(["Software", None, "fintech"], dtype="string"),
            "is_partner": pd.Series([True, None, False], dtype="boolean"),
        }
    )
    icp = ICP.model_validate(
        {
            **SAAS.model_dump(exclude={"characteristics"}),
            "criteria": [
                *SAAS.criteria,
                {"attribute": "is_partner", "op": "eq", "values": [True], "points": 5},
            ],
        }
    )
    assert icp.characteristics[-1].name == "is_partner"
    rows = [
        {"employees": 500, "industry": "Software", "is_partner": True},
        {},
        {"employees": 10, "industry": "fintech", "is_partner": False},
    ]
    assert_same(score_batch(df, icp), [score(r, icp) for r in rows])


def test_series_in_a_dict_and_compiled_icp() -> None:
    cols = {c: pd.Series([r.get(c) for r in SAAS_ROWS]) for c in COLUMNS}
    assert_same(score_batch(cols, compile_icp(SAAS)), [score(r, SAAS) for r in SAAS_ROWS])


def test_columns_of_different_lengths_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"columns have different lengths: \[1, 2\]"):
        score_batch({"industry": ["a", "b"], "employees": [1]}, SAAS)


def test_batch_is_deterministic() -> None:
    df = frame(SAAS_ROWS * 3)
    a, b = score_batch(df, SAAS), score_batch(df, ICP.from_json(SAAS.to_json()))
    assert a.to_frame().equals(b.to_frame())
    assert (a.status == b.status).all()


def test_dict_of_plain_lists_with_tuples() -> None:
    # BUG (batch._column_array): np.asarray() turns a list of tuples into a 2-D array (or fails on
    # ragged ones), so a tech_stack column given as a plain list raises a numpy ValueError.
    # Suggested fix: build non-ndarray columns with pd.Series(list(col)) and reuse the Series branch.
    cols = {"tech_stack": [("hubspot", "slack"), ("jira", "git")], "industry": ["software", "retail"]}
    rows = [
        {"tech_stack": ("hubspot", "slack"), "industry": "software"},
        {"tech_stack": ("jira", "git"), "industry": "retail"},
    ]
    assert_same(score_batch(cols, SAAS), [score(r, SAAS) for r in rows])


@pytest.mark.parametrize("build", [pd.DataFrame, lambda d: {k: list(v) for k, v in d.items()}])
def test_booleans_and_numbers_in_one_column(build: Any) -> None:
    # BUG (batch._Column): pd.factorize treats True as 1 and False as 0 (they hash and compare
    # equal), and np.asarray([True, 5]) makes an int array, so a column holding both gets the
    # answers of whichever came first. The single path treats True as the word "true".
    # Suggested fix: factorize on (type is bool, value) keys, and never let bools reach numpy.
    icp = ICP.model_validate(
        {
            "name": "flags",
            "criteria": [
                {"attribute": "f", "op": "eq", "values": [1], "points": 10},
                {"attribute": "f", "op": "gt", "values": [0], "points": 5},
                {"attribute": "g", "op": "eq", "values": [True], "points": 10},
            ],
        }
    )
    values = {"f": [1, True, 0, False], "g": [True, 1, False, 0]}
    rows = [{"f": f, "g": g} for f, g in zip(values["f"], values["g"], strict=True)]
    assert_same(score_batch(build(values), icp), [score(r, icp) for r in rows])
