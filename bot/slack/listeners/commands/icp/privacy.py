"""``/icp privacy names on|off``: may chat name me when it cites my interview answers?

Off by default: outside an ICP owner's DM, chat cites an interviewee by role ("a sales
stakeholder") and never quotes them verbatim. A person who turns names on is cited by name (their
words are still paraphrased). Only the person themselves can change it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.privacy.posted import set_names_allowed
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.store.repo.errors import NotFoundError

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond

USAGE = "Usage: `/icp privacy names on` (chat may name you when it cites your answers) or `/icp privacy names off`."
CHOICES = {"on": True, "yes": True, "allow": True, "off": False, "no": False, "deny": False}


@subcommand(
    "privacy",
    summary="Choose whether chat may name you when it cites your interview answers (off by default).",
    usage="privacy names on|off",
    examples=("privacy names on", "privacy names off"),
)
def privacy_command(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    words = [w.lower() for w in req.args]
    if len(words) != 2 or words[0] != "names" or words[1] not in CHOICES:
        respond(text=USAGE)
        return
    allowed = CHOICES[words[1]]
    try:
        set_names_allowed(engine=ctx.engine, team_id=req.team_id, slack_user_id=req.user_id, allowed=allowed)
    except NotFoundError:
        respond(text="You have not been interviewed here, so chat never cites you. Nothing to change.")
        return
    if allowed:
        respond(
            text="Done: when chat cites your interview answers it may name you. Your words are still "
            "paraphrased outside ICP owners' DMs. `/icp privacy names off` undoes it."
        )
    else:
        respond(
            text="Done: chat cites your answers by role only (e.g. “a sales stakeholder”), never by name."
        )
