"""``/icp export``: exists now and says honestly what it will do; a later issue builds it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slash import SlashRequest, subcommand

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.context import AppContext
    from bot.slash import Respond

REPLY = "Export is coming soon: the approved ICP as YAML or JSON (the same format the `icp` command line reads) and the personas as a document. Until then, `/icp show` shows the current ICP."


@subcommand(
    "export",
    summary="Export the approved ICP as YAML/JSON (coming soon).",
    usage="export",
    examples=("export",),
    owner_only=False,
)
def export_command(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    respond(text=REPLY)
