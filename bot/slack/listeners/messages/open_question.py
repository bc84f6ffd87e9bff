"""Plain DMs outside an interview: questions to the assistant about the ICP, personas and data.

Registered after ``file_upload``, ``interview`` and ``checkin`` (bot/slack/listeners/__init__.py),
so this sees only what they left: a person's own plain DM when they have no active interview and
no review check-in awaiting their reply. ``other.py`` (after it) still takes
every remaining message. The answer goes in the DM, in the thread when the question was in one.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.services.chat.intent import clean_question
from bot.slack.context import AppContext
from bot.slack.listeners.messages.interview import is_plain_dm
from bot.slack.messaging.chat import submit_answer
from bot.slack.payload import team_id_of


def register(app: App, ctx: AppContext) -> None:
    def is_question(event: dict[str, Any]) -> bool:
        return is_plain_dm(event) and bool(clean_question(event["text"]))

    @app.event("message", matchers=[is_question])
    def on_question(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        team_id = team_id_of(body)
        channel = str(event.get("channel") or "")
        if not team_id or not channel:
            return
        submit_answer(
            ctx=ctx,
            client=client,
            team_id=team_id,
            channel=channel,
            thread_ts=event.get("thread_ts"),
            text=event["text"],
            user_id=str(event["user"]),
            private=True,  # is_plain_dm: only DMs with the bot reach here
        )
