"""``/icp review``: the review kit now, on demand, rather than waiting for the reminder.

Same figures and buttons as the scheduled kit (deals per tier since the last review, wins outside
the ICP, churned ICP accounts, new interviews, drift against the approval backtest), posted in the
channel so the buttons' thread notes have a home; without a reminder it says how to set one. Where
the bot cannot post, the person gets the figures privately, without buttons. The chart is uploaded
with the scheduled kit only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.services.reviews import reminders
from bot.services.reviews.kit import load_review_kit
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.views.review_kit import review_kit_message
from bot.store.db import read_scope
from bot.store.repo import workspaces as workspaces_repo

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond

log = logging.getLogger(__name__)

NO_DATA = (
    "There is nothing to review yet: import CRM data (`/icp import`) and draft an ICP (`/icp draft`) first."
)


@subcommand(
    "review",
    summary="The review kit now: how the approved ICP did since the last review, and drift.",
    usage="review",
    examples=("review",),
    owner_only=True,
)
def review_command(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    with read_scope(ctx.engine) as session:
        ws = workspaces_repo.get_workspace(session=session, slack_team_id=req.team_id)
        workspace_id = ws.id if ws is not None else None
    if workspace_id is None:
        respond(text=NO_DATA)
        return
    state = reminders.get_reminder_state(ctx.engine, team_id=req.team_id)
    kit = load_review_kit(
        ctx.engine,
        workspace_id=workspace_id,
        team_id=req.team_id,
        now=ctx.clock(),
        last_reviewed_at=state.last_reviewed_at if state else None,
    )
    active = state if state is not None and state.enabled else None
    message = review_kit_message(
        kit,
        reminder_id=active.id if active else None,
        next_run_at=active.next_run_at if active else None,
    )
    try:
        client.chat_postMessage(channel=req.channel_id, text=message.text, blocks=message.blocks)
    except (SlackApiError, SlackRequestError) as exc:
        log.info("review kit not posted in %s (%s): answering privately", req.channel_id, exc)
        private = review_kit_message(kit, reminder_id=None)
        respond(
            text="I can't post in this channel (invite me with `/invite`), so here are the figures just for you.",
            blocks=private.blocks,
        )
