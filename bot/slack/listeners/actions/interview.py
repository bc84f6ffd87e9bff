"""The Start (or Resume) button of an interview invitation or reminder.

The button's value is the interview id, but it comes back from the client: the service only
acts when the interview belongs to the clicking person in the clicking team's workspace.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.services.interviews import conversation as interviews
from bot.slack.context import AppContext
from bot.slack.failures import reported
from bot.slack.messaging.interviews import as_dicts, post_turn
from bot.slack.payload import clicked_message, first_action, team_id_of, user_id_of
from bot.slack.views.interview import START_INTERVIEW, started_invitation_message

log = logging.getLogger(__name__)

MAX_ID_DIGITS = 18


def _interview_id(body: dict[str, Any]) -> int | None:
    _, value = first_action(body)
    return int(value) if value.isdigit() and len(value) <= MAX_ID_DIGITS else None


def start_clicked(body: dict[str, Any], *, ctx: AppContext, client: WebClient) -> None:
    interview_id, user_id = _interview_id(body), user_id_of(body)
    if interview_id is None or not user_id:
        return
    turn = interviews.start(
        engine=ctx.engine, team_id=team_id_of(body), user_id=user_id, interview_id=interview_id
    )
    channel, ts = clicked_message(body)
    if turn.action == "ask" and channel and ts:
        done = started_invitation_message(
            role_title=turn.role_title or "you", total=turn.total, resumed=turn.resumed
        )
        try:  # the button has done its job: replace it, so it can't be pressed twice
            client.chat_update(channel=channel, ts=ts, text=done.text, blocks=as_dicts(done))
        except Exception:  # a stale invitation must not keep the person from their first question
            log.warning("could not update the invitation in %s", channel, exc_info=True)
    post_turn(client, turn, channel=turn.channel_id or channel or None)


def register(app: App, ctx: AppContext) -> None:
    @app.action(START_INTERVIEW)
    @reported
    def on_start(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        # ``respond`` is for @reported's apology.
        ack()
        start_clicked(body, ctx=ctx, client=client)
