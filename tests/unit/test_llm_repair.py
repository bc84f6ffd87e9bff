"""Salvaging a JSON object wrapped in prose or code fences, instead of spending a retry; cut-off JSON is retried."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from bot.llm.repair import CutOffJson, find_json_object, salvage

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
def test_an_object_wrapped_in_prose_or_fences_is_found(
    value: dict[str, Any], before: str, after: str
) -> None:
    for wrapped in (
        f"{before}{json.dumps(value)}{after}",
        f"{before}\n```json\n{json.dumps(value, indent=2)}\n```\n{after}",
        f"```json\n{json.dumps(value)}",  # the closing fence never came, the object is whole
    ):
        assert find_json_object(wrapped) == value


@given(prose)
def test_text_without_an_object_gives_nothing(text: str) -> None:
    assert find_json_object(text) is None


class Point(BaseModel):
    x: int
    y: int


def test_salvage_validates_against_the_schema() -> None:
    assert salvage(Point, 'Here you go:\n```json\n{"x": 1, "y": 2}\n```') == Point(x=1, y=2)
    assert salvage(Point, '```json\n{"x": 1}\n```') is None  # incomplete for the schema
    assert salvage(Point, '{"x": 1, "y": "two"}') is None
    assert salvage(Point, None) is None


@given(json_objects.filter(bool), st.sampled_from(["", "Here you go:\n```json\n", "Sure! "]))
def test_json_cut_off_anywhere_is_never_completed(value: dict[str, Any], before: str) -> None:
    """LangChain's default parser would close the braces; a cut answer lost content, so it is retried."""
    text = json.dumps(value)
    for cut in range(1, len(text)):
        with pytest.raises(CutOffJson):
            find_json_object(before + text[:cut])


def test_a_cut_off_answer_that_would_validate_once_closed_is_not_salvaged() -> None:
    with pytest.raises(CutOffJson):
        salvage(Point, '```json\n{"x": 1, "y": 2')
