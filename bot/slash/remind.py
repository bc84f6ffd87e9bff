"""``/icp remind``: exists now and says honestly what it will do; a later issue builds it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slash import SlashRequest, subcommand

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.context import AppContext
    from bot.slash import Respond

REPLY = "Review reminders are coming soon: you will set a cadence (e.g. quarterly) and a channel, and I will post there when the ICP is due for review, with what changed in the data since."


@subcommand(
    "remind",
    summary="Set when the ICP is reviewed again (coming soon).",
    usage="remind",
    examples=("remind",),
    owner_only=True,
)
def remind_command(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    respond(text=REPLY)
