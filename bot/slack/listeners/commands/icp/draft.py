"""``/icp draft [segment=<name>]``: draft the ICP and its personas, and post it for review.

Owners only (the router checks). The router already runs this on the app's work pool after the
ack, so the draft (which may call the language model for up to a minute) is made right here; the
person gets an immediate "drafting…" note, then the draft message with Approve / Request changes /
Edit buttons lands in the channel.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.services.icp.drafting import OFFLINE, DraftingError, NoCrmDataError, draft_icp
from bot.services.icp.review import ReviewFacts
from bot.slack.listeners.commands.icp.args import mrkdwn_escape
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.messaging.drafts import knowledge_or_none, post_draft, refresh_home
from bot.store.models import DEFAULT_SEGMENT, IcpStatus

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.llm.client import LlmClient
    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond

log = logging.getLogger(__name__)

USAGE = "Use `/icp draft` for the primary ICP, or `/icp draft segment=<name>` for a segment's own ICP."
NO_DATA = (
    "There is no CRM data to draft from yet. Share your CRM export (accounts, deals) as CSV in a DM "
    "with me (`/icp import` explains how), then run `/icp draft` again."
)
SEGMENT_MAX = 128


def parse_segment(args: list[str]) -> str | None:
    """The segment asked for (the primary one when none), or None when the words make no sense."""
    if not args:
        return DEFAULT_SEGMENT
    if len(args) != 1:
        return None
    key, sep, value = args[0].partition("=")
    if not sep or key.strip().casefold() != "segment":
        return None
    value = value.strip()
    return value if 0 < len(value) <= SEGMENT_MAX else None


def _llm(ctx: AppContext, respond: Respond) -> LlmClient | None:
    try:
        return ctx.llm
    except Exception as exc:  # e.g. LLM_PROVIDER=openai without a key: say so, draft offline
        log.warning("the language model client could not be built: %s", exc)
        respond(
            text=f"The language model settings are not usable ({mrkdwn_escape(str(exc)[:200])}); drafting without it."
        )
        return None


@subcommand(
    "draft",
    summary="Draft the ICP and buyer personas from your CRM data and interview answers, for review.",
    usage="draft [segment=<name>]",
    examples=("draft", "draft segment=enterprise"),
    owner_only=True,
)
def draft_command(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    segment = parse_segment(req.args)
    if segment is None:
        respond(text=f"I can't read `{mrkdwn_escape(req.raw[:80])}`. {USAGE}")
        return
    llm = _llm(ctx, respond)
    how = "with the language model" if llm is not None else "without an LLM (from the data and the answers)"
    respond(text=f"Drafting the ICP {how}… this can take up to a minute. I'll post it here for review.")
    try:
        outcome = draft_icp(
            engine=ctx.engine,
            knowledge=knowledge_or_none(ctx),
            llm=llm,
            workspace=req.team_id,
            segment=segment,
            author=req.user_id,
            clock=ctx.clock,
        )
    except NoCrmDataError:
        respond(text=NO_DATA)
        return
    except DraftingError as exc:
        respond(text=f"I couldn't draft that: {mrkdwn_escape(str(exc))}")
        return
    ctx.metrics.drafts.labels("offline" if outcome.drafted_with == OFFLINE else "llm").inc()
    facts = ReviewFacts(status=IcpStatus.draft, author=req.user_id)
    post_draft(
        client,
        outcome,
        facts,
        channel=req.channel_id,
        user_id=req.user_id,
        thread_ts=req.thread_ts,
        engine=ctx.engine,
    )
    refresh_home(ctx, client, team_id=req.team_id, user_id=req.user_id)
