"""``/icp score``: score a company (by name or domain) or typed attributes against the ICP.

Answers privately by default; ``--share`` posts the card in the channel for everyone. When a
name matches several accounts the person picks one (bot/slack/listeners/actions/score.py scores the
pick), and the card's "Why?" button expands it in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

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
from bot.slack.listeners.commands.icp.args import mrkdwn_escape
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.messaging.score_cards import deliver_card
from bot.slack.messaging.score_usage import count_score
from bot.slack.views.score_card import NO_ICP_TEXT, account_chooser, choices_of, chooser_text, not_found_text

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond

SHARE_FLAGS = frozenset({"--share", "-s", "share:true"})
USAGE_TEXT = (
    "Tell me what to score: `/icp score Acme Inc`, `/icp score acme.com`, or attributes: "
    f"`/icp score {INLINE_EXAMPLE}`. Add attributes after a company to fill in what is unknown "
    "(`/icp score acme.com employees=250`), `segment=emea` to use one segment's ICP, and "
    "`--share` to post the card in the channel."
)


def split_share(args: Sequence[str]) -> tuple[list[str], bool]:
    """The words without the ``--share`` flag, and whether it was there."""
    words = [a for a in args if a.casefold() not in SHARE_FLAGS]
    return words, len(words) != len(args)


def split_segment(words: Sequence[str]) -> tuple[list[str], str | None]:
    """The words without ``segment=NAME``, and the segment named (the last one wins)."""
    rest: list[str] = []
    segment: str | None = None
    for word in words:
        key, sep, value = word.partition("=")
        if sep and key.strip().casefold() == "segment" and value.strip():
            segment = value.strip()
        else:
            rest.append(word)
    return rest, segment


@subcommand(
    "score",
    summary="Score a company against the ICP: by name, by domain, or from attributes.",
    usage="score <company name | domain> [attribute=value ...] [segment=NAME] [--share]",
    examples=(
        "score Acme Inc",
        "score acme.com --share",
        f"score {INLINE_EXAMPLE}",
        "score acme.com employees=250",
        "score acme.com segment=emea",
    ),
)
def score_command(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    words, share = split_share(req.args)
    words, segment = split_segment(words)
    if not words:
        respond(text=USAGE_TEXT, response_type="ephemeral")
        return
    names = [w for w in words if "=" not in w]
    typed = [w for w in words if "=" in w]
    try:
        if not names:
            outcome: ScoreOutcome | LookupResult = score_inline(
                ctx.engine, team_id=req.team_id, pairs=parse_pairs(typed), segment=segment
            )
        else:
            outcome = score_query(
                ctx.engine,
                team_id=req.team_id,
                query=" ".join(names),
                overrides=parse_pairs(typed) if typed else None,
                segment=segment,
            )
    except NoIcpError:
        respond(text=NO_ICP_TEXT, response_type="ephemeral")
        return
    except ScoringError as exc:  # may quote what was typed
        respond(text=mrkdwn_escape(str(exc)), response_type="ephemeral")
        return
    if isinstance(outcome, LookupResult):
        if outcome.status == "not_found" or not outcome.candidates:
            respond(text=not_found_text(outcome.query, outcome.searched), response_type="ephemeral")
        else:
            blocks = account_chooser(
                outcome.query,
                choices_of(outcome),
                exact=outcome.exact,
                share=share,
                pairs=parse_pairs(typed) if typed else None,
                segment=segment,
            )
            respond(text=chooser_text(outcome.query), blocks=blocks, response_type="ephemeral")
        return
    count_score(ctx, team_id=req.team_id, user_id=req.user_id, outcome=outcome)
    deliver_card(
        outcome,
        share=share,
        client=client,
        respond=respond,
        channel_id=req.channel_id,
        user_id=req.user_id,
        thread_ts=req.thread_ts,
    )
