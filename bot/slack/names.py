"""People's display names from Slack (users.info), for documents that name them in plain text.

Inside Slack a ``<@U123>`` mention shows the name by itself; a PDF or Markdown file cannot, so
the export looks the ids up. A lookup that fails leaves the id as it is (never an error).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError, SlackRequestError

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger(__name__)
MAX_LOOKUPS = 5


def is_user_id(value: str) -> bool:
    return value[:1] in ("U", "W") and value.isascii() and value.isalnum() and 2 < len(value) <= 32


def display_name(user: Mapping[str, object]) -> str | None:
    """What Slack shows for a users.info ``user``: display name, else real name, else handle."""
    profile = user.get("profile")
    profile = profile if isinstance(profile, Mapping) else {}
    for value in (
        profile.get("display_name"),
        profile.get("real_name"),
        user.get("real_name"),
        user.get("name"),
    ):
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return None


def slack_names(
    client: WebClient, ids: Iterable[str | None], *, known: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Display names of the user ids not already ``known`` (at most a few users.info calls)."""
    wanted = [i for i in dict.fromkeys(ids) if i and is_user_id(i) and i not in (known or {})]
    found: dict[str, str] = {}
    for user_id in wanted[:MAX_LOOKUPS]:
        try:
            user = client.users_info(user=user_id).get("user") or {}
        except (SlackApiError, SlackRequestError, OSError) as exc:
            log.warning("users.info failed for %s: %s", user_id, exc)
            continue
        name = display_name(user) if isinstance(user, Mapping) else None
        if name:
            found[user_id] = name
    return found
