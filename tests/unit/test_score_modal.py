"""The shortcuts' pure parts: the modal, reading its submission, the domain a message names,
and the assistant thread's title."""

from __future__ import annotations

import pytest

from bot.slack.views.assistant import TITLE_MAX, thread_title
from bot.slack.views.score_modal import (
    ATTRIBUTES_ACTION,
    ATTRIBUTES_BLOCK,
    BOTH_ERROR,
    COMPANY_ACTION,
    COMPANY_BLOCK,
    EMPTY_ERROR,
    SCORE_MODAL,
    ScoreAsk,
    domains_in,
    read_score_ask,
    score_modal,
)
from tests.support.harness import assert_valid_view


def values(company: str | None = None, attributes: str | None = None) -> dict[str, object]:
    return {
        COMPANY_BLOCK: {COMPANY_ACTION: {"type": "plain_text_input", "value": company}},
        ATTRIBUTES_BLOCK: {ATTRIBUTES_ACTION: {"type": "plain_text_input", "value": attributes}},
    }


def test_the_modal_is_valid_block_kit_with_two_optional_inputs() -> None:
    view = score_modal().to_dict()
    assert_valid_view(view, context="score modal")
    assert view["callback_id"] == SCORE_MODAL and view["type"] == "modal"
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [(b["block_id"], b["element"]["action_id"], b["optional"]) for b in inputs] == [
        (COMPANY_BLOCK, COMPANY_ACTION, True),
        (ATTRIBUTES_BLOCK, ATTRIBUTES_ACTION, True),
    ]


@pytest.mark.parametrize(
    ("submitted", "expected"),
    [
        (values("  Acme   Inc "), ScoreAsk(query="Acme Inc")),
        (
            values(None, "industry=software  employees=500"),
            ScoreAsk(attributes="industry=software employees=500"),
        ),
        (values(), {COMPANY_BLOCK: EMPTY_ERROR}),
        (values("   ", ""), {COMPANY_BLOCK: EMPTY_ERROR}),
        (values("acme.com", "industry=software"), {ATTRIBUTES_BLOCK: BOTH_ERROR}),
        ({}, {COMPANY_BLOCK: EMPTY_ERROR}),
    ],
)
def test_reading_a_submission(submitted: dict[str, object], expected: object) -> None:
    assert read_score_ask(submitted) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call with <https://www.Acme.com/pricing|Acme> went well", ["acme.com"]),
        ("see acme.io, and <mailto:bob@beta.co|bob@beta.co>", ["acme.io", "beta.co"]),
        ("acme.io again: ACME.IO and https://acme.io/x", ["acme.io"]),
        ("<@U0SAM> posted <https://team.slack.com/archives/C1/p1|this> about gamma.dev", ["gamma.dev"]),
        ("<!here> lunch at 12? v1.2 is out, e.g. today", []),
        ("<#C0GENERAL|general> and nothing else", []),
        ("", []),
    ],
)
def test_the_domains_a_message_names(text: str, expected: list[str]) -> None:
    assert domains_in(text) == expected


def test_a_message_naming_many_domains_gives_at_most_five() -> None:
    assert len(domains_in(" ".join(f"c{i}.com" for i in range(20)))) == 5


def test_the_thread_title_is_one_escaped_line_within_bounds() -> None:
    assert thread_title("why is <!channel>\n & co\ttier B?") == "why is &lt;!channel&gt; &amp; co tier B?"
    long = thread_title("x" * 500)
    assert len(long) == TITLE_MAX and long.endswith("…")
    assert thread_title("   ") == "Question"
