"""Block Kit rendered as readable text (bot/demo/stand_in/blocks_render.py), used by `icp demo`."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.demo.stand_in.blocks_render import message_text, mrkdwn_text

PEOPLE = {"U0ADMIN": "alex"}
CHANNELS = {"C0REVOPS": "revops"}


def test_mentions_channels_links_dates_and_escapes_read_as_slack_shows_them() -> None:
    text = (
        "<@U0ADMIN> and <@U0OTHER|sam> in <#C0REVOPS> / <#C0X|general>: see <https://x.io/a|the doc> "
        "or <https://x.io/b>, due <!date^1700000000^{date_short}|Nov 14>, <!here>, A &amp; B &lt;3 :tada:"
    )
    assert mrkdwn_text(text, people=PEOPLE, channels=CHANNELS) == (
        "@alex and @sam in #revops / #general: see the doc or https://x.io/b, due Nov 14, @here, A & B <3 🎉"
    )


def test_blocks_become_lines_with_buttons_in_brackets() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Imported deals.csv"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": ":white_check_mark: *5 deals*"},
            "fields": [{"type": "mrkdwn", "text": "*Added*\n5"}],
            "accessory": {"type": "button", "text": {"type": "plain_text", "text": "Why?"}, "action_id": "w"},
        },
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "by <@U0ADMIN>"}]},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Approve"}, "action_id": "a"},
                {"type": "button", "text": {"type": "plain_text", "text": "Edit"}, "action_id": "e"},
            ],
        },
    ]
    assert message_text({"text": "fallback", "blocks": blocks}, people=PEOPLE).splitlines() == [
        "*Imported deals.csv*",
        "✅ *5 deals*",
        "*Added*",
        "5",
        "[Why?]",
        "─" * 20,
        "by @alex",
        "[Approve] [Edit]",
    ]


def test_without_blocks_the_text_is_shown() -> None:
    assert message_text({"text": "Done: <#C0REVOPS|revops>"}) == "Done: #revops"


@given(st.text(max_size=200))
def test_any_text_renders_without_error_and_plain_words_are_unchanged(text: str) -> None:
    rendered = message_text(
        {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}
    )
    assert isinstance(rendered, str)
    if not any(ch in text for ch in "<>&:*") and text.strip():
        assert rendered == text.strip()
