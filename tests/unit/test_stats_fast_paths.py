"""The quick paths of analyze/learn give what the plain computations give (issue 15: same results).

List columns are exploded per distinct list, deals are put in time order by ranks of distinct
texts, and accounts are joined to deals by row position; each is checked against the plain way on
generated inputs, including the values where a shortcut would go wrong (1 == 1.0 == True).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_engine.crm import _account_keys, _with_accounts
from icp_engine.learn import _in_time_order
from icp_engine.stats.value_keys import _explode_items, _explode_rows, _Items

SPELLINGS = ["AWS", "aws", " aws ", "GCP", "gcp", "Azure", "", "  ", "k8s"]
item = st.one_of(st.sampled_from(SPELLINGS), st.none())
cell = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.sampled_from(SPELLINGS),
    st.lists(item, max_size=5).map(tuple),
)


def _assert_same(quick: _Items, plain: _Items) -> None:
    np.testing.assert_array_equal(quick.rows, plain.rows)
    np.testing.assert_array_equal(quick.codes, plain.codes)
    assert quick.keys == plain.keys
    assert quick.display == plain.display
    np.testing.assert_array_equal(quick.counts, plain.counts)
    np.testing.assert_array_equal(quick.known, plain.known)


@settings(max_examples=300, deadline=None)
@given(st.lists(cell, max_size=40))
def test_list_items_match_exploding_every_row(cells: list[object]) -> None:
    column = pd.Series(cells, dtype=object, index=np.arange(len(cells)) * 3 + 5)
    _assert_same(_explode_items(column), _explode_rows(column))


def test_most_common_spelling_counts_every_row_holding_the_list() -> None:
    column = pd.Series([("AWS",), ("aws",), ("aws",), ("AWS", "GCP")], dtype=object)
    items = _explode_items(column)
    assert items.display == ["AWS", "GCP"]  # 'AWS' in two rows, 'aws' in two: ties go to the smaller text
    column = pd.Series([("aws",), ("aws",), ("aws",), ("AWS", "GCP")], dtype=object)
    assert _explode_items(column).display == ["aws", "GCP"]
    assert list(_explode_items(column).counts) == [4, 1]


def test_lists_of_other_values_than_texts_are_exploded_row_by_row() -> None:
    column = pd.Series([(True, "a"), (1, "a"), (1.0,), ["b", "b"]], dtype=object)
    _assert_same(_explode_items(column), _explode_rows(column))


close_date = st.one_of(
    st.none(),
    st.dates(min_value=dt.date(2019, 1, 1), max_value=dt.date(2019, 1, 9)),
    st.sampled_from(["2019-01-03", "", "x", 1, 1.0, True]),
)


def _text(value: object) -> str:
    return "" if value is None else str(value)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(close_date, st.sampled_from(["D2", "D10", "D1", 7])), max_size=30))
def test_time_order_sorts_by_the_texts_of_close_date_then_deal_id(rows: list[tuple[object, object]]) -> None:
    deals = pd.DataFrame(
        {
            "close_date": pd.Series([r[0] for r in rows], dtype=object),
            "deal_id": pd.Series([r[1] for r in rows], dtype=object),
            "n": range(len(rows)),
        }
    )
    expected = sorted(range(len(rows)), key=lambda i: (_text(rows[i][0]), _text(rows[i][1])))
    assert _in_time_order(deals)["n"].tolist() == expected


def test_time_order_of_dates_and_text_ids() -> None:
    deals = pd.DataFrame(
        {
            "close_date": pd.Series([dt.date(2020, 3, 1), None, dt.date(2020, 1, 5), dt.date(2020, 3, 1)]),
            "deal_id": pd.Series(["B", "C", "Z", "A"], dtype="str"),
        }
    )
    assert _in_time_order(deals)["deal_id"].tolist() == ["C", "Z", "A", "B"]


def test_accounts_joined_by_position_match_a_merge_on_account_id() -> None:
    accounts = pd.DataFrame(
        {
            "account_id": ["a", "b", "c"],
            "employees": [10, 20, 30],
            "public": [True, False, True],
            "industry": pd.Series(["x", None, "z"], dtype="str"),
            "band": pd.Categorical(["s", "m", "s"]),
        }
    )
    deals = pd.DataFrame(
        {
            "deal_id": ["d1", "d2", "d3"],
            "account_id": np.array(["c", None, "a"], dtype=object),
            "won": [1, 0, 1],
        }
    )
    joined = _with_accounts(deals, accounts, np.array([2, -1, 0]))
    pd.testing.assert_frame_equal(
        joined, deals.merge(accounts, on="account_id", how="left"), check_exact=True
    )
    assert joined["employees"].tolist()[::2] == [30, 10]


def test_accounts_with_a_repeated_id_are_merged() -> None:
    accounts = pd.DataFrame({"account_id": ["a", "a"], "employees": [1, 2]})
    deals = pd.DataFrame({"deal_id": ["d1"], "account_id": ["a"]})
    joined = _with_accounts(deals, accounts, np.array([1]))
    assert joined["employees"].tolist() == [1, 2]  # what the merge gives: one row per matching account


def test_account_keys_taken_by_arrow_make_the_column_the_keys_would() -> None:
    keys = pd.Series(["a", "name:Acme", None], dtype="str")
    for account_of in ([1, -1, 0, 2], [-1, -1], [0], []):
        at = np.array(account_of, dtype=np.int64)
        plain = np.array(
            [None if i < 0 else keys.to_numpy(dtype=object)[i] for i in account_of], dtype=object
        )
        pd.testing.assert_series_equal(
            pd.Series(_account_keys(keys, at)), pd.Series(plain), check_exact=True, obj=str(account_of)
        )
    assert pd.Series(_account_keys(keys, np.array([-1, -1]))).dtype == object  # None only: an object column
