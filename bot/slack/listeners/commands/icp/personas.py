"""``/icp personas``: the buyer personas of the active ICP, or of the latest draft when none is
approved; a draft's personas (their words are interview quotes nobody approved yet) for owners only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.icp.personas import personas_in_use
from bot.slack.listeners.commands.icp.drafts_access import is_owner, refuse_draft
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.views.draft import NO_PERSONAS, persona_of, personas_blocks, personas_text
from bot.store.models import IcpStatus

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond


@subcommand(
    "personas",
    summary="List the buyer personas of the active ICP (owners: or of the latest draft).",
    usage="personas",
    examples=("personas",),
)
def personas(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    found_in = personas_in_use(ctx.engine, team_id=req.team_id)
    if found_in is None or not found_in.personas:
        respond(text=NO_PERSONAS)
        return
    version, rows = found_in.version, found_in.personas
    if version.status is not IcpStatus.approved and not is_owner(req, ctx, client):
        refuse_draft(req, ctx, client, respond, "read a draft's personas")
        return
    found = [persona_of(p.name, p.persona_json if isinstance(p.persona_json, dict) else {}) for p in rows]
    respond(
        text=personas_text(version.version, len(found)),
        blocks=personas_blocks(version.version, version.status.value, found),
    )
