"""The server-side check shared by `/icp show`, `/icp diff` and `/icp export`: drafts are for owners.

Asked only when a draft is involved, so members reading the approved ICP cost no users.info call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack.people import owner_rules

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond, SlashRequest


def is_owner(req: SlashRequest, ctx: AppContext, client: WebClient) -> bool:
    return owner_rules(ctx, client).is_owner(team_id=req.team_id, user_id=req.user_id)


def refuse_draft(
    req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond, action: str
) -> None:
    """The polite no, naming the owners, plus what members can read instead."""
    text = owner_rules(ctx, client).refusal(team_id=req.team_id, action=action)
    respond(text=f"{text} The approved ICP is open to everyone: `/icp show`.")
