"""``/icp review``: the review kit now, on demand, rather than waiting for the reminder.

Same figures and buttons as the scheduled kit (deals per tier since the last review, wins outside
the ICP, churned ICP accounts, new interviews, drift against the approval backtest), posted in the
channel so the buttons' thread notes have a home; without a reminder it says how to set one. Where
the bot cannot post, the person gets the figures privately, without buttons. The chart is uploaded
with the scheduled kit only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.reviews import reminders
from bot.services.reviews.kit import load_team_review_kit
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.messaging.share import post_or_reply_privately
from bot.slack.views.review_kit import review_kit_message

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond

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
    state = reminders.get_reminder_state(ctx.engine, team_id=req.team_id)
    kit = load_team_review_kit(
        ctx.engine,
        team_id=req.team_id,
        now=ctx.clock(),
        last_reviewed_at=state.last_reviewed_at if state else None,
    )
    if kit is None:
        respond(text=NO_DATA)
        return
    active = state if state is not None and state.enabled else None
    message = review_kit_message(
        kit,
        reminder_id=active.id if active else None,
        next_run_at=active.next_run_at if active else None,
    )

    def privately(_error: str) -> None:
        private = review_kit_message(kit, reminder_id=None)
        respond(
            text="I can't post in this channel (invite me with `/invite`), so here are the figures just for you.",
            blocks=private.blocks,
        )

    post_or_reply_privately(
        lambda: client.chat_postMessage(channel=req.channel_id, text=message.text, blocks=message.blocks),
        privately,
        channel=req.channel_id,
        what="the review kit",
        when_unreachable=True,  # the private answer takes the response_url, another way in
    )
