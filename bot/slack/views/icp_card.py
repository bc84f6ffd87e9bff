"""An ICP version as Block Kit: characteristics with points by value, tiers, disqualifiers, and
where it stands.

Pure: takes the engine's ``ICP`` and a few facts about the stored version, returns slack_sdk
blocks within Slack's limits (long lists are split over sections; what still does not fit is
summarised in a note, never silently dropped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.slack.views.blocks_text import escape
from icp_engine.model import ICP, NO_TIER
from icp_engine.wording import SCORE_RULE, UNKNOWN_RULE, bins_text, no_tier_rule, target_text

SECTION_MAX = 3000
HEADER_MAX = 150
LINE_MAX = 500
MAX_BLOCKS = 50
BINS_SHOWN = 12  # per characteristic line; the rest are counted ("…and 30 more")


@dataclass(frozen=True)
class VersionFacts:
    """What the store knows about the version beyond the ICP itself."""

    version: int
    status: str  # draft | in_review | approved | superseded ...
    segment: str
    updated_at: datetime | None = None
    approver: str | None = None
    approved_version: int | None = None  # the approved one, when this is not it
    approved_at: datetime | None = None
    author: str | None = None
    change_note: str | None = None
    changes: str | None = None  # against the previous version ("vs v2: criteria: 1 added")
    backtest: str | None = None  # one-line backtest headline, when the version was backtested
    history: tuple[str, ...] = ()  # recent change-log lines, newest first (mrkdwn, escaped)


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def characteristic_lines(icp: ICP) -> list[str]:
    """One line per characteristic, its bins grouped: "• *industry*: fintech +12 · retail −8"."""
    return [
        cut(f"• *{escape(ch.name)}*: {escape(bins_text(ch, max_bins=BINS_SHOWN))}", LINE_MAX)
        for ch in icp.characteristics
    ]


def rules_line(icp: ICP) -> str:
    """What the points mean: the target, unknown data, and the score scale."""
    return f"Points predict the {escape(target_text(icp))}. {UNKNOWN_RULE} {SCORE_RULE}"


def disqualifier_lines(icp: ICP) -> list[str]:
    return [
        cut(f"• {escape(d.condition.describe())}: {escape(d.reason)}", LINE_MAX) for d in icp.disqualifiers
    ]


def tiers_line(icp: ICP) -> str:
    parts = [
        f"*{escape(name)}* ({escape(icp.tier_label(name))}) ≥ {threshold}"
        for name, threshold in icp.ordered_tiers()
    ]
    parts.append(f"*{NO_TIER}* ({escape(icp.tier_label(NO_TIER))}) when {no_tier_rule(icp)}")
    return cut("Tiers: " + " · ".join(parts), SECTION_MAX)


def packed_sections(heading: str, lines: Sequence[str], budget: int) -> tuple[list[Block], int]:
    """Sections of ``heading`` + ``lines`` within ``budget`` blocks; also how many lines were left out."""
    if budget <= 0:
        return [], len(lines)
    texts: list[str] = []
    current = f"*{heading}*"
    for index, line in enumerate(lines):
        if len(current) + 1 + len(line) <= SECTION_MAX:
            current = f"{current}\n{line}"
            continue
        texts.append(current)
        if len(texts) >= budget:
            return _sections(texts), len(lines) - index
        current = line
    texts.append(current)
    return _sections(texts), 0


def _sections(texts: Sequence[str]) -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=text)) for text in texts]


def icp_blocks(icp: ICP, facts: VersionFacts) -> list[Block]:
    """The whole card; at most ``MAX_BLOCKS`` blocks."""
    title = cut(f"ICP: {icp.name} (v{facts.version}, {facts.status.replace('_', ' ')})", HEADER_MAX)
    blocks: list[Block] = [HeaderBlock(text=title)]
    if icp.description:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=cut(escape(icp.description), SECTION_MAX))))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=tiers_line(icp))))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=rules_line(icp))]))
    if facts.backtest:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=cut(f"*Backtest:* {escape(facts.backtest)}", SECTION_MAX))
            )
        )
    left_out = 0
    lines = characteristic_lines(icp) or ["_No characteristics yet._"]
    sections, dropped = packed_sections("Characteristics (points by value)", lines, (MAX_BLOCKS - 7) // 2)
    blocks += sections
    left_out += dropped
    if icp.disqualifiers:
        blocks.append(DividerBlock())
        budget = MAX_BLOCKS - 4 - len(blocks)
        sections, dropped = packed_sections(
            "Disqualifiers (always lowest tier)", disqualifier_lines(icp), budget
        )
        blocks += sections
        left_out += dropped
    notes = [f"Segment {escape(facts.segment)} · version {facts.version} · {facts.status.replace('_', ' ')}"]
    if facts.author and _is_user_id(facts.author):
        notes.append(f"drafted by <@{facts.author}>")
    if facts.updated_at is not None:
        notes.append(f"updated {facts.updated_at:%Y-%m-%d}")
    if facts.approver:
        who = f"<@{facts.approver}>" if _is_user_id(facts.approver) else escape(facts.approver)
        when = f" on {facts.approved_at:%Y-%m-%d}" if facts.approved_at is not None else ""
        notes.append(f"approved by {who}{when}")
    if facts.changes:
        notes.append(escape(facts.changes))
    if facts.change_note:
        notes.append(f"note: {escape(cut(facts.change_note, 300))}")
    if facts.approved_version is not None and facts.approved_version != facts.version:
        notes.append(
            f"scoring uses the approved v{facts.approved_version} (`/icp show {facts.approved_version}`)"
        )
    if left_out:
        notes.append(f"{left_out} more line(s) did not fit here; `icp` on the command line shows all")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=cut(" · ".join(notes), 2000))]))
    if facts.history:
        log = "*Change log:*\n" + "\n".join(facts.history)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=cut(log, 2000))]))
    return blocks


def _is_user_id(value: str) -> bool:
    """A Slack user id, safe to put inside <@…> (the CLI's actor is a login name instead)."""
    return value[:1] in ("U", "W") and value.isascii() and value.isalnum() and len(value) <= 32


def icp_text(icp: ICP, facts: VersionFacts) -> str:
    """Fallback text for notifications."""
    return cut(
        f"ICP {escape(icp.name)} v{facts.version} ({escape(facts.status)}): "
        f"{len(icp.characteristics)} characteristic{'' if len(icp.characteristics) == 1 else 's'}",
        3000,
    )
