"""Run one ``/icp`` request: parse the text, check permissions, call the subcommand's handler.

The first word picks a subcommand (no words means help); owner-only subcommands refuse politely
and say who can help; a failing handler is answered with a short apology and a reference for the
logs, never a stack trace. Used on the server's threads and in the score worker processes alike.

Every subcommand module is imported here by name, so a subcommand that fails to import breaks
start-up loudly instead of silently disappearing from ``/icp help``.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_sdk import WebClient

from bot.slack.context import AppContext
from bot.slack.failures import privately, report_failure, submit_safely
from bot.slack.listeners.commands.icp import (
    connect,
    diff,
    draft,
    export,
    forget,
    help,
    import_,
    interview,
    owners,
    personas,
    privacy,
    remind,
    review,
    score,
    show,
    status,
    sync,
)
from bot.slack.listeners.commands.icp.args import mrkdwn_escape
from bot.slack.listeners.commands.icp.registry import REGISTRY, Respond, SlashRequest, Subcommand, split_args
from bot.slack.payload import team_id_of
from bot.slack.people import owner_rules
from bot.slack.respond import note_privately
from bot.slack.work_pools import busy_text

log = logging.getLogger(__name__)

MAX_TEXT = 2000  # Slack caps command text far below this; longer input is not a command

SUBCOMMAND_MODULES = (
    connect,
    diff,
    draft,
    export,
    forget,
    help,
    import_,
    interview,
    owners,
    personas,
    privacy,
    remind,
    review,
    score,
    show,
    status,
    sync,
)


def load_all() -> dict[str, Subcommand]:
    """The registry of every subcommand (their modules are imported above, so it is complete)."""
    return REGISTRY


def run_once(
    claim: Callable[[], bool] | None,
    body: dict[str, Any],
    *,
    ctx: AppContext,
    client: WebClient,
    respond: Respond,
) -> None:
    """``route`` unless ``claim`` says this delivery was handled already (a redelivery)."""
    try:
        if claim is not None and not claim():
            return
    except Exception:  # the ledger unreachable: answering twice beats not answering at all
        log.exception("could not record the delivery of /icp; running it anyway")
    route(body, ctx=ctx, client=client, respond=respond)


def submit_once(
    claim: Callable[[], bool] | None,
    body: dict[str, Any],
    *,
    ctx: AppContext,
    client: WebClient,
    respond: Respond,
) -> None:
    """``run_once`` on the commands pool, after the ack; a failure outside the subcommand itself
    (the owner check, an unknown name's reply) is reported and apologised for as well, and a
    full pool is answered with the busy reply (ephemeral)."""
    submit_safely(
        ctx.commands.executor,
        partial(run_once, claim, body, ctx=ctx, client=client, respond=respond),
        what="/icp",
        apologise=privately(respond, body),
        busy=lambda: note_privately(respond, body, busy_text(ctx.commands.full_retry_after())),
    )


def admit(body: dict[str, Any], *, ctx: AppContext, respond: Respond) -> bool:
    """Whether this person may run another command now; if not, tell them (ephemeral) when to
    try again, from their token bucket (COMMAND_USER_BURST, COMMAND_USER_PER_MINUTE)."""
    wait = ctx.commands.admit(team_id_of(body), str(body.get("user_id") or ""))
    if wait is None:
        return True
    log.info("/icp refused: the person's command rate limit is reached (retry in %s s)", wait)
    note_privately(respond, body, busy_text(wait))
    return False


def parse(body: dict[str, Any]) -> SlashRequest:
    """The slash command payload as a ``SlashRequest`` (the subcommand name lowercased)."""
    text = str(body.get("text") or "").strip()[:MAX_TEXT]
    words = split_args(text)
    name = words[0].lower() if words else "help"
    raw = text[len(text.split(None, 1)[0]) :].strip() if words else ""
    return SlashRequest(
        team_id=team_id_of(body),
        user_id=str(body.get("user_id") or ""),
        channel_id=str(body.get("channel_id") or ""),
        name=name,
        args=words[1:],
        raw=raw,
        trigger_id=body.get("trigger_id"),
        response_url=body.get("response_url"),
        thread_ts=body.get("thread_ts"),
        enterprise_id=body.get("enterprise_id"),
        payload=body,
    )


def route(body: dict[str, Any], *, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    """Run the subcommand named in ``body``; every outcome is a short reply, never a trace."""
    req = parse(body)
    spec = REGISTRY.get(req.name)
    if spec is None:
        respond(text=unknown_reply(req.name))
        return
    rules = owner_rules(ctx, client)
    if spec.owner_only and not rules.is_owner(team_id=req.team_id, user_id=req.user_id):
        respond(text=rules.refusal(team_id=req.team_id, action=f"use `/icp {spec.name}`"))
        return
    try:
        spec.handler(req, ctx, client, respond)
    except Exception:  # the apology names the subcommand (this runs on our pool, or in a worker)
        report_failure(
            f"/icp {spec.name}", apologise=lambda reference: respond(text=apology(spec.name, reference))
        )


def apology(name: str, reference: str) -> str:
    """What a person sees when ``/icp <name>`` failed on our side."""
    return (
        f"Sorry, `/icp {name}` failed on our side (ref {reference}). "
        "Please try again in a minute; if it keeps failing, tell an ICP owner."
    )


def unknown_reply(name: str) -> str:
    """A short answer to a subcommand we don't have, with the nearest ones we do."""
    names = sorted({spec.name for spec in REGISTRY.values()})
    shown = name if len(name) <= 40 else name[:39] + "…"
    shown = mrkdwn_escape(shown)
    close = difflib.get_close_matches(name, names, n=2, cutoff=0.6)
    hint = f" Did you mean {' or '.join(f'`/icp {c}`' for c in close)}?" if close else ""
    return f"I don't know `/icp {shown}`.{hint} Try `/icp help` to see what I can do."
