"""Who may do what: ICP owners approve, import, manage reminders and erase; everyone else reads.

Owners are the Slack user ids ``ICP_OWNERS`` names for the workspace when it names any.
Otherwise they are the workspace's admins and owners, whoever installed the app *first* (known
in OAuth mode; a later install by someone else changes nothing), and the owners an owner added
with ``/icp owners add``. Refusals
name who can help, so nobody is stuck. Who is an admin and who installed the app are facts held
by Slack and the installation store: they come in through ``People`` (bot/slack/people.py builds
one), so these rules know nothing of Slack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


class People(Protocol):
    """The look-ups the rules need; each fails closed (no, unknown) when it cannot tell."""

    def installer(self, team_id: str) -> str | None:
        """Who first installed the app in ``team_id`` (while still an owner); None when unknown."""
        ...

    def added_owners(self, team_id: str) -> frozenset[str]:
        """The owners an owner added in ``team_id``; empty when it cannot be told."""
        ...

    def is_admin(self, user_id: str) -> bool:
        """Whether ``user_id`` is a workspace admin or owner; False when it cannot be told."""
        ...


@dataclass(frozen=True)
class OwnerRules:
    """The ICP owner rules of one setup: ids configured for every workspace (``configured``) or per
    workspace (``by_team``, which wins when set); where none are configured, the people."""

    configured: frozenset[str]
    people: People
    by_team: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def configured_for(self, team_id: str) -> frozenset[str]:
        """The ids configured for ``team_id``; empty means the people decide."""
        return self.by_team.get(team_id, frozenset()) if self.by_team else self.configured

    def is_owner(self, *, team_id: str, user_id: str) -> bool:
        """True if ``user_id`` is an ICP owner in ``team_id``; unknown users are not owners."""
        if not user_id:
            return False
        configured = self.configured_for(team_id)
        if configured:
            return user_id in configured
        if user_id == self.people.installer(team_id) or user_id in self.people.added_owners(team_id):
            return True
        return self.people.is_admin(user_id)

    def hint(self, *, team_id: str) -> str:
        """One sentence saying who the ICP owners are, for refusals (mentions render as names)."""
        configured = self.configured_for(team_id)
        if configured:
            return f"ICP owners here: {_mentions(sorted(configured))}."
        installer = self.people.installer(team_id)
        named = sorted(self.people.added_owners(team_id) - {installer})
        parts = ["the workspace admins and owners"]
        if installer:
            parts.append(f"{_mentions([installer])} who installed the app")
        if named:
            parts.append(_mentions(named))
        if len(parts) == 1:
            return f"ICP owners here are {parts[0]}."
        return f"ICP owners here are {', '.join(parts[:-1])}, and {parts[-1]}."

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
