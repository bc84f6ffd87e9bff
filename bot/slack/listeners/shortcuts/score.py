"""The "Score a company" shortcuts: a global one opening a modal, and one on a message.

* Global shortcut ``score_company``: the modal (a domain or name, or attributes) opens at once
  with the shortcut's trigger; a submission with neither is refused next to the field; otherwise
  the form closes and the score card (or the chooser, or a short note) arrives in the person's
  DM with the bot, where its buttons work as on ``/icp score``.
* Message shortcut ``score_message_company``: the first company domain the message names is
  scored and the card shown privately (through the shortcut's response_url); a message naming
  none gets a polite private note.

Everyone may score (as with ``/icp score``); the per-person command rate limit applies, and the
work runs on the commands pool after the ack. Callback ids are constants next to the modal.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.slack.context import AppContext
from bot.slack.failures import APOLOGY, privately, submit_safely
from bot.slack.messaging.dm import dm_channel
from bot.slack.messaging.score_replies import ScoreReply, score_reply
from bot.slack.messaging.score_usage import count_score
from bot.slack.payload import team_id_of, user_id_of
from bot.slack.respond import note_privately
from bot.slack.views.score_modal import (
    COMPANY_BLOCK,
    NO_DOMAIN_TEXT,
    SCORE_MESSAGE_SHORTCUT,
    SCORE_MODAL,
    SCORE_SHORTCUT,
    ScoreAsk,
    domains_in,
    read_score_ask,
    score_modal,
)
from bot.slack.work_pools import busy_text

log = logging.getLogger(__name__)


def _counted(ctx: AppContext, reply: ScoreReply, *, team_id: str, user_id: str) -> ScoreReply:
    if reply.outcome is not None:
        count_score(ctx, team_id=team_id, user_id=user_id, outcome=reply.outcome)
    return reply


def score_to_dm(*, ctx: AppContext, client: WebClient, team_id: str, user_id: str, ask: ScoreAsk) -> None:
    """Score what the modal asked for and post the answer in the person's DM with the bot."""
    reply = _counted(
        ctx,
        score_reply(ctx.engine, team_id=team_id, query=ask.query, attributes=ask.attributes),
        team_id=team_id,
        user_id=user_id,
    )
    client.chat_postMessage(channel=dm_channel(client, user_id), text=reply.text, blocks=reply.blocks)


def score_message(*, ctx: AppContext, body: dict[str, Any], respond: Respond) -> None:
    """Score the first domain the shortcut's message names; privately, through its response_url."""
    message = body.get("message") if isinstance(body.get("message"), dict) else {}
    domains = domains_in(str((message or {}).get("text") or ""))
    if not domains:
        note_privately(respond, body, NO_DOMAIN_TEXT)
        return
    team_id = team_id_of(body)
    reply = _counted(
        ctx,
        score_reply(ctx.engine, team_id=team_id, query=domains[0]),
        team_id=team_id,
        user_id=user_id_of(body),
    )
    respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False)


def register(app: App, ctx: AppContext) -> None:
    @app.shortcut(SCORE_SHORTCUT)
    def on_score_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=str(body.get("trigger_id") or ""), view=score_modal())

    @app.view(SCORE_MODAL)
    def on_score_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        ask = read_score_ask(dict((view.get("state") or {}).get("values") or {}))
        if isinstance(ask, dict):
            ack(response_action="errors", errors=ask)
            return
        team_id, user_id = team_id_of(body), user_id_of(body)
        wait = ctx.commands.admit(team_id, user_id)
        if wait is not None:  # over the person's command rate limit: said next to the field
            ack(response_action="errors", errors={COMPANY_BLOCK: busy_text(wait)})
            return
        ack()

        def tell(text: str) -> None:
            client.chat_postMessage(channel=dm_channel(client, user_id), text=text)

        submit_safely(
            ctx.commands.executor,
            partial(score_to_dm, ctx=ctx, client=client, team_id=team_id, user_id=user_id, ask=ask),
            what="the score shortcut",
            apologise=lambda reference: tell(APOLOGY.format(reference=reference)),
            busy=lambda: tell(busy_text(ctx.commands.full_retry_after())),
        )

    @app.shortcut(SCORE_MESSAGE_SHORTCUT)
    def on_score_message(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        reply = ctx.replies.respond_to(body.get("response_url"), respond)
        wait = ctx.commands.admit(team_id_of(body), user_id_of(body))
        if wait is not None:
            note_privately(reply, body, busy_text(wait))
            return
        submit_safely(
            ctx.commands.executor,
            partial(score_message, ctx=ctx, body=body, respond=reply),
            what="the score message shortcut",
            apologise=privately(reply, body),
            busy=lambda: note_privately(reply, body, busy_text(ctx.commands.full_retry_after())),
        )
