"""`/icp show`: the one-page ICP (the same structure as the export and the App Home), then where
the version stands and its recent change log. Pure; at most 50 blocks."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.services.icp.export.document import ExportDocument
from bot.services.icp.export.outline import page
from bot.slack.names import is_user_id
from bot.slack.views.blocks_text import MAX_MESSAGE_BLOCKS, context, escape, truncate
from bot.slack.views.icp_card import VersionFacts
from bot.slack.views.icp_page import page_blocks


def show_title(doc: ExportDocument, facts: VersionFacts) -> str:
    return f"ICP: {doc.icp.name} (v{facts.version}, {facts.status.replace('_', ' ')})"


def _who(value: str) -> str:
    return f"<@{value}>" if is_user_id(value) else escape(value)


def version_notes(facts: VersionFacts) -> str:
    """Segment, version and status, who drafted and approved it, what changed, which version scores."""
    notes = [f"Segment {escape(facts.segment)} · version {facts.version} · {facts.status.replace('_', ' ')}"]
    if facts.author:
        notes.append(f"drafted by {_who(facts.author)}")
    if facts.updated_at is not None:
        notes.append(f"updated {facts.updated_at:%Y-%m-%d}")
    if facts.approver:
        when = f" on {facts.approved_at:%Y-%m-%d}" if facts.approved_at is not None else ""
        notes.append(f"approved by {_who(facts.approver)}{when}")
    if facts.changes:
        notes.append(escape(facts.changes))
    if facts.change_note:
        notes.append(f"note: {escape(truncate(facts.change_note, 300))}")
    if facts.backtest:
        notes.append(f"backtest: {escape(facts.backtest)}")
    if facts.approved_version is not None and facts.approved_version != facts.version:
        notes.append(
            f"scoring uses the approved v{facts.approved_version} (`/icp show {facts.approved_version}`)"
        )
    return " · ".join(notes)


def show_blocks(doc: ExportDocument, facts: VersionFacts) -> list[Block]:
    tail: list[Block] = [context(version_notes(facts))]
    if facts.history:
        tail.append(context("*Change log:*\n" + "\n".join(facts.history)))
    body = page_blocks(page(doc), max_blocks=MAX_MESSAGE_BLOCKS - len(tail), title=show_title(doc, facts))
    return body + tail
