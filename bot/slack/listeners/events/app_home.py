"""``app_home_opened``: publish the person's App Home (owners get the buttons, others read)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.context import AppContext
from bot.services.home import load_home_data
from bot.services.permissions import is_owner, owners_hint
from bot.slack.views.home import home_view

log = logging.getLogger(__name__)


def publish_home(*, ctx: AppContext, client: WebClient, team_id: str, user_id: str) -> None:
    """Build and publish ``user_id``'s home tab from the current data."""
    owner = is_owner(ctx=ctx, client=client, team_id=team_id, user_id=user_id)
    hint = "" if owner else owners_hint(ctx=ctx, team_id=team_id, client=client, user_id=user_id)
    data = load_home_data(ctx.engine, team_id=team_id, now=ctx.clock())
    client.views_publish(user_id=user_id, view=home_view(data, is_owner=owner, owners_hint=hint))


def _team_id(body: dict[str, Any], event: dict[str, Any]) -> str:
    view = event.get("view") or {}
    return str(body.get("team_id") or view.get("team_id") or event.get("team") or "")


def register(app: App, ctx: AppContext) -> None:
    @app.event("app_home_opened")
    def on_home_opened(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return  # the Messages tab: nothing to publish
        try:
            publish_home(ctx=ctx, client=client, team_id=_team_id(body, event), user_id=str(event["user"]))
        except Exception:  # a home tab that fails to build must not crash the listener pool
            log.exception("could not publish the App Home for %s", event.get("user"))
