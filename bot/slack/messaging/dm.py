"""The bot's direct-message channel with a person (for notes, answers to App Home clicks)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger(__name__)


def dm_channel(client: WebClient, user_id: str) -> str:
    """The bot's DM with ``user_id`` (posting to the user id also lands there, as a fallback)."""
    try:
        channel = client.conversations_open(users=user_id).get("channel") or {}
        return str(channel.get("id") or user_id)
    except SlackApiError as exc:
        log.warning("conversations.open failed for %s: %s", user_id, exc.response.get("error"))
        return user_id
