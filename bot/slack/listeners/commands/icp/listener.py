"""The ``/icp`` Bolt listener: ack at once, then hand the request to our own work pool.

Slack allows 3 s for the ack, so nothing happens before it. ``/icp score`` goes to the score
worker processes when SCORE_PROCESSES asks for them; everything else runs ``dispatch.run_once``
on the commands pool (``dispatch.submit_once``), which claims the delivery after the ack. A
person over their command rate limit gets a busy reply instead (``dispatch.admit``).
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.slack.context import AppContext
from bot.slack.delivery import CLAIM_DELIVERY
from bot.slack.listeners.commands.icp.dispatch import admit, submit_once
from bot.slack.listeners.commands.icp.score_workers import ScoreProcesses

# "/icp", plus suffixed variants ("/icp-dev") so a staging app can share a workspace.
COMMAND = re.compile(r"^/icp(-[a-z0-9_-]+)?$")


def register(app: App, ctx: AppContext) -> None:
    processes = score_processes(ctx)

    @app.command(COMMAND)
    def icp_command(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        ack()
        # Hand the work to our own pool so this Bolt thread is free for the next request's ack;
        # the delivery is claimed there too (bot/slack/app.py), after the ack.
        claim = context.get(CLAIM_DELIVERY)
        reply = ctx.replies.respond_to(body.get("response_url"), respond)
        if not admit(body, ctx=ctx, respond=reply):  # this person's burst: a busy reply instead
            return
        on_threads = partial(submit_once, claim, body, ctx=ctx, client=client, respond=reply)
        if processes is not None and first_word(body) == "score":
            # The worker claims the delivery itself (the ledger is shared SQL).
            processes.submit(body, token=client.token, fallback=on_threads)
        else:
            on_threads()


def score_processes(ctx: AppContext) -> ScoreProcesses | None:
    """Worker processes for ``/icp score`` when SCORE_PROCESSES asks for them."""
    workers = ctx.settings.score_processes
    if workers <= 0:
        return None
    url = ctx.engine.url.render_as_string(hide_password=False)
    return ScoreProcesses(ctx.settings, database_url=url, workers=workers)


def first_word(body: dict[str, Any]) -> str:
    """The subcommand as typed, lowercased (cheap: it runs while the ack is being sent)."""
    words = str(body.get("text") or "").split(None, 1)
    return words[0].lower() if words else ""
