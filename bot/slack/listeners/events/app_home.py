"""``app_home_opened``: publish the person's App Home (owners get the buttons, others read)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.context import AppContext
from bot.slack.messaging.home import publish_home
from bot.slack.payload import team_id_of


def register(app: App, ctx: AppContext) -> None:
    @app.event("app_home_opened")
    def on_home_opened(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return  # the Messages tab: nothing to publish
        # A failure is logged by the app's error handler (an event has nobody to apologise to).
        publish_home(ctx=ctx, client=client, team_id=team_id_of(body), user_id=str(event["user"]))
