"""``app_mention``: a question to the assistant in a channel or thread, answered in the thread.

A bare mention (no question) is answered with how to ask.
The answer is worked out on the app's pool after the ack (``bot/slack/messaging/chat.py``).
Bots' messages and redeliveries never get here (the app's global middleware drops them).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.context import AppContext
from bot.slack.messaging.chat import submit_answer
from bot.slack.payload import team_id_of


def register(app: App, ctx: AppContext) -> None:
    @app.event("app_mention")
    def on_mention(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        if event.get("bot_id") or event.get("subtype") or not isinstance(event.get("user"), str):
            return
        channel = str(event.get("channel") or "")
        thread_ts = str(event.get("thread_ts") or event.get("ts") or "") or None
        team_id = team_id_of(body)
        text = str(event.get("text") or "")
        if not channel or not team_id:
            return
        submit_answer(
            ctx=ctx,
            client=client,
            team_id=team_id,
            channel=channel,
            thread_ts=thread_ts,
            text=text,
            user_id=str(event["user"]),
            private=event.get("channel_type") == "im",
        )
