"""`/icp <subcommand>`: one Slack command, many subcommands, each in its own module here.

The listener (``listener.py``) acks at once; ``dispatch.py`` parses the text, checks permissions
and calls the subcommand's handler. A subcommand module declares itself with ``@subcommand(...)``
at import time, and ``dispatch.py`` imports every subcommand module by name.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext


@dataclass(frozen=True)
class SlashRequest:
    """What a subcommand handler needs from the slash command payload."""

    team_id: str
    user_id: str
    channel_id: str
    name: str  # the subcommand, lowercased ("score")
    args: list[str]  # the words after it, shell-style split (quotes group words)
    raw: str  # the text after the subcommand, as typed
    trigger_id: str | None = None
    response_url: str | None = None
    thread_ts: str | None = None
    enterprise_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


# Bolt's ``respond`` (posts to the response_url), or any stand-in that takes the same keywords
# (text, blocks, response_type, replace_original, ...): handlers only ever call it with keywords.
Respond = Callable[..., Any]


Handler = Callable[["SlashRequest", "AppContext", "WebClient", Respond], None]


@dataclass(frozen=True)
class Subcommand:
    name: str
    summary: str  # one line for /icp help
    usage: str  # e.g. "score <company name | domain> [--share]"
    handler: Handler
    examples: tuple[str, ...] = ()
    owner_only: bool = False  # ICP owners only (approve, import, reminders, erase)
    aliases: tuple[str, ...] = ()


REGISTRY: dict[str, Subcommand] = {}


def subcommand(
    name: str,
    *,
    summary: str,
    usage: str,
    examples: tuple[str, ...] = (),
    owner_only: bool = False,
    aliases: tuple[str, ...] = (),
) -> Callable[[Handler], Handler]:
    """Register a handler for ``/icp <name>``; a name registered twice is a programming error."""

    def register(handler: Handler) -> Handler:
        spec = Subcommand(name, summary, usage, handler, examples, owner_only, aliases)
        for key in (name, *aliases):
            if key in REGISTRY and REGISTRY[key].handler is not handler:
                raise RuntimeError(f"/icp {key} is registered twice")
            REGISTRY[key] = spec
        return handler

    return register


def split_args(text: str) -> list[str]:
    """Shell-style words; an unbalanced quote falls back to plain whitespace splitting."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()
