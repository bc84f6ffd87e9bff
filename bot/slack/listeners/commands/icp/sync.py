"""``/icp sync``: sync the connected CRM now, and tell the person who asked how it went.

Owners only (the dispatcher checks, server-side). The handler already runs on the commands pool
after the ack (``dispatch.submit_once``; the App Home's "Sync now" button submits it there too),
so the sync itself may take minutes without holding up any ack. A sync that changed the store
refreshes the workspace's statistic summaries, as a CSV import does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.services.crm_sync.sync import SyncContext, SyncRequest, run_sync
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.messaging.drafts import refresh_home
from bot.slack.views.crm_sync import sync_message

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond

log = logging.getLogger(__name__)

STARTED = "Syncing your CRM now; the outcome follows here when it is done."


def statistics_refresher(ctx: AppContext) -> Callable[[str], object]:
    """Rebuild a workspace's statistic summaries after a sync: how many, or why not (a string)."""

    def refresh(workspace: str) -> object:
        from bot.services.knowledge.sync import refresh_statistics

        outcome = refresh_statistics(engine=ctx.engine, knowledge=lambda: ctx.knowledge, workspace=workspace)
        if isinstance(outcome, str):
            log.warning("statistics for team %s not refreshed after a CRM sync: %s", workspace, outcome)
        return outcome

    return refresh


@subcommand(
    "sync",
    summary="Sync the connected CRM now (accounts, deals, and ICP scores written back).",
    usage="sync",
    examples=("sync",),
    owner_only=True,
)
def sync(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    respond(text=STARTED)
    summary = run_sync(
        SyncContext(engine=ctx.engine, settings=ctx.settings, refresh_statistics=statistics_refresher(ctx)),
        SyncRequest(workspace=req.team_id, actor=req.user_id, trigger="slack"),
    )
    log.info("/icp sync of %s: %s", req.team_id, summary.status)
    message = sync_message(summary)
    respond(text=message.text, blocks=message.block_dicts())
    if summary.status not in ("busy", "not_connected"):
        refresh_home(ctx, client, team_id=req.team_id, user_id=req.user_id)
