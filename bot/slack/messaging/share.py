"""Post in the channel, else reply privately: one rule for everything the bot shares in a channel.

The bot can only post where it was invited (and never in an archived channel or a DM between
other people). A shared score card, a draft, an exported file or a review kit that cannot go to
its channel goes privately to the person instead, an ephemeral reply or a DM, with Slack's
reason, rather than failing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import TypeVar

from slack_sdk.errors import SlackApiError, SlackRequestError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Slack errors that mean "not in this channel" (rather than "something is broken").
CANNOT_POST_HERE = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "cant_invite_self"}
)
UNREACHABLE = "unreachable"  # the reason given when Slack could not be reached at all


def post_or_reply_privately(
    post: Callable[[], T],
    reply_privately: Callable[[str], T],
    *,
    channel: str,
    what: str,
    only_for: Collection[str] | None = None,
    when_unreachable: bool = False,
) -> T:
    """``post()`` in ``channel``; when Slack refuses, ``reply_privately(error)`` instead.

    Any Slack API error falls back, or only those in ``only_for``; others propagate. With
    ``when_unreachable`` a Slack that cannot be reached falls back too (``UNREACHABLE``), for a
    reply that takes another way (a response_url).
    """
    caught = (SlackApiError, SlackRequestError) if when_unreachable else (SlackApiError,)
    try:
        return post()
    except caught as exc:
        error = str(exc.response.get("error") or "error") if isinstance(exc, SlackApiError) else UNREACHABLE
        if only_for is not None and error not in only_for:
            raise
        log.info("could not post %s in %s (%s): replying privately", what, channel, error)
    return reply_privately(error)
