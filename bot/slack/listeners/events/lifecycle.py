"""Slack tells us when we lose access: forget the tokens at once, never keep using dead ones.

``app_uninstalled`` removes the workspace's installation; ``tokens_revoked`` removes the bot
installation when bot tokens were revoked, or the named users' installations when only user
tokens were. In single-token mode there is nothing stored to remove, so it is logged loudly.
Either way, losing the bot stops the workspace's reminders (``bot.services.uninstall``: review
reminders disabled, interview nudges skipped until the app is installed again).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot.services.uninstall import stop_workspace
from bot.slack.context import AppContext
from bot.slack.installations import installation_store
from bot.slack.payload import team_id_of

log = logging.getLogger(__name__)


def register(app: App, ctx: AppContext) -> None:
    @app.event("app_uninstalled")
    def on_app_uninstalled(body: dict[str, Any]) -> None:
        team_id, enterprise_id = _tenant(body)
        _stop_reminders(ctx, team_id, "uninstalled")
        store = installation_store(ctx.settings, ctx.engine)
        if store is None:
            log.warning("the app was uninstalled from %s; SLACK_BOT_TOKEN no longer works there", team_id)
            return
        store.delete_all(enterprise_id=enterprise_id, team_id=team_id)
        log.info("app uninstalled from %s: installation removed", team_id)

    @app.event("tokens_revoked")
    def on_tokens_revoked(body: dict[str, Any], event: dict[str, Any]) -> None:
        team_id, enterprise_id = _tenant(body)
        tokens = event.get("tokens") or {}
        if tokens.get("bot"):
            _stop_reminders(ctx, team_id, "tokens_revoked")
        store = installation_store(ctx.settings, ctx.engine)
        if store is None:
            log.warning("tokens revoked in %s: %s", team_id, sorted(tokens))
            return
        if tokens.get("bot"):
            store.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
            store.delete_installation(enterprise_id=enterprise_id, team_id=team_id)
            log.info("bot token revoked in %s: installation removed", team_id)
            return
        for user_id in tokens.get("oauth") or []:
            store.delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=str(user_id))
        log.info(
            "user tokens revoked in %s: %d installation(s) removed", team_id, len(tokens.get("oauth") or [])
        )


def _stop_reminders(ctx: AppContext, team_id: str | None, reason: str) -> None:
    if not team_id:
        return
    try:
        disabled = stop_workspace(ctx.engine, team_id=team_id, reason=reason)
    except Exception:  # the tokens must still go even if the store refuses this write
        log.exception("could not stop the reminders of %s", team_id)
        return
    log.info("%s: %d review reminder(s) disabled in %s, interview nudges stopped", reason, disabled, team_id)


def _tenant(body: dict[str, Any]) -> tuple[str | None, str | None]:
    enterprise_id = body.get("enterprise_id")
    team_id = team_id_of(body) or None
    if body.get("is_enterprise_install"):
        return None, enterprise_id
    return team_id, enterprise_id
