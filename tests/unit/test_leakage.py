"""Refusing the outcome, or a column derived from it, as a feature (issue 13: `backtest --features`
accepted the outcome column and reported AUC 1.0)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_engine.stats.leakage import Leak, OutcomeLeakError, find_leaks, leak_message, refuse_leaks

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _deals(n_won: int = 30, n_lost: int = 70, seed: int = 1) -> pd.DataFrame:
    """Closed deals with honest features (noise) beside leaky ones."""
    rng = np.random.default_rng(seed)
    won = np.array([True] * n_won + [False] * n_lost)
    n = len(won)
    return pd.DataFrame(
        {
            "won": won,
            "industry": rng.choice(["software", "retail", "fintech"], n),
            "employees": rng.integers(5, 5000, n).astype(float),
            "Deal Stage": np.where(won, "Closed Won", "Closed Lost"),
            "pipeline": np.where(
                won, "Won - signed", np.where(np.arange(n) % 2, "Lost: price", "Lost: timing")
            ),
            "close_value": np.where(won, rng.integers(1000, 9000, n), 0).astype(float),
            "loss_note": [
                None if w else r
                for w, r in zip(won, rng.choice(["price", "timing", "competitor"], n), strict=True)
            ],
            "probability": np.where(won, 100.0, 0.0),
            "days_open": np.where(won, rng.integers(100, 200, n), rng.integers(1, 99, n)).astype(float),
        }
    )


def test_honest_features_pass() -> None:
    assert find_leaks(_deals(), ["industry", "employees"]) == []
    refuse_leaks(_deals(), ["industry", "employees"])  # no error


@pytest.mark.parametrize(
    ("column", "outcome", "reason"),
    [
        ("Deal Stage", "Deal Stage", "is the outcome column"),
        ("deal_stage", "Deal Stage", "is the outcome column"),
        ("deal_stage_id", "deal_stage", "is named after the outcome column 'deal_stage'"),
        ("status", None, "names a deal outcome"),
        ("is_won", None, "names a deal outcome"),
        ("Closed Won", None, "names a deal outcome"),
        ("result_code", None, "names a deal outcome"),
        ("won", None, "names a deal outcome"),
        ("Loss Reason", None, "names a deal outcome"),
    ],
)
def test_outcome_names_are_refused_whatever_the_data(column: str, outcome: str | None, reason: str) -> None:
    frame = pd.DataFrame({"won": [True, False], column: ["a", "a"]})
    (leak,) = find_leaks(frame, [column], outcome=outcome)
    assert leak.column == column and leak.reason.startswith(reason)


def test_a_column_whose_values_determine_the_outcome() -> None:
    leaks = {leak.column: leak.reason for leak in find_leaks(_deals(), ["pipeline", "loss_note", "industry"])}
    assert set(leaks) == {"pipeline", "loss_note"}
    assert "'Won - signed': 30 won, none lost" in leaks["pipeline"]
    assert "empty: 30 won, none lost" in leaks["loss_note"]  # set only on lost deals


def test_a_value_that_is_zero_for_every_lost_deal() -> None:
    (leak,) = find_leaks(_deals(), ["close_value"])
    assert leak.reason.startswith("is 0 or empty for every lost deal (70) and set on 30 won deals")
    (leak,) = find_leaks(_deals(), ["probability"])
    assert leak.column == "probability"


def test_a_number_that_separates_won_from_lost_perfectly() -> None:
    (leak,) = find_leaks(_deals(), ["days_open"])
    assert "separates won from lost deals perfectly" in leak.reason


def test_small_samples_and_rare_values_are_not_called_leaks() -> None:
    # Only 5 deals per side: a pure split there is chance, not a leak.
    small = _deals(n_won=5, n_lost=5)
    assert find_leaks(small, ["pipeline", "close_value", "days_open"]) == []
    # Ids: every value is pure, but no value has enough deals.
    deals = _deals().assign(deal_ref=[f"D{i}" for i in range(100)])
    assert find_leaks(deals, ["deal_ref"]) == []


def test_won_may_be_given_as_an_array_and_must_align() -> None:
    deals = _deals()
    assert [x.column for x in find_leaks(deals.drop(columns="won"), ["close_value"], deals["won"])] == [
        "close_value"
    ]
    with pytest.raises(ValueError, match="won has 3 values for 100 rows"):
        find_leaks(deals, ["industry"], [True, False, True])


def test_the_refusal_names_the_option_the_column_and_why() -> None:
    with pytest.raises(OutcomeLeakError) as info:
        refuse_leaks(_deals(), ["industry", "close_value", "Deal Stage"], outcome="Deal Stage")
    message = str(info.value)
    assert isinstance(info.value, ValueError) and "\n" not in message
    assert message.startswith("--features: 'close_value' is 0 or empty for every lost deal")
    assert "'Deal Stage' is the outcome column" in message
    assert "industry" not in message
    assert leak_message([Leak("x", "is the outcome column")], option="--attributes").startswith(
        "--attributes: 'x' is the outcome column. A feature must not be the outcome"
    )


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000), st.integers(20, 200), st.floats(0.1, 0.9))
def test_independent_noise_is_never_a_leak(seed: int, n: int, rate: float) -> None:
    rng = np.random.default_rng(seed)
    won = rng.random(n) < rate
    frame = pd.DataFrame(
        {
            "segment": rng.choice(["a", "b", "c", "d"], n),
            "size": rng.lognormal(5, 1, n),
            "flag": rng.random(n) < 0.5,
        }
    )
    if won.sum() >= 3 and (~won).sum() >= 3:
        assert find_leaks(frame, list(frame.columns), won) == []


@pytest.mark.shared_data
def test_mavens_close_value_is_refused_and_its_firmographics_are_not() -> None:
    path = SHARED_DATA / "maven_crm"
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path}")
    pipeline = pd.read_csv(path / "sales_pipeline.csv")
    accounts = pd.read_csv(path / "accounts.csv")
    closed = pipeline[pipeline["deal_stage"].isin(["Won", "Lost"])].merge(accounts, on="account", how="left")
    won = (closed["deal_stage"] == "Won").to_numpy()
    leaks = find_leaks(
        closed, ["close_value", "sector", "employees", "deal_stage"], won, outcome="deal_stage"
    )
    assert [leak.column for leak in leaks] == ["close_value", "deal_stage"]
