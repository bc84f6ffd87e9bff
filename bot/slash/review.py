"""``/icp review``: exists now and says honestly what it will do; a later issue builds it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slash import SlashRequest, subcommand

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.context import AppContext
    from bot.slash import Respond

REPLY = "Reviews are coming soon: ICP owners will get the draft with what changed and why, and approve it or ask for changes here. Until then, `/icp show` shows the newest version."


@subcommand(
    "review",
    summary="Review and approve a draft ICP (coming soon).",
    usage="review",
    examples=("review",),
    owner_only=True,
)
def review_command(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    respond(text=REPLY)
