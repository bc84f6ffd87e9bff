"""``/icp personas``: the buyer personas of the active ICP, or of the latest draft when none is approved."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.views.draft import NO_PERSONAS, persona_of, personas_blocks, personas_text
from bot.store.db import read_scope
from bot.store.repo.icp import get_active_icp, get_latest_icp, list_personas
from bot.store.repo.workspaces import get_workspace

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond


@subcommand(
    "personas",
    summary="List the buyer personas of the active ICP (or of the latest draft).",
    usage="personas",
    examples=("personas",),
)
def personas(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    with read_scope(ctx.engine) as session:
        workspace = get_workspace(session=session, slack_team_id=req.team_id)
        if workspace is None or workspace.id is None:
            respond(text=NO_PERSONAS)
            return
        version = get_active_icp(session=session, workspace_id=workspace.id) or get_latest_icp(
            session=session, workspace_id=workspace.id
        )
        rows = (
            list_personas(session=session, workspace_id=workspace.id, icp_version_id=version.id)
            if version is not None and version.id is not None
            else []
        )
    if version is None or not rows:
        respond(text=NO_PERSONAS)
        return
    found = [persona_of(p.name, p.persona_json if isinstance(p.persona_json, dict) else {}) for p in rows]
    respond(
        text=personas_text(version.version, len(found)),
        blocks=personas_blocks(version.version, version.status.value, found),
    )
