"""``/icp draft``: exists now and says honestly what it will do; a later issue builds it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slash import SlashRequest, subcommand

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.context import AppContext
    from bot.slash import Respond

REPLY = "Drafting is coming soon. It will combine what your CRM data shows (win rate and deal value by segment, as `icp learn` does on the command line today) with what your team said in interviews, and post a draft ICP for owners to review and approve. Until then, `icp learn --accounts accounts.csv --deals deals.csv -o icp.yaml` writes a data-backed draft."


@subcommand(
    "draft",
    summary="Draft an ICP from your CRM data and interview answers (coming soon).",
    usage="draft",
    examples=("draft",),
    owner_only=True,
)
def draft_command(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    respond(text=REPLY)
