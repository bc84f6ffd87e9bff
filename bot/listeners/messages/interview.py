"""Plain DMs from someone with an active interview: the next step of their interview.

The listener only claims a message when it is a person's own plain message in a DM with the bot
and that person has an unfinished interview; everything else (channels, edits, files, bots, DMs
from people not being interviewed) is left for other listeners.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.context import AppContext
from bot.services import interviews
from bot.services.interview_delivery import post_message, post_turn
from bot.services.interview_questions import QuestionSetError
from bot.views.interview import SlackMessage

log = logging.getLogger(__name__)

SORRY = (
    "Sorry, I couldn't record that just now. Please send it again in a minute; your earlier answers are safe."
)


def team_of(body: dict[str, Any], event: dict[str, Any]) -> str:
    return str(body.get("team_id") or event.get("team") or "")


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


def register(app: App, ctx: AppContext) -> None:
    def in_interview(body: dict[str, Any], event: dict[str, Any]) -> bool:
        if not is_plain_dm(event):
            return False
        team_id = team_of(body, event)
        return bool(team_id) and (
            interviews.active_interview_of(engine=ctx.engine, team_id=team_id, user_id=event["user"])
            is not None
        )

    @app.event("message", matchers=[in_interview])
    def on_interview_message(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        team_id = team_of(body, event)
        channel = str(event.get("channel") or "")
        thread_ts = event.get("thread_ts")
        event_id = str(body.get("event_id") or f"{channel}:{event.get('ts')}")
        try:
            turn = interviews.handle_message(
                engine=ctx.engine,
                team_id=team_id,
                user_id=event["user"],
                text=event["text"],
                event_id=event_id,
            )
            post_turn(client, turn, channel=channel, thread_ts=thread_ts)
        except QuestionSetError:
            log.exception("interview questions cannot be loaded for team %s", team_id)
            _apologise(client, channel, thread_ts)
            return
        except Exception:
            log.exception("interview message %s of team %s failed", event_id, team_id)
            _apologise(client, channel, thread_ts)
            return
        interviews.index_turn(knowledge=lambda: ctx.knowledge, team_id=team_id, turn=turn)


def _apologise(client: WebClient, channel: str, thread_ts: str | None) -> None:
    try:
        post_message(
            client, channel=channel, message=SlackMessage(text=SORRY, blocks=[]), thread_ts=thread_ts
        )
    except Exception:
        log.exception("could not deliver the apology in %s", channel)
