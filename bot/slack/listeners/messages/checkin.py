"""Plain DMs that answer a review check-in: stored, the check-in closed, the person thanked.

Registered after the interview listener and before chat (``open_question``): Bolt runs the first
listener whose matchers pass, so a person with an active interview always gets the interview, and
a person with an open check-in gets this rather than a chat answer. The matcher also claims a
redelivery of a reply already stored, so it never falls through to chat.

As for interview answers, the reply is written in SQL before Bolt acknowledges it (a listener
middleware) and at most once per event id, so a redelivery may safely reach it
(``replays_safely``); the thanks follows the ack. The answer's text is never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient

from bot.services.interviews import conversation as interviews
from bot.services.reviews import checkins
from bot.services.reviews.checkins import CheckinReply, ReplyAction
from bot.slack.context import AppContext
from bot.slack.failures import report_failure
from bot.slack.listeners.messages.interview import is_plain_dm
from bot.slack.payload import team_id_of
from bot.slack.views.review_decision import checkin_thanks
from bot.store.db import Engine

log = logging.getLogger(__name__)

REPLY = "checkin_reply"  # Bolt context key: what the message did, applied before the ack
SORRY = "Sorry, I couldn't record your check-in answer just now. Please send it again in a minute."
CLOSED = "This review was closed in the meantime, so I didn't add your message to it."


def _event_id(body: dict[str, Any], event: dict[str, Any]) -> str:
    return str(body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}")


def answers_checkin(engine: Engine, body: dict[str, Any], event: dict[str, Any]) -> bool:
    """A plain DM from someone with no active interview whose check-in awaits this reply."""
    if not is_plain_dm(event):
        return False
    team_id = team_id_of(body)
    if not team_id:
        return False
    user = str(event["user"])
    if interviews.active_interview_of(engine=engine, team_id=team_id, user_id=user) is not None:
        return False
    return checkins.awaits_reply(engine, team_id=team_id, user_id=user, event_id=_event_id(body, event))


def replays_safely(engine: Engine, body: dict[str, Any]) -> bool:
    """A repeat of a check-in reply can be let through: it is stored at most once per event id."""
    event = body.get("event")
    return isinstance(event, dict) and answers_checkin(engine, body, event)


def _apply(ctx: AppContext, body: dict[str, Any], event: dict[str, Any]) -> CheckinReply | None:
    """The reply stored in SQL (None when that failed: the person gets an apology)."""
    team_id = team_id_of(body)
    event_id = _event_id(body, event)
    try:
        return checkins.record_reply(
            ctx.engine,
            team_id=team_id,
            user_id=str(event["user"]),
            text=str(event["text"]),
            event_id=event_id,
            now=ctx.clock(),
        )
    except Exception:  # the ack must still go out; the person gets an apology after it
        log.exception("check-in reply %s of team %s failed", event_id, team_id)
    return None


def register(app: App, ctx: AppContext) -> None:
    def matcher(body: dict[str, Any], event: dict[str, Any]) -> bool:
        return answers_checkin(ctx.engine, body, event)

    def apply_before_ack(
        body: dict[str, Any], event: dict[str, Any], context: BoltContext, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        context[REPLY] = _apply(ctx, body, event)
        return next()

    @app.event("message", matchers=[matcher], middleware=[apply_before_ack])
    def on_checkin_reply(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        channel = str(event.get("channel") or "")
        thread_ts = event.get("thread_ts")
        reply: CheckinReply | None = context.get(REPLY)
        if reply is None:
            _say(client, channel, thread_ts, SORRY)
            return
        if reply.action is ReplyAction.none:
            _say(client, channel, thread_ts, CLOSED)
        elif reply.action is ReplyAction.answered and reply.owner:
            _say(client, channel, thread_ts, checkin_thanks(reply.owner))
        # a duplicate is a redelivery: it was thanked (or apologised for) the first time


def _say(client: WebClient, channel: str, thread_ts: str | None, text: str) -> None:
    try:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
    except Exception:  # Slack unreachable too: the logged reference is all we can do
        report_failure(f"check-in reply in {channel}")
