"""Interview Block Kit: every message parses, validates and round-trips with slack_sdk.models,
stays within Slack's limits, and says what a person needs to read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.services.interviews.conversation import Turn
from bot.services.interviews.questions import load_question_set
from bot.slack.messaging.interviews import as_dicts, turn_message
from bot.slack.views.interview import (
    MAX_BLOCKS,
    START_INTERVIEW,
    SlackMessage,
    StatusRow,
    completion_message,
    escape,
    help_message,
    invitation_message,
    invite_summary_message,
    paused_message,
    question_message,
    reminder_message,
    started_invitation_message,
    status_message,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KNOWN = {"actions", "context", "header", "section", "divider"}


def valid(message: SlackMessage) -> list[dict[str, Any]]:
    """The blocks as dicts once slack_sdk accepts each one and Slack's size limits hold."""
    assert message.text.strip(), "a message needs fallback text for notifications"
    raw = as_dicts(message)
    assert 0 < len(raw) <= MAX_BLOCKS
    for item in raw:
        assert item["type"] in KNOWN
        parsed = Block.parse(dict(item))
        assert parsed is not None and type(parsed) is not Block
        parsed.validate_json()
        assert parsed.to_dict() == item
        if item["type"] == "section":
            assert len(item["text"]["text"]) <= 3000
        if item["type"] == "header":
            assert len(item["text"]["text"]) <= 150
        if item["type"] == "context":
            assert all(len(e["text"]) <= 3000 for e in item["elements"])
    return raw


def text_of(blocks: Iterable[Mapping[str, Any]]) -> str:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Mapping):
            for key, value in node.items():
                if key not in ("type", "action_id", "block_id", "value", "style"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(list(blocks))
    return "\n".join(out)


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_invitation_has_a_start_button_carrying_the_interview_id() -> None:
    qset = load_question_set("sales")
    blocks = valid(
        invitation_message(
            interview_id=42, inviter_id="U0BOSS", role_title=qset.title, intro=qset.intro, total=8
        )
    )
    (button,) = buttons(blocks)
    assert button["action_id"] == START_INTERVIEW
    assert button["value"] == "42"
    text = text_of(blocks)
    assert "<@U0BOSS>" in text and "8 short questions" in text and "Sales" in text and "`pause`" in text


def test_self_invitation_names_nobody() -> None:
    message = invitation_message(interview_id=1, inviter_id=None, role_title="General", intro="Hi.", total=6)
    assert "<@" not in text_of(valid(message))


def test_question_shows_progress_hint_note_and_commands() -> None:
    blocks = valid(
        question_message(number=3, total=8, text="Who signs?", hint="Titles are enough.", note="Skipped.")
    )
    text = text_of(blocks)
    assert "Question 3 of 8" in text
    assert text.index("Skipped.") < text.index("Who signs?") < text.index("Titles are enough.")
    for word in ("skip", "back", "pause", "done"):
        assert f"`{word}`" in text


def test_question_text_is_escaped() -> None:
    blocks = valid(question_message(number=1, total=6, text="Revenue <$1M & >50 staff?"))
    assert "Revenue &lt;$1M &amp; &gt;50 staff?" in text_of(blocks)


@pytest.mark.parametrize(("answered", "expected"), [(0, "without answers"), (5, "5 of 8")])
def test_completion(answered: int, expected: str) -> None:
    assert expected in text_of(valid(completion_message(answered=answered, total=8)))


def test_paused_help_and_started() -> None:
    assert "question 4 of 7" in text_of(valid(paused_message(number=4, total=7)))
    assert "`back`" in text_of(valid(help_message()))
    started = valid(started_invitation_message(role_title="Sales", total=8))
    assert not buttons(started) and "8 short questions" in text_of(started)
    assert "resumed" in text_of(valid(started_invitation_message(role_title="Sales", total=8, resumed=True)))


@pytest.mark.parametrize(("started", "label"), [(False, "Start"), (True, "Resume")])
def test_reminder_is_gentle_and_has_one_button(started: bool, label: str) -> None:
    blocks = valid(reminder_message(interview_id=7, started=started, number=3, total=8))
    (button,) = buttons(blocks)
    assert (button["text"]["text"], button["value"], button["action_id"]) == (label, "7", START_INTERVIEW)
    assert "gentle reminder" in text_of(blocks)
    assert ("question 3 of 8" in text_of(blocks)) is started


def row(i: int, kind: str, **kw: Any) -> StatusRow:
    values: dict[str, Any] = {
        "user_id": f"U{i:08d}",
        "role_title": "Customer success",
        "kind": kind,
        "answered": 2,
        "total": 8,
        "number": 3,
        "last_activity": T0 - timedelta(days=i % 9),
    }
    values.update(kw)
    return StatusRow(**values)


def test_status_groups_people() -> None:
    rows = [
        row(1, "finished", answered=8),
        row(2, "in_progress"),
        row(3, "paused", number=5),
        row(4, "not_started"),
    ]
    blocks = valid(status_message(rows))
    text = text_of(blocks)
    assert "Finished* (1)" in text and "In progress* (2)" in text and "Not started* (1)" in text
    assert "8 of 8 answered" in text
    assert "question 5 of 8, paused" in text
    assert text.index("<@U00000001>") < text.index("<@U00000002>") < text.index("<@U00000004>")
    finished_at = rows[0].last_activity
    assert f"<!date^{int(finished_at.timestamp())}^{{date_short_pretty}}|{finished_at:%Y-%m-%d}>" in text
    assert "1 finished, 2 in progress, 1 not started" in status_message(rows).text


def test_status_empty() -> None:
    assert "No interviews yet" in text_of(valid(status_message([])))


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.sampled_from(["finished", "in_progress", "paused", "not_started"]), max_size=1500),
    st.text(min_size=1, max_size=80),
)
def test_status_of_any_size_stays_within_limits(kinds: list[str], title: str) -> None:
    rows = [row(i, kind, role_title=title) for i, kind in enumerate(kinds)]
    blocks = valid(status_message(rows))
    text = text_of(blocks)
    if len(blocks) == MAX_BLOCKS:
        assert "List truncated" in text
    else:  # everyone listed
        assert all(f"<@{r.user_id}>" in text for r in rows)


def test_invite_summary() -> None:
    blocks = valid(
        invite_summary_message(
            invited=["U1", "U2"],
            already=[("U3", "is already on question 2 of 7.")],
            failed=[("U4", "that's a bot; bots don't get interviewed.")],
            role_title="Sales",
            notes=["Check your DMs."],
        )
    )
    text = text_of(blocks)
    assert "Invited <@U1>, <@U2> (Sales questions)" in text
    assert "<@U3> is already on question 2 of 7." in text
    assert "Could not invite <@U4>: that's a bot" in text
    assert text.startswith("Check your DMs.")


def test_escape() -> None:
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_turns_render_to_valid_messages() -> None:
    qset = load_question_set("marketing")
    q = qset.questions[0]
    for turn in (
        Turn(action="ask", question=q, number=1, total=len(qset), note="Let's begin."),
        Turn(action="completed", answered=3, total=7),
        Turn(action="closed", answered=7, total=7),
        Turn(action="paused", number=2, total=7),
        Turn(action="help"),
    ):
        message = turn_message(turn)
        assert message is not None
        valid(message)
    assert turn_message(Turn(action="duplicate")) is None
    assert turn_message(Turn(action="ignored")) is None
    asked = turn_message(Turn(action="ask", question=q, number=1, total=len(qset)))
    assert asked is not None and q.text in text_of(as_dicts(asked))
