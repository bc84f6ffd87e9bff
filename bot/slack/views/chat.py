"""A chat answer as a Slack message: the answer, the engine's figures and the cited evidence.

Pure: a :class:`ChatReply` in, fallback text and Block Kit out, within Slack's limits (50 blocks,
3,000 characters a section; long lists are packed over sections and what does not fit is counted
in a note). The model's prose and the quoted evidence are untrusted text and are escaped, so they
cannot mention @channel or forge links. Offline answers say plainly that no model wrote them.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot.services.chat.answer import ChatReply
from bot.services.chat.evidence import Evidence, Figure
from bot.slack.views.blocks_text import (
    FALLBACK_TEXT_MAX,
    LINE_MAX,
    MAX_MESSAGE_BLOCKS,
    context,
    escape,
    line_sections,
    plural,
    section,
    truncate,
)
from bot.slack.views.score_card import (
    NO_ICP_TEXT,
    account_chooser,
    card_blocks,
    choices_of,
    chooser_text,
    outcome_text,
)

QUOTE_MAX = 320
FIGURE_LINE_MAX = 1600  # the ICP figure lists its criteria
OFFLINE_LABEL = (
    "🗂️ *Answered without a language model:* the closest evidence and the engine's figures, "
    "as they are, without prose."
)
EMPTY_TEXT = (
    "I don't have evidence about that yet. I answer from interview answers (`/icp interview`), "
    "CRM data (`/icp import`) and the ICP (`/icp draft`); once there is some, ask again."
)
HOW_TO_ASK = (
    "Ask me about your ICP, personas or data, e.g. “which industries win most?”, "
    "“why is Acme tier B?” or “what do CS people say about churn?”. I answer from the interviews, "
    "the CRM data and the ICP, with sources."
)
ENGINE_NOTE = (
    "From the scoring engine (the same score as `/icp score`); scores never come from a language model."
)


def _quote(evidence: Evidence) -> str:
    return f"`{escape(truncate(evidence.id, 80))}` {evidence.source}: “{escape(truncate(evidence.text, QUOTE_MAX))}”"


def _figure(figure: Figure) -> str:
    return f"• {escape(figure.text)} `{escape(truncate(figure.evidence_id, 80))}`"


def _listed(
    heading: str,
    lines: Sequence[str],
    budget: int,
    what: str,
    many: str | None = None,
    line_max: int = LINE_MAX,
) -> list[Block]:
    blocks, left = line_sections(heading, lines, max_blocks=max(1, budget - 1), line_max=line_max)
    if left:
        blocks.append(context(f"…and {plural(left, what, many)} not shown here."))
    return list(blocks)


def _answer_blocks(reply: ChatReply) -> list[Block]:
    paragraphs = [escape(p) for p in (reply.answer or "").split("\n") if p.strip()]
    blocks: list[Block] = list(line_sections("", paragraphs, max_blocks=8)[0])
    if reply.figures:
        blocks += _listed(
            "*Engine figures*",
            [_figure(f) for f in reply.figures],
            8,
            "more figure",
            line_max=FIGURE_LINE_MAX,
        )
    blocks += _listed("*Sources*", [_quote(e) for e in reply.cited], 20, "more source")
    who = f"Answered by {escape(reply.model)}" if reply.model else "Answered by the language model"
    notes = [f"{who} from {plural(len(reply.cited), 'cited source')}; check the sources above."]
    if reply.note:
        notes.append(escape(reply.note))
    blocks.append(context(" ".join(notes)))
    return blocks


def _offline_blocks(reply: ChatReply) -> list[Block]:
    blocks: list[Block] = [context(OFFLINE_LABEL + (f" {escape(reply.note)}" if reply.note else ""))]
    if reply.figures:
        blocks += _listed(
            "*Engine figures*",
            [_figure(f) for f in reply.figures],
            10,
            "more figure",
            line_max=FIGURE_LINE_MAX,
        )
    shown = {f.evidence_id for f in reply.figures}  # a figure already names its statistic
    blocks += _listed(
        "*Closest evidence*",
        [_quote(e) for e in reply.cited if e.id not in shown],
        25,
        "more piece of evidence",
        "more pieces of evidence",
    )
    return blocks


def chat_message(reply: ChatReply) -> tuple[str, list[Block]]:
    """Fallback text and blocks for a chat reply."""
    if reply.mode == "score" and reply.score is not None:
        outcome = reply.score
        blocks = [*card_blocks(outcome, expanded=True)[: MAX_MESSAGE_BLOCKS - 1], context(ENGINE_NOTE)]
        text = outcome_text(outcome)
    elif reply.mode == "choose" and reply.lookup is not None:
        lookup = reply.lookup
        blocks = account_chooser(lookup.query, choices_of(lookup), exact=lookup.exact, share=False)
        text = chooser_text(lookup.query)
    elif reply.mode == "help":
        blocks, text = [section(HOW_TO_ASK)], HOW_TO_ASK
    elif reply.mode == "no_icp":
        blocks, text = [section(NO_ICP_TEXT)], NO_ICP_TEXT
    elif reply.mode == "llm":
        blocks = _answer_blocks(reply)
        text = escape(reply.answer or "Answer")
    elif reply.mode == "offline":
        blocks = _offline_blocks(reply)
        lead = reply.figures[0].text if reply.figures else (reply.cited[0].text if reply.cited else "")
        text = f"Closest evidence (no language model): {escape(lead)}"
    else:
        message = f"{reply.note} {EMPTY_TEXT}" if reply.note else EMPTY_TEXT
        blocks, text = [section(escape(message))], escape(message)
    return truncate(text, FALLBACK_TEXT_MAX), blocks[:MAX_MESSAGE_BLOCKS]


THINKING_TEXT = "Looking through the interviews and the data…"
SORRY_TEXT = "Sorry, I couldn't answer that just now. Please ask again in a minute."
