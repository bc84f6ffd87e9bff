"""The default review reminder: quarterly, DMed to the owner, set up when the app is installed.

OAuth installs call ``install_callbacks``' success hook: the installer is recorded as the
workspace's first installer (an ICP owner) unless one is known already, and becomes the default
reminder's owner; then Bolt's default success page is shown as before. A single-workspace
bot-token deployment has no install event: when ``icp serve`` starts, the workspace gets the
same default, DMed to the first configured owner (``ICP_OWNERS``), if it has no reminder yet.
An owner's own ``/icp remind`` choice is never overwritten.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.services.owners import first_installer_record, record_installer
from bot.services.reviews.reminders import ReminderState, ensure_default_reminder
from bot.services.uninstall import workspace_installed
from bot.slack.installations import first_installer

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.settings import Settings
    from bot.store.db import Engine

log = logging.getLogger(__name__)


def _timezone(client: WebClient, user_id: str) -> str:
    try:
        return str((client.users_info(user=user_id).get("user") or {}).get("tz") or "UTC")
    except (SlackApiError, SlackRequestError, OSError) as exc:
        log.info("users.info failed for %s (%s): default reminder in UTC", user_id, exc)
        return "UTC"


def default_for_installer(
    settings: Settings, engine: Engine, *, team_id: str, installer: str, bot_token: str | None
) -> ReminderState | None:
    """The default reminder for a new install (None if the workspace already had one)."""
    from bot.slack.client import make_client

    timezone = _timezone(make_client(settings, bot_token), installer) if bot_token else "UTC"
    return ensure_default_reminder(engine, team_id=team_id, owner=installer, timezone=timezone)


def record_first_installer(settings: Settings, engine: Engine, *, team_id: str, user_id: str) -> str:
    """The workspace's first installer after this install: the one recorded already, else the
    user on the oldest installation row (installs from before we kept the record), else ``user_id``."""
    known = first_installer_record(engine, team_id=team_id)
    if known is None:
        first_installer(settings, engine, team_id=team_id)  # records the oldest row's user, if any
        known = first_installer_record(engine, team_id=team_id)
    if known is None:
        record_installer(engine, team_id=team_id, user_id=user_id)
        known = user_id
    if known != user_id:
        log.info("the app was installed again in %s; the first installer stays an owner", team_id)
    return known


def install_callbacks(settings: Settings, engine: Engine) -> CallbackOptions:
    """OAuth callbacks: after a successful install, the default reminder, then Bolt's usual page."""

    def success(args: SuccessArgs) -> BoltResponse:
        installation = args.installation
        team = installation.team_id or installation.enterprise_id
        if team and installation.user_id:
            first = installation.user_id
            try:
                workspace_installed(engine, team_id=team)  # interview nudges may go out again
            except Exception:
                log.exception("could not clear the uninstalled mark of %s", team)
            try:
                first = record_first_installer(settings, engine, team_id=team, user_id=installation.user_id)
            except Exception:  # on failure the oldest installation row stands in at the next check
                log.exception("could not record the installer for %s", team)
            try:
                default_for_installer(
                    settings,
                    engine,
                    team_id=team,
                    installer=first,
                    bot_token=installation.bot_token,
                )
            except Exception:  # the install itself succeeded; a missing default must not undo it
                log.exception("could not set the default review reminder for %s", team)
        return args.default.success(args)

    def failure(args: FailureArgs) -> BoltResponse:
        return args.default.failure(args)

    return CallbackOptions(success=success, failure=failure)


def default_for_token_mode(settings: Settings, engine: Engine, client: WebClient) -> ReminderState | None:
    """Bot-token mode at start-up: the default reminder for this token's workspace, to the first
    configured owner; None when no owner is configured, one exists, or Slack is unreachable.
    A working token also clears an earlier uninstall mark, so interview nudges resume there."""
    try:
        team = str(client.auth_test().get("team_id") or "")
    except (SlackApiError, SlackRequestError, OSError) as exc:
        log.warning("auth.test failed (%s): no default review reminder set", exc)
        return None
    if not team:
        return None
    workspace_installed(engine, team_id=team)  # the token works: interview nudges may go out there
    owners = sorted(settings.owners_for(team))
    if not owners:
        return None
    return ensure_default_reminder(
        engine, team_id=team, owner=owners[0], timezone=_timezone(client, owners[0])
    )
