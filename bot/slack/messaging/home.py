"""Publish a person's App Home from the current data (on opening it, and after a draft changes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.home import load_home_data
from bot.slack.people import owner_rules
from bot.slack.views.home import home_view

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext


def publish_home(*, ctx: AppContext, client: WebClient, team_id: str, user_id: str) -> None:
    """Build and publish ``user_id``'s home tab (owners get the buttons, others read)."""
    owners = owner_rules(ctx, client)
    owner = owners.is_owner(team_id=team_id, user_id=user_id)
    hint = "" if owner else owners.hint(team_id=team_id)
    data = load_home_data(ctx.engine, team_id=team_id, now=ctx.clock())
    client.views_publish(user_id=user_id, view=home_view(data, is_owner=owner, owners_hint=hint))
