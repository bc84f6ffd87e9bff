"""The Slack side of the ICP owner rules: users.info says who is an admin, the installation
store who installed the app (bot/services/permissions.py holds the rules themselves)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.services.permissions import OwnerRules
from bot.slack.installations import installer_user_id

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.settings import Settings
    from bot.slack.context import AppContext
    from bot.store.db import Engine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackPeople:
    """``People`` answered by one workspace's Web API client and our installation store."""

    client: WebClient
    settings: Settings
    engine: Engine

    def installer(self, team_id: str) -> str | None:
        try:
            return installer_user_id(self.settings, self.engine, team_id=team_id)
        except Exception:  # a broken store must not turn a permission check into a crash
            log.exception("could not read the installation for team %s", team_id)
            return None

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
    return OwnerRules(configured=ctx.settings.owner_ids, people=SlackPeople(client, ctx.settings, ctx.engine))
