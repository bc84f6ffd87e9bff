"""Who may do what: ICP owners approve, import, manage reminders and erase; everyone else reads.

Owners are the Slack user ids in ``ICP_OWNERS`` when it is set. Otherwise they are the
workspace's admins and owners (per ``users.info``) plus whoever installed the app (known in
OAuth mode from the installation store). Refusals name who can help, so nobody is stuck.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.slack.installations import installer_user_id

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.context import AppContext

log = logging.getLogger(__name__)


def is_owner(*, ctx: AppContext, client: WebClient, team_id: str, user_id: str) -> bool:
    """True if ``user_id`` is an ICP owner in ``team_id``; unknown users are not owners."""
    if not user_id:
        return False
    configured = ctx.settings.owner_ids
    if configured:
        return user_id in configured
    if user_id == _installer(ctx, team_id):
        return True
    return _is_workspace_admin(client, user_id)


def owners_hint(
    *, ctx: AppContext, team_id: str, client: WebClient | None = None, user_id: str | None = None
) -> str:
    """One sentence saying who the ICP owners are, for refusals (mentions render as names)."""
    configured = sorted(ctx.settings.owner_ids)
    if configured:
        return f"ICP owners here: {_mentions(configured)}."
    installer = _installer(ctx, team_id)
    if installer:
        return f"ICP owners here are the workspace admins and owners, and {_mentions([installer])} who installed the app."
    return "ICP owners here are the workspace admins and owners."


def refusal(*, action: str, hint: str) -> str:
    """The polite no: what was refused, who can do it, and how to get access."""
    return (
        f"Sorry, only ICP owners can {action}. {hint} "
        "Ask one of them, or ask an admin to add you to ICP_OWNERS."
    )


def _installer(ctx: AppContext, team_id: str) -> str | None:
    try:
        return installer_user_id(ctx.settings, ctx.engine, team_id=team_id)
    except Exception:  # a broken store must not turn a permission check into a crash
        log.exception("could not read the installation for team %s", team_id)
        return None


def _is_workspace_admin(client: WebClient, user_id: str) -> bool:
    try:
        user = client.users_info(user=user_id).get("user") or {}
    except SlackApiError as exc:
        log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
        return False
    except (SlackRequestError, OSError) as exc:  # Slack unreachable after retries: fail closed
        log.warning("users.info unreachable for %s: %s", user_id, exc)
        return False
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


def _mentions(user_ids: list[str]) -> str:
    return ", ".join(f"<@{uid}>" for uid in user_ids)
