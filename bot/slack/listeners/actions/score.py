"""Clicks on score cards: "Why?" expands the card in place; a chooser button scores the pick.

Button values are checked before use (they come back from the client and could be forged), and
every lookup is scoped to the clicking team's workspace, so a value can never reach another
team's accounts.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.services.scoring.service import NoIcpError, ScoringError, score_account, score_inline
from bot.slack.context import AppContext
from bot.slack.failures import reported
from bot.slack.messaging.score_cards import deliver_card
from bot.slack.messaging.score_usage import count_score
from bot.slack.payload import clicked_message, first_action, team_id_of, user_id_of
from bot.slack.respond import note_privately
from bot.slack.views.score_card import (
    CHOOSE_ACCOUNT,
    NO_ICP_TEXT,
    WHY_BUTTON,
    card_blocks,
    choice_extras,
    decode_choice,
    decode_why,
    outcome_text,
)

STALE_BUTTON = "That button is out of date; run `/icp score` again."


def expand(body: dict[str, Any], *, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    """Redo the score with the card's ICP version and put the expanded card in its place."""
    try:
        why = decode_why(first_action(body)[1])
    except ValueError:
        note_privately(respond, body, STALE_BUTTON)
        return
    team_id = team_id_of(body)
    try:
        if why.account_id is not None:
            outcome = score_account(
                ctx.engine,
                team_id=team_id,
                account_id=why.account_id,
                icp_version_id=why.icp_version_id,
                overrides=why.pairs or None,
            )
        else:
            outcome = score_inline(
                ctx.engine, team_id=team_id, pairs=why.pairs, icp_version_id=why.icp_version_id
            )
    except NoIcpError:
        note_privately(respond, body, NO_ICP_TEXT)
        return
    except ScoringError as exc:
        note_privately(respond, body, str(exc))
        return
    blocks = card_blocks(outcome, expanded=True, shared_by=why.shared_by)
    text = outcome_text(outcome)
    if body.get("response_url"):
        respond(text=text, blocks=blocks, replace_original=True)
        return
    channel, ts = clicked_message(body)
    client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)


def choose(body: dict[str, Any], *, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    """Score the account picked in the chooser; the card replaces the chooser (or, shared, is
    posted in the channel and the private chooser goes away)."""
    try:
        value = first_action(body)[1]
        account_id, share = decode_choice(value)
        pairs, segment = choice_extras(value)
    except ValueError:
        note_privately(respond, body, STALE_BUTTON)
        return
    try:
        outcome = score_account(
            ctx.engine,
            team_id=team_id_of(body),
            account_id=account_id,
            overrides=pairs or None,
            segment=segment,
        )
    except NoIcpError:
        note_privately(respond, body, NO_ICP_TEXT)
        return
    except ScoringError as exc:
        note_privately(respond, body, str(exc))
        return
    count_score(ctx, team_id=team_id_of(body), user_id=user_id_of(body), outcome=outcome)
    deliver_card(
        outcome,
        share=share,
        client=client,
        respond=respond,
        channel_id=clicked_message(body)[0],
        user_id=user_id_of(body),
        replace_original=True,
    )


def register(app: App, ctx: AppContext) -> None:
    @app.action(WHY_BUTTON)
    @reported
    def on_why(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        expand(body, ctx=ctx, client=client, respond=respond)

    @app.action(CHOOSE_ACCOUNT)
    @reported
    def on_choose(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        choose(body, ctx=ctx, client=client, respond=respond)
