"""Clicks on score cards: "Why?" expands the card in place; a chooser button scores the pick.

Button values are checked before use (they come back from the client and could be forged), and
every lookup is scoped to the clicking team's workspace, so a value can never reach another
team's accounts.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.context import AppContext
from bot.services.scoring.service import NoIcpError, ScoringError, score_account, score_inline
from bot.slack.listeners.commands.icp.score import card_blocks, card_subject, deliver_card
from bot.slack.views.score_card import (
    CHOOSE_ACCOUNT,
    NO_ICP_TEXT,
    WHY_BUTTON,
    decode_choice,
    decode_why,
    score_card_text,
)

log = logging.getLogger(__name__)

STALE_BUTTON = "That button is out of date; run `/icp score` again."
FAILED = "Sorry, I couldn't score that just now. Please try `/icp score` again in a minute."


def _team_id(body: dict[str, Any]) -> str:
    team = body.get("team") or {}
    user = body.get("user") or {}
    return str(team.get("id") or user.get("team_id") or "")


def _value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def _channel(body: dict[str, Any]) -> str:
    container = body.get("container") or {}
    channel = body.get("channel") or {}
    return str(container.get("channel_id") or channel.get("id") or "")


def _tell(respond: Respond, body: dict[str, Any], text: str) -> None:
    """A private note to the person who clicked (never replaces the card)."""
    if body.get("response_url"):
        respond(text=text, response_type="ephemeral", replace_original=False)


def expand(body: dict[str, Any], *, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    """Redo the score with the card's ICP version and put the expanded card in its place."""
    try:
        why = decode_why(_value(body))
    except ValueError:
        _tell(respond, body, STALE_BUTTON)
        return
    team_id = _team_id(body)
    try:
        if why.account_id is not None:
            outcome = score_account(
                ctx.engine, team_id=team_id, account_id=why.account_id, icp_version_id=why.icp_version_id
            )
        else:
            outcome = score_inline(
                ctx.engine, team_id=team_id, pairs=why.pairs, icp_version_id=why.icp_version_id
            )
    except NoIcpError:
        _tell(respond, body, NO_ICP_TEXT)
        return
    except ScoringError as exc:
        _tell(respond, body, str(exc))
        return
    blocks = card_blocks(outcome, expanded=True, shared_by=why.shared_by)
    text = score_card_text(outcome.result, card_subject(outcome))
    if body.get("response_url"):
        respond(text=text, blocks=blocks, replace_original=True)
        return
    container = body.get("container") or {}
    client.chat_update(
        channel=_channel(body), ts=str(container.get("message_ts") or ""), text=text, blocks=blocks
    )


def choose(body: dict[str, Any], *, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    """Score the account picked in the chooser; the card replaces the chooser (or, shared, is
    posted in the channel and the private chooser goes away)."""
    try:
        account_id, share = decode_choice(_value(body))
    except ValueError:
        _tell(respond, body, STALE_BUTTON)
        return
    try:
        outcome = score_account(ctx.engine, team_id=_team_id(body), account_id=account_id)
    except NoIcpError:
        _tell(respond, body, NO_ICP_TEXT)
        return
    except ScoringError as exc:
        _tell(respond, body, str(exc))
        return
    deliver_card(
        outcome,
        share=share,
        client=client,
        respond=respond,
        channel_id=_channel(body),
        user_id=str((body.get("user") or {}).get("id") or ""),
        replace_original=True,
    )


def _guarded(work: Any, body: dict[str, Any], ctx: AppContext, client: WebClient, respond: Respond) -> None:
    try:
        work(body, ctx=ctx, client=client, respond=respond)
    except Exception:  # never a trace for the person clicking; the log has the details
        log.exception("score card action %s failed", work.__name__)
        try:
            _tell(respond, body, FAILED)
        except Exception:
            log.exception("could not deliver the apology")


def register(app: App, ctx: AppContext) -> None:
    @app.action(WHY_BUTTON)
    def on_why(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        _guarded(expand, body, ctx, client, respond)

    @app.action(CHOOSE_ACCOUNT)
    def on_choose(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        _guarded(choose, body, ctx, client, respond)
