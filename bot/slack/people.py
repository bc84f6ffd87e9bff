"""The Slack side of the ICP owner rules: users.info says who is an admin, our own store who
installed the app first and who was added (bot/services/permissions.py holds the rules)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.services.owners import kept_owners
from bot.services.permissions import OwnerRules
from bot.slack.installations import first_installer

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.settings import Settings
    from bot.slack.context import AppContext
    from bot.store.db import Engine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackPeople:
    """``People`` answered by one workspace's Web API client and our store."""

    client: WebClient
    settings: Settings
    engine: Engine

    def installer(self, team_id: str) -> str | None:
        try:
            return first_installer(self.settings, self.engine, team_id=team_id)
        except Exception:  # a broken store must not turn a permission check into a crash
            log.exception("could not read the installer of team %s", team_id)
            return None

    def added_owners(self, team_id: str) -> frozenset[str]:
        try:
            return frozenset(kept_owners(self.engine, team_id=team_id).added)
        except Exception:  # fail closed: nobody is an added owner when the store cannot tell
            log.exception("could not read the ICP owners of team %s", team_id)
            return frozenset()

    def is_admin(self, user_id: str) -> bool:
        try:
            user = self.client.users_info(user=user_id).get("user") or {}
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            return False
        except (SlackRequestError, OSError) as exc:  # Slack unreachable after retries: fail closed
            log.warning("users.info unreachable for %s: %s", user_id, exc)
            return False
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


def owner_rules(ctx: AppContext, client: WebClient) -> OwnerRules:
    """The owner rules for a request answered with ``client``."""
    return OwnerRules(
        configured=ctx.settings.owner_ids,
        people=SlackPeople(client, ctx.settings, ctx.engine),
        by_team=ctx.settings.owners_by_team,
    )
