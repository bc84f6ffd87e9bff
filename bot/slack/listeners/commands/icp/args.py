"""Small parsers shared by subcommands (a leading underscore keeps this out of the registry)."""

from __future__ import annotations

import re

from bot.slack.views.blocks_text import escape

# Slack escapes a picked user as <@U123> or <@U123|name> (with "escape users" on for the command).
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$")
_BARE_ID = re.compile(r"^[UW][A-Z0-9]{6,}$")


def user_id_of(word: str) -> str | None:
    """The Slack user id in a mention (or a bare id); None for plain text such as ``@ana``."""
    word = word.strip()
    match = _MENTION.match(word)
    if match:
        return match.group(1)
    return word if _BARE_ID.match(word) else None


def positive_int(word: str) -> int | None:
    """``"3"`` or ``"v3"`` as 3; None for anything else."""
    word = word.strip().lower().removeprefix("v")
    return int(word) if word.isdigit() and 0 < int(word) < 1_000_000 else None


def mrkdwn_escape(text: str) -> str:
    """User-typed text shown back in mrkdwn (the one escape, plus no backtick to break a code span)."""
    return escape(text).replace("`", "'")
