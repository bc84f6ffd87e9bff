"""The Start (or Resume) button of an interview invitation or reminder.

The button's value is the interview id, but it comes back from the client: the service only
acts when the interview belongs to the clicking person in the clicking team's workspace.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.context import AppContext
from bot.services.interviews import conversation as interviews
from bot.slack.messaging.interviews import as_dicts, post_turn
from bot.slack.views.interview import START_INTERVIEW, started_invitation_message

log = logging.getLogger(__name__)

SORRY = "Sorry, I couldn't start the interview just now. Please press the button again in a minute."


def _team_id(body: dict[str, Any]) -> str:
    team = body.get("team") or {}
    user = body.get("user") or {}
    return str(team.get("id") or user.get("team_id") or "")


def _interview_id(body: dict[str, Any]) -> int | None:
    actions = body.get("actions") or [{}]
    value = str(actions[0].get("value") or "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def start_clicked(body: dict[str, Any], *, ctx: AppContext, client: WebClient) -> None:
    interview_id = _interview_id(body)
    user_id = str((body.get("user") or {}).get("id") or "")
    if interview_id is None or not user_id:
        return
    team_id = _team_id(body)
    turn = interviews.start(engine=ctx.engine, team_id=team_id, user_id=user_id, interview_id=interview_id)
    container = body.get("container") or {}
    channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
    if turn.action == "ask" and channel and container.get("message_ts"):
        done = started_invitation_message(
            role_title=turn.role_title or "you", total=turn.total, resumed=turn.resumed
        )
        try:  # the button has done its job: replace it, so it can't be pressed twice
            client.chat_update(
                channel=channel, ts=container["message_ts"], text=done.text, blocks=as_dicts(done)
            )
        except Exception:
            log.warning("could not update the invitation in %s", channel, exc_info=True)
    post_turn(client, turn, channel=turn.channel_id or channel or None)


def register(app: App, ctx: AppContext) -> None:
    @app.action(START_INTERVIEW)
    def on_start(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        try:
            start_clicked(body, ctx=ctx, client=client)
        except Exception:
            log.exception("starting an interview from a button failed")
            if body.get("response_url"):
                try:
                    respond(text=SORRY, response_type="ephemeral", replace_original=False)
                except Exception:
                    log.exception("could not deliver the apology for the Start button")
