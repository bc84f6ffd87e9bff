"""Who may do what: ICP owners approve, import, manage reminders and erase; everyone else reads.

Owners are the Slack user ids in ``ICP_OWNERS`` when it is set. Otherwise they are the
workspace's admins and owners plus whoever installed the app (known in OAuth mode). Refusals
name who can help, so nobody is stuck. Who is an admin and who installed the app are facts held
by Slack and the installation store: they come in through ``People`` (bot/slack/people.py builds
one), so these rules know nothing of Slack.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


class People(Protocol):
    """The look-ups the rules need; each fails closed (no, unknown) when it cannot tell."""

    def installer(self, team_id: str) -> str | None:
        """Who installed the app in ``team_id``; None when unknown."""
        ...

    def is_admin(self, user_id: str) -> bool:
        """Whether ``user_id`` is a workspace admin or owner; False when it cannot be told."""
        ...


@dataclass(frozen=True)
class OwnerRules:
    """The ICP owner rules of one workspace setup: ``configured`` ids when set, else the people."""

    configured: frozenset[str]
    people: People

    def is_owner(self, *, team_id: str, user_id: str) -> bool:
        """True if ``user_id`` is an ICP owner in ``team_id``; unknown users are not owners."""
        if not user_id:
            return False
        if self.configured:
            return user_id in self.configured
        if user_id == self.people.installer(team_id):
            return True
        return self.people.is_admin(user_id)

    def hint(self, *, team_id: str) -> str:
        """One sentence saying who the ICP owners are, for refusals (mentions render as names)."""
        if self.configured:
            return f"ICP owners here: {_mentions(sorted(self.configured))}."
        installer = self.people.installer(team_id)
        if installer:
            return f"ICP owners here are the workspace admins and owners, and {_mentions([installer])} who installed the app."
        return "ICP owners here are the workspace admins and owners."

    def refusal(self, *, team_id: str, action: str) -> str:
        """The polite no for ``action`` in ``team_id``, naming who can help."""
        return refusal(action=action, hint=self.hint(team_id=team_id))


def refusal(*, action: str, hint: str) -> str:
    """The polite no: what was refused, who can do it, and how to get access."""
    return (
        f"Sorry, only ICP owners can {action}. {hint} "
        "Ask one of them, or ask an admin to add you to ICP_OWNERS."
    )


def _mentions(user_ids: Iterable[str]) -> str:
    return ", ".join(f"<@{uid}>" for uid in user_ids)
