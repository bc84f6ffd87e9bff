"""``/icp help [command]``: what the assistant can do, listed from the subcommand registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack.listeners.commands.icp.registry import REGISTRY, SlashRequest, Subcommand, subcommand
from bot.slack.views.help import command_help_blocks, help_blocks, help_text

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond


def registered() -> list[Subcommand]:
    """Each subcommand once (aliases folded into their command), by name."""
    return sorted({spec.name: spec for spec in REGISTRY.values()}.values(), key=lambda s: s.name)


@subcommand(
    "help",
    summary="List the commands, or show one in detail.",
    usage="help [command]",
    examples=("help", "help score"),
)
def help_command(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    if req.args:
        spec = REGISTRY.get(req.args[0].lower())
        if spec is not None:
            respond(text=f"/icp {spec.usage}: {spec.summary}", blocks=command_help_blocks(spec))
            return
    specs = registered()
    respond(text=help_text(specs), blocks=help_blocks(specs))
