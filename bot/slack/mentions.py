"""Who a person typed in a command is: ``<@U123|sam>``, a raw id ``U123``, or a plain ``@sam``.

Slack sends a picked mention escaped (``should_escape: true`` in the manifest), but people also
type names by hand: ``@sam``, ``@Sam Smith``. Those are looked up in ``users.list`` (all pages),
matching the user name, display name and real name case-insensitively; a handle that matches
nobody, or more than one person, is refused with a reply naming it. The member list is cached
briefly per workspace so a command costs at most one listing.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.slack.views.blocks_text import escape

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger(__name__)

MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$")
BARE_ID = re.compile(r"^[UW][A-Z0-9]{4,}$")  # real ids are longer; test ids are U0DANA-short
CACHE_SECONDS = 60.0
REFRESH_AFTER_MISS_SECONDS = 10.0  # someone who just joined is found without waiting a minute
PAGE_SIZE = 200
MAX_PAGES = 500  # 100,000 members; a runaway cursor loop stops here
MAX_HANDLE_WORDS = 4  # "@Ana María de la Cruz" is the longest name tried


class PersonError(ValueError):
    """A typed person who cannot be pinned down; the message, safe for mrkdwn, says why."""


def shown(handle: str) -> str:
    """A handle quoted back in a reply: escaped, no backticks, at most 40 characters."""
    return "`" + escape(handle[:40]).replace("`", "'") + "`"


def user_id_of(word: str) -> str | None:
    """The id in an escaped mention or a raw id; None for anything else (``@sam`` included)."""
    word = word.strip()
    match = MENTION.match(word)
    if match:
        return match.group(1)
    return word if BARE_ID.match(word) else None


@dataclass(frozen=True)
class Member:
    user_id: str
    names: frozenset[str]
    active: bool


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def member_of(user: dict[str, Any]) -> Member | None:
    """A users.list entry as the names it answers to; None for bots and Slackbot."""
    user_id = str(user.get("id") or "")
    if not user_id or user.get("is_bot") or user_id == "USLACKBOT":
        return None
    profile = user.get("profile") or {}
    raw = (
        user.get("name"),
        user.get("real_name"),
        profile.get("display_name"),
        profile.get("display_name_normalized"),
        profile.get("real_name"),
        profile.get("real_name_normalized"),
    )
    names = frozenset(_fold(str(n)) for n in raw if n and str(n).strip())
    return Member(user_id, names, active=not user.get("deleted"))


class Directory:
    """Members per workspace from users.list, cached for ``ttl`` seconds (thread-safe)."""

    def __init__(self, ttl: float = CACHE_SECONDS) -> None:
        self.ttl = ttl
        self._cache: dict[tuple[str, str], tuple[float, list[Member]]] = {}
        self._lock = threading.Lock()

    def members(self, client: WebClient, team_id: str, *, max_age: float | None = None) -> list[Member]:
        key = (str(getattr(client, "base_url", "")), team_id)
        limit = self.ttl if max_age is None else min(self.ttl, max_age)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < limit:
            return cached[1]
        listed = list(_list_members(client, team_id))
        with self._lock:
            self._cache[key] = (time.monotonic(), listed)
        return listed

    def find(self, client: WebClient, team_id: str, handle: str) -> list[str]:
        """Ids of the people ``handle`` names (active ones first; deactivated only if no other)."""
        wanted = _fold(handle.removeprefix("@"))
        found = _matches(self.members(client, team_id), wanted)
        if not found:
            found = _matches(self.members(client, team_id, max_age=REFRESH_AFTER_MISS_SECONDS), wanted)
        return found


def _matches(members: Iterable[Member], wanted: str) -> list[str]:
    hits = [m for m in members if wanted and wanted in m.names]
    active = [m.user_id for m in hits if m.active]
    return active or [m.user_id for m in hits]


def _list_members(client: WebClient, team_id: str) -> Iterable[Member]:
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        kwargs: dict[str, Any] = {"limit": PAGE_SIZE, "team_id": team_id}
        if cursor:
            kwargs["cursor"] = cursor
        page = client.users_list(**kwargs)
        for user in page.get("members") or []:
            member = member_of(user)
            if member is not None:
                yield member
        cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            return


DIRECTORY = Directory()

Lookup = Callable[[str], list[str]]


def lookup_for(client: WebClient, team_id: str, directory: Directory = DIRECTORY) -> Lookup:
    """A ``handle → ids`` function for one workspace; Slack failures become a PersonError."""

    def find(handle: str) -> list[str]:
        try:
            return directory.find(client, team_id, handle)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "unknown error")
            log.warning("users.list failed for team %s: %s", team_id, error)
            raise PersonError(
                f"I couldn't look up {shown(handle)} just now (Slack said {escape(error)}). "
                "Pick the person from Slack's @-autocomplete instead."
            ) from exc
        except (SlackRequestError, OSError) as exc:
            log.warning("users.list unreachable for team %s: %s", team_id, exc)
            raise PersonError(
                f"I couldn't reach Slack to look up {shown(handle)}. Try again in a moment."
            ) from exc

    return find


def take_person(
    words: Sequence[str], start: int, lookup: Lookup | None, *, stop: Callable[[str], bool] = lambda _w: False
) -> tuple[str, int] | None:
    """The person named at ``words[start]`` and how many words name them, or None when that word
    is not a person at all. A plain handle may span words (``@Sam Smith``): the longest run of
    words (up to 4, none a ``stop`` word or another person) naming exactly one member wins.
    Raises PersonError for a handle that names nobody or several people."""
    word = words[start]
    user_id = user_id_of(word)
    if user_id is not None:
        return user_id, 1
    if not word.startswith("@") or len(word) < 2:
        return None
    if lookup is None:
        raise PersonError(
            f"I couldn't tell who {shown(word)} is. Pick people from Slack's @-autocomplete so the "
            "command carries their user ids."
        )
    span = 1
    while (
        span < MAX_HANDLE_WORDS
        and start + span < len(words)
        and not stop(words[start + span])
        and not words[start + span].startswith(("@", "<"))
        and user_id_of(words[start + span]) is None
    ):
        span += 1
    for size in range(span, 0, -1):
        handle = " ".join(words[start : start + size])
        ids = lookup(handle)
        if len(ids) == 1:
            return ids[0], size
        if ids:
            raise PersonError(
                f"{shown(handle)} matches {len(ids)} people in this workspace. Pick the one you mean "
                "from Slack's @-autocomplete."
            )
    raise PersonError(
        f"I couldn't find anyone called {shown(word)} in this workspace. Check the spelling, or pick "
        "the person from Slack's @-autocomplete."
    )
