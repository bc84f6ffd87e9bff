"""The shortcuts `icp analyze` and `learn` take on a million deals give what the plain way gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from icp_engine.crm import CrmData
from icp_engine.learn import _arrow_ranks, _texts
from icp_engine.readers.deal_table import _first_of_each
from icp_engine.stats.input_checks import _HEAD, _same_values
from icp_engine.stats.leakage import _HEAD as LEAK_HEAD
from icp_engine.stats.leakage import _categorical_leak


@pytest.mark.parametrize("size", [1, 7, 1_000_000])  # a table of the codes, and np.unique when sparse
def test_first_of_each_is_np_unique(size: int) -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, min(size, 50), 2_000) * (size // min(size, 50))
    first, number = _first_of_each(codes, size)
    _, expected_first, expected_number = np.unique(codes, return_index=True, return_inverse=True)
    assert first.tolist() == expected_first.tolist()
    assert number.tolist() == expected_number.tolist()


def test_arrow_ranks_sort_as_python_sorts_the_texts() -> None:
    texts = ["b", "a", None, "é", "z", "a", "", "Ω", "😀", "ab", "Z", "ä"]
    column = pd.Series(texts, dtype="str")
    by_ranks = np.lexsort([_arrow_ranks(column)]).tolist()
    assert by_ranks == np.argsort(_texts(column), kind="stable").tolist()


@pytest.mark.parametrize(
    ("at", "left", "right"),
    [(None, "x", "x"), (3, "x", "y"), (_HEAD + 5, "x", "y"), (_HEAD + 5, None, None), (2, None, "x")],
)
def test_same_values_is_equal_or_both_missing(at: int | None, left: str | None, right: str | None) -> None:
    a = pd.Series(["v"] * (_HEAD * 2), dtype=object)
    b = a.copy()
    if at is not None:
        a[at], b[at] = left, right
    assert _same_values(a, b) == bool(((a == b) | (a.isna() & b.isna())).all())


@pytest.mark.parametrize(
    ("stages", "ids"),
    [(["won", "open"], ["A1", "A2"]), (["open", "lost"], ["A1", None]), (["lost", "won"], [None, "A1"])],
)
def test_has_closed_is_a_closed_deal_with_an_account(stages: list[str], ids: list[str | None]) -> None:
    deals = pd.DataFrame({"stage": stages, "account_id": ids})
    crm = CrmData(accounts=pd.DataFrame(), deals=deals, attributes=[])
    assert crm.has_closed() == (not crm.closed.empty)


@pytest.mark.parametrize("mixed_at", [None, 5, LEAK_HEAD + 10])
@pytest.mark.parametrize("lists", [False, True])
def test_leak_check_reads_past_the_first_rows(mixed_at: int | None, lists: bool) -> None:
    """A value mixed only after the first rows still makes no leak; a pure column still leaks."""
    n = LEAK_HEAD * 3
    won = np.arange(n) % 2 == 0
    values = pd.Series(np.where(won, "yes", "no"), dtype=object)
    if mixed_at is not None:
        values[mixed_at] = "no" if won[mixed_at] else "yes"
    if lists:
        values = values.map(lambda v: [v])
    found = _categorical_leak(values, won, min_deals=20)
    assert (found is None) == (mixed_at is not None)
