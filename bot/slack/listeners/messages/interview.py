"""Plain DMs from someone with an active interview: the next step of their interview.

The listener only claims a message when it is a person's own plain message in a DM with the bot
and that person has an unfinished interview; everything else (channels, edits, files, bots, DMs
from people not being interviewed) is left for other listeners.

The message is applied in SQL before Bolt acknowledges it (a listener middleware runs before the
ack; the listener itself runs after it): once Slack has its 200 it never sends the message again,
so an answer acknowledged but not yet written would be lost if the process died in between
(the crash suite in tests/reliability found exactly that). Replying and indexing follow the ack.
Applying is idempotent per event id, so a redelivery may safely reach it (``replays_safely``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient

from bot.services.interviews import conversation as interviews
from bot.services.interviews.conversation import Turn
from bot.services.interviews.questions import QuestionSetError
from bot.slack.context import AppContext
from bot.slack.failures import report_failure, with_reference
from bot.slack.messaging.interviews import post_message, post_turn
from bot.slack.payload import team_id_of
from bot.slack.views.interview import SlackMessage
from bot.store.db import Engine

log = logging.getLogger(__name__)

SORRY = (
    "Sorry, I couldn't record that just now. Please send it again in a minute; your earlier answers are safe."
)


def is_plain_dm(event: dict[str, Any]) -> bool:
    """A person's own new message in a DM with the bot (no edit, file, bot or channel message)."""
    return (
        event.get("type") == "message"
        and event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
        and isinstance(event.get("user"), str)
        and isinstance(event.get("text"), str)
        and bool(event["text"].strip())
    )


TURN = "interview_turn"  # Bolt context key: what the message did, applied before the ack


def in_interview(engine: Engine, body: dict[str, Any], event: dict[str, Any]) -> bool:
    """A plain DM from someone with an unfinished interview."""
    if not is_plain_dm(event):
        return False
    team_id = team_id_of(body)
    return bool(team_id) and (
        interviews.active_interview_of(engine=engine, team_id=team_id, user_id=event["user"]) is not None
    )


def replays_safely(engine: Engine, body: dict[str, Any]) -> bool:
    """Whether a repeat of this delivery can be let through: an interview message is applied at
    most once per event id, so a redelivery whose first attempt died before writing still lands."""
    event = body.get("event")
    return isinstance(event, dict) and in_interview(engine, body, event)


def _apply(engine: Engine, body: dict[str, Any], event: dict[str, Any]) -> Turn | None:
    """The message applied in SQL (None when that failed: the person gets an apology)."""
    team_id = team_id_of(body)
    event_id = str(body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}")
    try:
        return interviews.handle_message(
            engine=engine, team_id=team_id, user_id=event["user"], text=event["text"], event_id=event_id
        )
    except QuestionSetError:
        log.exception("interview questions cannot be loaded for team %s", team_id)
    except Exception:  # the ack must still go out; the person gets an apology after it
        log.exception("interview message %s of team %s failed", event_id, team_id)
    return None


def register(app: App, ctx: AppContext) -> None:
    def matcher(body: dict[str, Any], event: dict[str, Any]) -> bool:
        return in_interview(ctx.engine, body, event)

    def apply_before_ack(
        body: dict[str, Any], event: dict[str, Any], context: BoltContext, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        context[TURN] = _apply(ctx.engine, body, event)
        return next()

    @app.event("message", matchers=[matcher], middleware=[apply_before_ack])
    def on_interview_message(
        body: dict[str, Any], event: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        team_id = team_id_of(body)
        channel = str(event.get("channel") or "")
        thread_ts = event.get("thread_ts")
        turn = context.get(TURN)
        if turn is None:
            _apologise(client, channel, thread_ts)
            return
        try:
            post_turn(client, turn, channel=channel, thread_ts=thread_ts)
        except Exception:  # an event has no response_url: only this can tell the person
            reference = report_failure(f"interview reply in {channel} of team {team_id}")
            _apologise(client, channel, thread_ts, reference)
            return
        interviews.index_turn(knowledge=lambda: ctx.knowledge, team_id=team_id, turn=turn)


def _apologise(client: WebClient, channel: str, thread_ts: str | None, reference: str | None = None) -> None:
    text = with_reference(SORRY, reference) if reference else SORRY
    try:
        post_message(client, channel=channel, message=SlackMessage(text=text, blocks=[]), thread_ts=thread_ts)
    except Exception:  # Slack unreachable too: the log lines are all we can do
        log.exception("could not deliver the apology in %s", channel)
