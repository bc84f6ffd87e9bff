"""The ICP's version list and change log as Block Kit (``/icp show versions``).

Pure: takes the history the service read (``VersionSummary``/``ChangeLogEntry``) and returns
blocks within Slack's limits; actors that are Slack user ids become mentions, anything else
(the CLI's login name) is escaped text.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, HeaderBlock, PlainTextObject

from bot.services.icp.versions import ChangeLogEntry, VersionSummary
from bot.slack.views.blocks_text import MAX_MESSAGE_BLOCKS, context, escape, line_sections, plural, section

LOG_LINES = 5  # on /icp show; the versions view lists more


def who(actor: str | None) -> str:
    if not actor:
        return "someone"
    if actor[:1] in ("U", "W") and actor.isascii() and actor.isalnum() and len(actor) <= 32:
        return f"<@{actor}>"
    return escape(actor)


def log_line(entry: ChangeLogEntry) -> str:
    """ "2026-11-30 14:02 <@U1> approved v3"."""
    return f"{entry.at:%Y-%m-%d %H:%M} {who(entry.actor)} {escape(entry.text)}"


def log_lines(entries: Sequence[ChangeLogEntry], limit: int = LOG_LINES) -> tuple[str, ...]:
    return tuple(log_line(e) for e in entries[:limit])


def version_line(v: VersionSummary) -> str:
    status = v.status.replace("_", " ")
    seg = "" if v.segment == "default" else f" [{escape(v.segment)}]"
    line = f"• *v{v.version}*{seg} {escape(v.name)} — {status}, drafted by {who(v.author)} {v.created_at:%Y-%m-%d}"
    if v.approved_at is not None:
        line += f", approved by {who(v.approver)} {v.approved_at:%Y-%m-%d}"
    return f"{line}\n    _{escape(v.changes)}_"


def versions_blocks(versions: Sequence[VersionSummary], log: Sequence[ChangeLogEntry]) -> list[Block]:
    """Every version (newest first) with what it changed, then the change log."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="ICP versions and change log", emoji=False))]
    if not versions:
        blocks.append(section("There is no ICP yet: `/icp draft` proposes a first version."))
        return blocks
    room = MAX_MESSAGE_BLOCKS - len(blocks) - 2
    body, left_versions = line_sections(
        "*Versions*", [version_line(v) for v in versions], max_blocks=room // 2
    )
    blocks += body
    log_body, left_log = line_sections(
        "*Change log* (newest first)", [log_line(e) for e in log], max_blocks=room - len(body)
    )
    blocks += log_body
    notes = ["`/icp show vN` shows a version; `/icp diff vN vM` compares two."]
    left = left_versions + left_log
    if left:
        notes.insert(0, f"…and {plural(left, 'more line')} not shown; `icp versions` lists them all.")
    blocks.append(context(" ".join(notes)))
    return blocks
