"""``/icp diff vN vM`` as Block Kit: what changed between two ICP versions, grouped by kind.

Pure: takes the engine's ``IcpDiff`` and the two version numbers. The engine's change lines
(``icp_engine.diff.change_lines``, the same the CLI prints) are escaped, grouped under bold
headings and packed into sections under Slack's limits; whatever does not fit in 50 blocks is
counted in a closing note that points at the command line, never silently dropped.
"""

from __future__ import annotations

from itertools import groupby

from slack_sdk.models.blocks import Block, HeaderBlock, PlainTextObject

from bot.slack.views.blocks_text import (
    FALLBACK_TEXT_MAX,
    HEADER_TEXT_MAX,
    MAX_MESSAGE_BLOCKS,
    context,
    escape,
    line_sections,
    plural,
    section,
    truncate,
)
from icp_engine.diff import IcpDiff, change_lines


def diff_lines(diff: IcpDiff) -> list[str]:
    """Every change as a mrkdwn line, each group under a bold heading with its count."""
    out: list[str] = []
    for group, items in groupby(change_lines(diff), key=lambda item: item[0]):
        lines = [f"• {escape(line)}" for _, line in items]
        out.append(f"*{group} ({len(lines)})*")
        out += lines
    return out


def diff_blocks(diff: IcpDiff, *, before: int, after: int) -> list[Block]:
    """The diff card: header, one-line summary, the changes, and a note if some did not fit."""
    title = truncate(f"ICP v{before} → v{after}: what changed", HEADER_TEXT_MAX)
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=title, emoji=False))]
    if diff.empty:
        blocks.append(
            section(
                f"No differences: v{before} and v{after} have the same characteristics and points, "
                "tiers, disqualifiers and settings."
            )
        )
        return blocks
    blocks.append(section(f"*Summary:* {escape(diff.summary())}"))
    body, left_out = line_sections("", diff_lines(diff), max_blocks=MAX_MESSAGE_BLOCKS - len(blocks) - 1)
    blocks += body
    note = f"`/icp show v{before}` and `/icp show v{after}` show each version in full."
    if left_out:
        note = (
            f"…and {plural(left_out, 'more line')} not shown (Slack limits a message's length); "
            f"`icp diff v{before} v{after}` on the command line lists them all. " + note
        )
    blocks.append(context(note))
    return blocks


def diff_text(diff: IcpDiff, *, before: int, after: int) -> str:
    """The notification text."""
    return truncate(f"ICP v{before} → v{after}: {diff.summary()}", FALLBACK_TEXT_MAX)
