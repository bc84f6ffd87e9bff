"""Operator semantics on one account value (icp_engine.ops): the single definition both scoring paths use."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_engine.ops import as_items, as_number, evaluate, is_missing, value_key

MISSING: list[Any] = [None, math.nan, np.nan, float("nan"), "", "   ", "\t\n", (), [], set(), pd.NA, pd.NaT]
NOT_MISSING: list[Any] = [0, 0.0, False, "0", "x", ("a",), -1, math.inf]
NON_PRESENCE_OPS: list[tuple[str, list[Any]]] = [
    ("eq", ["x"]),
    ("ne", ["x"]),
    ("in", ["x", "y"]),
    ("not_in", ["x"]),
    ("gt", [1]),
    ("gte", [1]),
    ("lt", [1]),
    ("lte", [1]),
    ("between", [1, 2]),
    ("contains_any", ["x"]),
    ("contains_all", ["x", "y"]),
]


# --- missing values --------------------------------------------------------------------------


@pytest.mark.parametrize("v", MISSING, ids=repr)
def test_is_missing_for_unknown_markers(v: Any) -> None:
    assert is_missing(v)


@pytest.mark.parametrize("v", NOT_MISSING, ids=repr)
def test_zero_false_and_real_values_are_known(v: Any) -> None:
    assert not is_missing(v)


@pytest.mark.parametrize("v", MISSING, ids=repr)
@pytest.mark.parametrize(("op", "values"), NON_PRESENCE_OPS, ids=lambda x: str(x))
def test_every_value_op_is_unknown_on_missing(op: str, values: list[Any], v: Any) -> None:
    # Unknown is neither a match nor a miss, even for ne/not_in which a missing value "is not equal to".
    assert evaluate(op, values, v) == (False, False)


@pytest.mark.parametrize("v", MISSING, ids=repr)
def test_presence_ops_on_missing(v: Any) -> None:
    assert evaluate("exists", [], v) == (True, False)
    assert evaluate("missing", [], v) == (True, True)


@pytest.mark.parametrize("v", NOT_MISSING, ids=repr)
def test_presence_ops_on_known(v: Any) -> None:
    assert evaluate("exists", [], v) == (True, True)
    assert evaluate("missing", [], v) == (True, False)


# --- equality and sets -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("v", "expected"),
    [("software", True), ("Software", True), ("  SOFTWARE ", True), ("soft ware", False), ("fintech", False)],
)
def test_eq_is_case_and_space_insensitive(v: str, expected: bool) -> None:
    assert evaluate("eq", ["software"], v) == (True, expected)
    assert evaluate("ne", ["software"], v) == (True, not expected)


def test_inner_whitespace_is_collapsed_not_removed() -> None:
    assert evaluate("eq", ["North  America"], " north america\t") == (True, True)
    assert evaluate("eq", ["North America"], "northamerica") == (True, False)


@pytest.mark.parametrize("icp_value", [5, 5.0, "5", " 5.0 ", "5e0"])
@pytest.mark.parametrize("v", [5, 5.0, "5", "5.00", " 5 ", np.int64(5), np.float32(5)])
def test_numbers_and_numeric_strings_are_equal(icp_value: Any, v: Any) -> None:
    assert evaluate("eq", [icp_value], v) == (True, True)
    assert evaluate("in", ["x", icp_value], v) == (True, True)
    assert evaluate("not_in", [icp_value], v) == (True, False)


def test_value_key_identities() -> None:
    assert value_key("5") == value_key(5) == value_key(5.0) == ("n", 5.0)
    assert value_key(" Hub  Spot ") == ("s", "hub spot")
    # Booleans are words, not 0/1: a "true" flag must not equal the number 1.
    assert value_key(True) == value_key("TRUE") == ("s", "true")
    assert value_key(True) != value_key(1)
    assert value_key(np.bool_(False)) == value_key(False)
    # Non-finite text stays text, so "nan" is never a number that equals nothing.
    assert value_key("nan") == ("s", "nan")


@pytest.mark.parametrize("v", [True, "true", "True"])
def test_bool_values(v: Any) -> None:
    assert evaluate("eq", [True], v) == (True, True)
    assert evaluate("eq", [1], v) == (True, False)


@pytest.mark.parametrize(
    ("op", "values", "v", "expected"),
    [
        ("in", ["US", "CA"], "ca", True),
        ("in", ["US", "CA"], "MX", False),
        ("not_in", ["US", "CA"], "MX", True),
        ("not_in", ["US", "CA"], "us", False),
        ("ne", [10], 10.0, False),
        ("ne", [10], 11, True),
        ("eq", ["x"], 0, False),
    ],
)
def test_set_ops(op: str, values: list[Any], v: Any, expected: bool) -> None:
    assert evaluate(op, values, v) == (True, expected)


# --- numeric ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "bound", "below", "at", "above"),
    [
        ("gt", 100, False, False, True),
        ("gte", 100, False, True, True),
        ("lt", 100, True, False, False),
        ("lte", 100, True, True, False),
    ],
)
def test_comparisons_around_the_bound(op: str, bound: float, below: bool, at: bool, above: bool) -> None:
    assert evaluate(op, [bound], 99.99) == (True, below)
    assert evaluate(op, [bound], 100) == (True, at)
    assert evaluate(op, [bound], "100") == (True, at)
    assert evaluate(op, [bound], 100.01) == (True, above)


@pytest.mark.parametrize(
    ("v", "expected"),
    [
        (199, False),
        (199.999, False),
        (200, True),
        (200.0, True),
        (1000, True),
        (2000, True),
        (2000.001, False),
    ],
)
def test_between_is_inclusive_at_both_ends(v: float, expected: bool) -> None:
    assert evaluate("between", [200, 2000], v) == (True, expected)


def test_between_a_single_point() -> None:
    assert evaluate("between", [5, 5], 5) == (True, True)
    assert evaluate("between", [5, 5], 5.000001) == (True, False)


@pytest.mark.parametrize("v", ["abc", "5 employees", "n/a", "nan", "inf", True, False, ("a",), object()])
@pytest.mark.parametrize("op", ["gt", "gte", "lt", "lte", "between"])
def test_non_numeric_value_for_numeric_op_is_known_and_not_matched(op: str, v: Any) -> None:
    values = [1, 10] if op == "between" else [1]
    assert evaluate(op, values, v) == (True, False)


def test_numeric_strings_with_thousand_separators_compare() -> None:
    assert evaluate("gte", [1000], "1,000") == (True, True)
    assert evaluate("lt", [1000], " 999.5 ") == (True, True)


@pytest.mark.parametrize(
    ("v", "expected"),
    [
        (5, 5.0),
        ("5", 5.0),
        (" -2.5 ", -2.5),
        ("1,500", 1500.0),
        (np.int32(3), 3.0),
        (True, None),
        ("x", None),
    ],
)
def test_as_number(v: Any, expected: float | None) -> None:
    assert as_number(v) == expected


def test_as_number_rejects_nan_and_nonfinite_text() -> None:
    assert as_number(math.nan) is None
    assert as_number("nan") is None
    assert as_number("inf") is None
    assert as_number(None) is None


@given(
    x=st.floats(allow_nan=False, allow_infinity=False), lo=st.integers(-1000, 1000), width=st.integers(0, 500)
)
@settings(max_examples=150, deadline=None)
def test_numeric_ops_agree_with_python_comparisons(x: float, lo: int, width: int) -> None:
    hi = lo + width
    assert evaluate("gt", [lo], x) == (True, x > lo)
    assert evaluate("gte", [lo], x) == (True, x >= lo)
    assert evaluate("lt", [lo], x) == (True, x < lo)
    assert evaluate("lte", [lo], x) == (True, x <= lo)
    assert evaluate("between", [lo, hi], x) == (True, lo <= x <= hi)
    # The same number written as text compares the same way.
    assert evaluate("between", [lo, hi], repr(x)) == evaluate("between", [lo, hi], x)


# --- list attributes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "values", "v", "expected"),
    [
        ("contains_any", ["salesforce", "hubspot"], ("HubSpot", "slack"), True),
        ("contains_any", ["salesforce", "hubspot"], ("slack",), False),
        ("contains_any", ["salesforce"], ["Salesforce"], True),
        ("contains_any", ["salesforce"], {"salesforce", "jira"}, True),
        ("contains_all", ["salesforce", "hubspot"], ("hubspot", " Salesforce", "jira"), True),
        ("contains_all", ["salesforce", "hubspot"], ("hubspot", "jira"), False),
        ("contains_all", ["salesforce", "salesforce"], ("salesforce",), True),
        # A scalar is a one-item list.
        ("contains_any", ["salesforce", "hubspot"], "hubspot", True),
        ("contains_all", ["salesforce"], "SALESFORCE", True),
        ("contains_all", ["salesforce", "hubspot"], "salesforce", False),
        ("contains_any", [5], ("5",), True),
    ],
)
def test_list_ops(op: str, values: list[Any], v: Any, expected: bool) -> None:
    assert evaluate(op, values, v) == (True, expected)


@pytest.mark.parametrize(
    ("op", "v", "expected"),
    [
        ("eq", ("software",), True),
        ("eq", ("software", "fintech"), True),
        ("in", ("retail", "FINTECH"), True),
        ("ne", ("retail",), True),
        ("ne", ("retail", "software"), False),
        ("not_in", ("retail", "hardware"), True),
    ],
)
def test_set_ops_on_list_attribute_test_any_item(op: str, v: tuple[str, ...], expected: bool) -> None:
    values = ["software", "fintech"] if op in {"in", "not_in"} else ["software"]
    assert evaluate(op, values, v) == (True, expected)


def test_missing_items_inside_a_list_are_ignored() -> None:
    assert evaluate("contains_any", ["x"], (None, "", math.nan)) == (True, False)
    assert evaluate("contains_all", ["x"], (None, "X")) == (True, True)


def test_as_items() -> None:
    assert as_items(("a", "b")) == ("a", "b")
    assert as_items(["a"]) == ("a",)
    assert as_items("a") == ("a",)
    assert as_items(5) == (5,)


@given(
    items=st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=4).map(tuple),
    wanted=st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=3),
)
@settings(max_examples=100, deadline=None)
def test_list_ops_are_set_semantics(items: tuple[str, ...], wanted: list[str]) -> None:
    if not items:
        assert evaluate("contains_any", wanted, items) == (False, False)
        return
    upper = tuple(i.upper() for i in items)
    assert evaluate("contains_any", wanted, upper) == (True, bool(set(items) & set(wanted)))
    assert evaluate("contains_all", wanted, upper) == (True, set(wanted) <= set(items))
    assert evaluate("in", wanted, upper)[1] == evaluate("contains_any", wanted, items)[1]
    assert evaluate("not_in", wanted, upper)[1] != evaluate("in", wanted, items)[1]
