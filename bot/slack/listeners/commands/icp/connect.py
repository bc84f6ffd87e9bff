"""``/icp connect hubspot|salesforce|status|remove``: connect the workspace's CRM for live syncs.

Owners only (the dispatcher checks, server-side). Credentials are never typed into the command
(the text of a slash command lands in Slack's logs and clients' histories): ``hubspot`` and
``salesforce`` open a modal, whose submission ``listeners/views/crm_connect.py`` checks and stores.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.connectors.records import Provider
from bot.services.crm_sync.connect import connection_status, disconnect_crm
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.views.crm_sync import connect_modal, connect_usage, status_message

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond

log = logging.getLogger(__name__)

TOO_SLOW = "The form could not open in time (Slack allows a few seconds). Please run the command again."


@subcommand(
    "connect",
    summary="Connect your CRM (HubSpot or Salesforce) for live syncs; see or remove the connection.",
    usage="connect hubspot|salesforce|status|remove",
    examples=("connect hubspot", "connect salesforce", "connect status", "connect remove"),
    owner_only=True,
)
def connect(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    action = req.args[0].lower() if req.args else ""
    if action == "status":
        message = status_message(connection_status(engine=ctx.engine, workspace=req.team_id))
        respond(text=message.text, blocks=message.block_dicts())
        return
    if action == "remove":
        removed = disconnect_crm(engine=ctx.engine, workspace=req.team_id, actor=req.user_id)
        respond(
            text="The CRM is disconnected and its credentials are deleted; synced data stays."
            if removed
            else "No CRM was connected, so nothing changed."
        )
        return
    try:
        provider = Provider(action)
    except ValueError:
        respond(text=connect_usage())
        return
    if not req.trigger_id:  # an App Home click or a replayed request: no modal can open
        respond(text=f"Type `/icp connect {provider.value}` in Slack to open the form.")
        return
    try:
        client.views_open(trigger_id=req.trigger_id, view=connect_modal(provider))
    except SlackApiError as exc:  # the trigger lapsed while the command waited: ask to retry
        if exc.response.get("error") != "expired_trigger_id":
            raise
        log.info("/icp connect: the trigger expired before the modal opened")
        respond(text=TOO_SLOW)
