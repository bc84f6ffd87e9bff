"""Which Slack client speaks for a workspace when no request brought one (scheduled work).

Bot-token mode has one client for its one workspace; OAuth mode looks the workspace's bot token
up in the installation store (None when the app is not installed there any more): its own
install, in an Enterprise Grid org or not, else its org's org-wide install (``bot_for_team``).
"""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient

from bot.settings import Settings
from bot.slack.client import make_client
from bot.slack.installations import bot_for_team, installation_store
from bot.store.db import Engine

ClientFor = Callable[[str], WebClient | None]


def client_factory(settings: Settings, engine: Engine) -> ClientFor:
    """A function from a Slack team id to a WebClient for it (or None)."""
    store = installation_store(settings, engine)
    if store is not None:
        cache: dict[str, WebClient] = {}

        def for_team(team_id: str) -> WebClient | None:
            bot = bot_for_team(settings, engine, team_id=team_id)
            if bot is None or not bot.bot_token:
                return None
            if team_id not in cache or cache[team_id].token != bot.bot_token:
                cache[team_id] = make_client(settings, bot.bot_token)
            return cache[team_id]

        return for_team
    if settings.slack_bot_token is not None:
        client = make_client(settings, settings.slack_bot_token.get_secret_value())
        return lambda _team_id: client
    return lambda _team_id: None
