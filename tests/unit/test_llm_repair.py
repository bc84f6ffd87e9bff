"""Salvaging a JSON object wrapped in prose or code fences, instead of spending a retry."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from bot.llm.repair import extract_json_object, salvage

json_objects = st.dictionaries(
    st.text(max_size=10),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=8,
    ),
    max_size=4,
)
prose = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=40)


@given(json_objects, prose, prose)
def test_an_object_wrapped_in_prose_or_fences_is_found(value: dict, before: str, after: str) -> None:
    for wrapped in (
        f"{before}{json.dumps(value)}{after}",
        f"{before}\n```json\n{json.dumps(value, indent=2)}\n```\n{after}",
    ):
        found = extract_json_object(wrapped)
        assert found is not None and json.loads(found) == value


@given(prose)
def test_text_without_an_object_gives_nothing(text: str) -> None:
    assert extract_json_object(text) is None


class Point(BaseModel):
    x: int
    y: int


def test_salvage_validates_against_the_schema() -> None:
    assert salvage(Point, 'Here you go:\n```json\n{"x": 1, "y": 2}\n```') == Point(x=1, y=2)
    assert salvage(Point, '```json\n{"x": 1}\n```') is None  # incomplete for the schema
    assert salvage(Point, '{"x": 1, "y": ') is None  # truncated: not repaired, retried
    assert salvage(Point, None) is None
