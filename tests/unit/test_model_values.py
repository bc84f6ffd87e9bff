"""Tests for ModelValues: plain checks instead of a pydantic model per row must change nothing.

For any values, ModelValues either hands them back as they are, and then the model would have
accepted them and stored the same content; or it lets the model decide, conversions and error
messages included.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlmodel import Field, SQLModel

from bot.services.imports.values import ModelValues, validation_problems
from bot.store.models import AccountCreate, CustomerHealthCreate, DealCreate, DealStage
from bot.store.repo import content_hash

MODELS = [DealCreate, AccountCreate, CustomerHealthCreate]

numbers = st.one_of(
    st.integers(-(2**40), 2**40),
    st.integers(-3, 200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -0.0, 0.0, -1.0, 100.5, 1e300]),
)
anything = st.one_of(
    numbers,
    numbers,
    numbers,
    st.none(),
    st.booleans(),
    st.text(max_size=140),
    st.sampled_from(["won", "lost", "open", "WON", "", "x" * 600]),
    st.sampled_from(list(DealStage)),
    st.dates(),
    st.datetimes(),
    st.lists(st.text(max_size=5), max_size=3),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    st.dictionaries(st.integers(), st.text(max_size=5), min_size=1, max_size=2),
)


VALID: dict[type[SQLModel], dict[str, Any]] = {
    DealCreate: {
        "crm_id": "D1",
        "account_crm_id": "A1",
        "name": "Renewal",
        "stage": "won",
        "amount": 1200.0,
        "currency": "EUR",
        "created_on": date(2024, 1, 2),
        "closed_on": None,
        "custom_attributes": {"Source": "inbound"},
    },
    AccountCreate: {
        "crm_id": "A1",
        "name": "Acme",
        "domain": "acme.com",
        "industry": "software",
        "employees": 250,
        "annual_revenue": 2.5e7,
        "country": "US",
        "region": None,
        "tech_stack": ["hubspot"],
        "custom_attributes": {},
    },
    CustomerHealthCreate: {
        "crm_id": "A1",
        "arr": 1000.0,
        "acv": None,
        "tenure_months": 12.0,
        "churned": False,
        "churned_on": None,
        "nps": 40,
        "health_score": 7.5,
        "expansion_arr": None,
        "referrals": 2,
        "as_of": None,
        "custom_attributes": {"plan": "pro"},
    },
}


@st.composite
def field_values(draw: st.DrawFn, model: type[SQLModel]) -> dict[str, Any]:
    """Valid values with a few fields dropped or replaced by values of any kind (or an unknown field)."""
    values = dict(VALID[model])
    for name in draw(st.lists(st.sampled_from(list(values)), unique=True, max_size=3)):
        del values[name]
    for name in draw(
        st.lists(st.sampled_from(list(model.model_fields)), unique=True, min_size=1, max_size=2)
    ):
        values[name] = draw(anything)
    if draw(st.integers(0, 9)) == 0:
        values["not_a_field"] = 1
    return values


def stored_content(values: dict[str, Any], fields: tuple[str, ...]) -> str:
    return content_hash([values[name] for name in fields])


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@settings(max_examples=600, deadline=None)
@given(data=st.data())
def test_values_passed_as_they_are_are_what_the_model_would_store(
    model: type[SQLModel], data: st.DataObject
) -> None:
    values = data.draw(field_values(model))
    check = ModelValues(model)
    assert check.fast
    ready = check.as_is(values)
    try:
        built = model.model_validate(values)
    except ValidationError:
        assert ready is None  # the model refuses it: never passed as it is
        return
    expected = {name: getattr(built, name) for name in check.fields}
    if ready is not None:
        assert ready == expected
        assert stored_content(ready, check.fields) == stored_content(expected, check.fields)
    assert check(values) == expected


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_refused_values_get_the_models_own_errors(model: type[SQLModel], data: st.DataObject) -> None:
    values = data.draw(field_values(model))
    try:
        model.model_validate(values)
    except ValidationError as expected:
        with pytest.raises(ValidationError) as raised:
            ModelValues(model)(values)
        assert validation_problems(raised.value) == validation_problems(expected)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_typical_values_need_no_model(model: type[SQLModel]) -> None:
    values = dict(VALID[model])
    assert ModelValues(model).as_is(values) is values


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"crm_id": ""}, "too short"),
        ({"crm_id": "x" * 129}, "too long"),
        ({"amount": -1.0}, "below ge=0"),
        ({"amount": math.nan}, "NaN is not >= 0"),
        ({"amount": 5}, "an int the model turns into 5.0"),
        ({"stage": "closed"}, "not a stage"),
        ({"created_on": datetime(2024, 1, 2)}, "a datetime, not a date"),
        ({"custom_attributes": {1: "x"}}, "a key that is not a string"),
        ({"currency": "DOLLARS!!!"}, "longer than 8"),
    ],
)
def test_anything_unusual_goes_to_the_model(change: dict[str, Any], why: str) -> None:
    values = {"crm_id": "D1", "stage": "won", "amount": 1.0, "custom_attributes": {}, **change}
    assert ModelValues(DealCreate).as_is(values) is None, why


def test_a_constraint_it_does_not_know_makes_every_row_go_to_the_model() -> None:
    class Odd(SQLModel):
        count: int = Field(gt=0)  # Gt is not one of the limits ModelValues checks itself

    check = ModelValues(Odd)
    assert not check.fast
    assert check.as_is({"count": 3}) is None
    assert check({"count": 3}) == {"count": 3}
    with pytest.raises(ValidationError):
        check({"count": 0})
