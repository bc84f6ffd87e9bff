"""``/icp score``: score a company (by name or domain) or typed attributes against the ICP.

Answers privately by default; ``--share`` posts the card in the channel for everyone. When a
name matches several accounts the person picks one (bot/slack/listeners/actions/score.py scores the
pick), and the card's "Why?" button expands it in place.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.services.scoring.account_lookup import LookupResult
from bot.services.scoring.service import (
    INLINE_EXAMPLE,
    NoIcpError,
    ScoreOutcome,
    ScoringError,
    parse_pairs,
    score_inline,
    score_query,
)
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.views.score_card import (
    NO_ICP_TEXT,
    Approval,
    CardSubject,
    Choice,
    WhyRequest,
    account_chooser,
    chooser_text,
    not_found_text,
    score_card,
    score_card_text,
)

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond

log = logging.getLogger(__name__)

SHARE_FLAGS = frozenset({"--share", "-s", "share:true"})
USAGE_TEXT = (
    "Tell me what to score: `/icp score Acme Inc`, `/icp score acme.com`, or attributes: "
    f"`/icp score {INLINE_EXAMPLE}`. Add `--share` to post the card in the channel."
)


def split_share(args: Sequence[str]) -> tuple[list[str], bool]:
    """The words without the ``--share`` flag, and whether it was there."""
    words = [a for a in args if a.casefold() not in SHARE_FLAGS]
    return words, len(words) != len(args)


def card_subject(outcome: ScoreOutcome) -> CardSubject:
    subject = outcome.subject
    if subject.kind == "inline":
        details = tuple(f"{k}={v}" for k, v in subject.inline.items())
        return CardSubject(title=subject.title, details=details, notes=subject.notes)
    details = tuple(d for d in (subject.domain, f"CRM id {subject.crm_id}" if subject.crm_id else None) if d)
    return CardSubject(title=subject.title, details=details)


def card_blocks(outcome: ScoreOutcome, *, expanded: bool = False, shared_by: str | None = None) -> list:
    """The card for an outcome; unless expanded, with a Why? button that can redo it."""
    subject = outcome.subject
    why = WhyRequest(
        icp_version_id=outcome.icp.version_id,
        account_id=subject.account_id,
        pairs={} if subject.account_id is not None else dict(subject.inline),
        shared_by=shared_by,
    )
    return score_card(
        outcome.result,
        subject=card_subject(outcome),
        icp_status=outcome.icp.status.value,
        why=why,
        expanded=expanded,
        shared_by=shared_by,
        approval=Approval(
            approver=outcome.icp.approver,
            approved_on=outcome.icp.approved_at.date() if outcome.icp.approved_at else None,
        ),
    )


def deliver_card(
    outcome: ScoreOutcome,
    *,
    share: bool,
    client: WebClient,
    respond: Respond,
    channel_id: str,
    user_id: str,
    thread_ts: str | None = None,
    replace_original: bool = False,
) -> None:
    """Privately via ``respond``, or shared in the channel; a channel the bot can't post in gets
    the card privately with a note instead of an error."""
    blocks = card_blocks(outcome, shared_by=user_id if share else None)
    text = score_card_text(outcome.result, card_subject(outcome))
    if share and channel_id:
        try:
            client.chat_postMessage(
                channel=channel_id,
                text=f"<@{user_id}> shared: {text}" if user_id else text,
                blocks=blocks,
                thread_ts=thread_ts,
            )
        except SlackApiError as exc:
            error = exc.response.get("error", "error")
            log.info("could not share the score card in %s: %s", channel_id, error)
            note = (
                f"I couldn't post in this channel ({error}); invite me to it to share cards. "
                "Here is the card, just for you:"
            )
            respond(
                text=note + "\n" + text,
                blocks=blocks,
                response_type="ephemeral",
                replace_original=replace_original,
            )
            return
        if replace_original:
            respond(delete_original=True)
        return
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=replace_original)


def choices_of(found: LookupResult) -> list[Choice]:
    return [
        Choice(account_id=c.account.id, name=c.account.name, domain=c.account.domain, crm_id=c.account.crm_id)
        for c in found.candidates
    ]


@subcommand(
    "score",
    summary="Score a company against the ICP: by name, by domain, or from attributes.",
    usage="score <company name | domain | attribute=value ...> [--share]",
    examples=("score Acme Inc", "score acme.com --share", f"score {INLINE_EXAMPLE}"),
)
def score_command(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    words, share = split_share(req.args)
    if not words:
        respond(text=USAGE_TEXT, response_type="ephemeral")
        return
    try:
        if any("=" in w for w in words):
            outcome: ScoreOutcome | LookupResult = score_inline(
                ctx.engine, team_id=req.team_id, pairs=parse_pairs(words)
            )
        else:
            outcome = score_query(ctx.engine, team_id=req.team_id, query=" ".join(words))
    except NoIcpError:
        respond(text=NO_ICP_TEXT, response_type="ephemeral")
        return
    except ScoringError as exc:
        respond(text=str(exc), response_type="ephemeral")
        return
    if isinstance(outcome, LookupResult):
        if outcome.status == "not_found" or not outcome.candidates:
            respond(text=not_found_text(outcome.query, outcome.searched), response_type="ephemeral")
        else:
            blocks = account_chooser(outcome.query, choices_of(outcome), exact=outcome.exact, share=share)
            respond(text=chooser_text(outcome.query), blocks=blocks, response_type="ephemeral")
        return
    deliver_card(
        outcome,
        share=share,
        client=client,
        respond=respond,
        channel_id=req.channel_id,
        user_id=req.user_id,
        thread_ts=req.thread_ts,
    )
