"""``/icp import``: how to bring CRM data in (a CSV shared in a DM with the bot)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond

HOW_TO_IMPORT = (
    "*Importing CRM data*\n"
    "1. Export accounts (and, if you have them, deals and customer health) from your CRM as CSV.\n"
    "2. Open a direct message with me (Apps → ICP assistant → Messages) and drop the CSV file there. "
    "Name it so I can tell what it is, e.g. `accounts.csv`, `deals.csv` or `health.csv`.\n"
    "3. I import it with the same checks as `icp import` on the command line and answer with a summary: "
    "rows added, updated, unchanged, and every rejected row with the field that is wrong. "
    "A file with errors changes nothing; the same file twice is recognised."
)


@subcommand(
    "import",
    summary="How to import CRM data: share a CSV with me in a DM.",
    usage="import",
    examples=("import",),
    owner_only=True,
)
def import_(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    respond(text=HOW_TO_IMPORT)
