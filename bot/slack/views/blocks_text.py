"""Text helpers for Block Kit: escape user data, and fit text into Slack's size limits.

Slack rejects a whole message when one block is too long, so views never pass text through
unchecked: long lines are cut with an ellipsis, long lists are split over several sections, and
whatever still does not fit is dropped with a note saying how much was left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
CONTEXT_ELEMENTS_MAX = 10
FIELDS_MAX = 10
FALLBACK_TEXT_MAX = 3000  # the notification text; Slack allows more, but nobody reads it
LINE_MAX = 600  # one list line (a criterion listing hundreds of values is cut here)
ELLIPSIS = "…"


def escape(text: object) -> str:
    """User data in mrkdwn: &, < and > escaped, so a name can't mention @channel or fake a link."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending in an ellipsis when cut; never splits an escape."""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - len(ELLIPSIS))]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:] and len(cut) - amp <= 5:
        cut = cut[:amp]  # a half "&amp;" would show as garbage
    return cut + ELLIPSIS


def mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> MarkdownTextObject:
    return MarkdownTextObject(text=truncate(text, limit))


def section(text: str) -> SectionBlock:
    return SectionBlock(text=mrkdwn(text))


def context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[mrkdwn(t, FIELD_TEXT_MAX) for t in texts[:CONTEXT_ELEMENTS_MAX]])


def line_sections(
    heading: str, lines: Sequence[str], *, max_blocks: int, line_max: int = LINE_MAX
) -> tuple[list[Block], int]:
    """Sections holding ``heading`` and ``lines`` (each cut to ``line_max``), packed under the
    section limit, using at most ``max_blocks`` blocks; also returns how many lines did not fit."""
    if max_blocks <= 0:
        return [], len(lines)
    blocks: list[Block] = []
    current = heading
    placed = 0
    for raw in lines:
        line = truncate(raw, line_max)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= SECTION_TEXT_MAX:
            current = candidate
            placed += 1
            continue
        if len(blocks) + 1 >= max_blocks:
            break
        blocks.append(section(current))
        current = line
        placed += 1
    if current:
        blocks.append(section(current))
    return blocks, len(lines) - placed


def slack_time(moment: datetime) -> str:
    """A date and time Slack shows in the reader's time zone (UTC where a client cannot)."""
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else many or word + 's'}"
