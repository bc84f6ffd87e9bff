"""``/icp owners list|add @person|remove @person``: who owns the ICP here, and owners naming others.

Anyone may list; only an ICP owner may add or remove (checked here, server-side, through the same
``OwnerRules`` as every owner-only command). Workspace admins and owners stay ICP owners whatever
this list says; the last owner kept here cannot be removed. When ``ICP_OWNERS`` names this
workspace's owners, that setting decides and this list cannot change it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.owners import LastOwner, add_owner, kept_owners, remove_owner
from bot.slack.listeners.commands.icp.args import mrkdwn_escape
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.mentions import PersonError, lookup_for, take_person
from bot.slack.people import owner_rules

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond

USAGE = "Usage: `/icp owners list`, `/icp owners add @person` or `/icp owners remove @person`."


@subcommand(
    "owners",
    summary="Who owns the ICP here; owners can add or remove other owners.",
    usage="owners [list | add @person | remove @person]",
    examples=("owners", "owners add @ana", "owners remove @ana"),
)
def owners(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    action = req.args[0].lower() if req.args else "list"
    rules = owner_rules(ctx, client)
    if action == "list":
        respond(text=listing(ctx, req.team_id, rules.configured_for(req.team_id)))
        return
    if action not in {"add", "remove"}:
        respond(text=USAGE)
        return
    if not rules.is_owner(team_id=req.team_id, user_id=req.user_id):
        respond(text=rules.refusal(team_id=req.team_id, action=f"{action} ICP owners"))
        return
    if rules.configured_for(req.team_id):
        respond(
            text="ICP owners here are set by the ICP_OWNERS setting, so they can't be changed from Slack. "
            "Ask the operator who runs the bot."
        )
        return
    if len(req.args) < 2:
        respond(text=USAGE)
        return
    try:  # a picked mention, a raw id, or a typed @name looked up in the workspace
        found = take_person(req.args, 1, lookup_for(client, req.team_id))
    except PersonError as exc:
        respond(text=f"{exc} {USAGE}")
        return
    if found is None:
        respond(text=f"I can't tell who `{mrkdwn_escape(req.args[1][:40])}` is. {USAGE}")
        return
    person = found[0]
    if action == "add":
        added = add_owner(ctx.engine, team_id=req.team_id, user_id=person, actor=req.user_id)
        respond(
            text=f"<@{person}> is now an ICP owner." if added else f"<@{person}> already is an ICP owner."
        )
        return
    try:
        removed = remove_owner(ctx.engine, team_id=req.team_id, user_id=person, actor=req.user_id)
    except LastOwner:
        respond(
            text=f"<@{person}> is the last ICP owner named here, so I kept them. Add another owner first "
            "(`/icp owners add @person`); workspace admins stay owners either way."
        )
        return
    if removed:
        respond(text=f"<@{person}> is no longer an ICP owner (unless they are a workspace admin or owner).")
    else:
        respond(
            text=f"<@{person}> was not named an ICP owner here, so nothing changed. Workspace admins and "
            "owners are ICP owners through Slack itself."
        )


def listing(ctx: AppContext, team_id: str, configured: frozenset[str]) -> str:
    """The owners as one message."""
    if configured:
        return (
            "ICP owners here (set by ICP_OWNERS): "
            + ", ".join(f"<@{uid}>" for uid in sorted(configured))
            + "."
        )
    kept = kept_owners(ctx.engine, team_id=team_id)
    lines = ["ICP owners here: the workspace admins and owners"]
    if kept.installer:
        lines.append(f"• <@{kept.installer}> (installed the app)")
    lines.extend(f"• <@{uid}> (added by an owner)" for uid in kept.added)
    if len(lines) == 1:
        return lines[0] + ". Owners can name others with `/icp owners add @person`."
    return lines[0] + ", and:\n" + "\n".join(lines[1:])
