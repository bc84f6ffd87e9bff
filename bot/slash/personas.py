"""``/icp personas``: the buyer personas stored with the newest ICP version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import Block, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.slash import SlashRequest, subcommand
from bot.store.db import session_scope
from bot.store.repo.icp import get_latest_icp, list_personas
from bot.store.repo.workspaces import get_workspace

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.context import AppContext
    from bot.slash import Respond

NO_PERSONAS = (
    "No personas yet. They are drafted together with the ICP from interview answers "
    "(`/icp interview`, then `/icp draft`); `/icp show` shows the ICP itself."
)
MAX_PERSONAS = 40  # one section each, under Slack's 50-block limit
FIELDS = ("role", "seniority", "goals", "challenges", "objections", "channels", "hooks")


@subcommand(
    "personas",
    summary="List the buyer personas of the current ICP.",
    usage="personas",
    examples=("personas",),
)
def personas(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    with session_scope(ctx.engine) as session:
        workspace = get_workspace(session=session, slack_team_id=req.team_id)
        latest = (
            get_latest_icp(session=session, workspace_id=workspace.id) if workspace and workspace.id else None
        )
        rows = (
            list_personas(session=session, workspace_id=latest.workspace_id, icp_version_id=latest.id)
            if latest is not None and latest.id is not None
            else []
        )
        version = latest.version if latest is not None else None
    if not rows:
        respond(text=NO_PERSONAS)
        return
    blocks: list[Block] = [HeaderBlock(text=f"Personas (ICP v{version})")]
    blocks += [
        SectionBlock(text=MarkdownTextObject(text=persona_text(p.name, p.persona_json)))
        for p in rows[:MAX_PERSONAS]
    ]
    if len(rows) > MAX_PERSONAS:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"…and {len(rows) - MAX_PERSONAS} more.")))
    respond(text=f"{len(rows)} persona(s) for ICP v{version}", blocks=blocks)


def persona_text(name: str, data: dict[str, Any]) -> str:
    """One persona as mrkdwn: the name, then the known fields, cut to fit one section."""
    lines = [f"*{_escape(name)}*"]
    for key in FIELDS:
        value = data.get(key)
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        if value:
            lines.append(f"{key.capitalize()}: {_escape(str(value))[:400]}")
    text = "\n".join(lines)
    return text if len(text) <= 3000 else text[:2999] + "…"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
