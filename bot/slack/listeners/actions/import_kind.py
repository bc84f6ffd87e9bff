"""Buttons on import answers: import as accounts/deals/health, import the good rows, try again.

The button value names the Slack file (checked before use: values come back from the client and
could be forged); the clicking person must be an ICP owner, and the file is fetched again with
the bot's token, so a value can only reach files the bot was given, imported into the clicking
team's workspace. The question message is replaced at once so it cannot be answered twice.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.context import AppContext
from bot.slack.messaging.imports import make_upload, process_upload, with_choice
from bot.slack.views.import_summary import ACTION_ID_PATTERN, IMPORT_AS, KIND_LABELS, ImportTarget

log = logging.getLogger(__name__)

STALE_BUTTON = "That button is out of date; share the file with me again."


def _value(body: dict[str, Any]) -> tuple[str, str]:
    actions = body.get("actions") or [{}]
    first = actions[0] if isinstance(actions, list) and isinstance(actions[0], dict) else {}
    return str(first.get("action_id") or ""), str(first.get("value") or "")


def _team_id(body: dict[str, Any]) -> object:
    team = body.get("team") or {}
    user = body.get("user") or {}
    return (team.get("id") if isinstance(team, dict) else None) or (
        user.get("team_id") if isinstance(user, dict) else None
    )


def _channel_id(body: dict[str, Any]) -> object:
    container = body.get("container") or {}
    channel = body.get("channel") or {}
    return (container.get("channel_id") if isinstance(container, dict) else None) or (
        channel.get("id") if isinstance(channel, dict) else None
    )


def register(app: App, ctx: AppContext) -> None:
    @app.action(ACTION_ID_PATTERN)
    def on_import_button(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        action_id, value = _value(body)
        user = body.get("user") or {}
        try:
            target = ImportTarget.decode(value)
        except ValueError:
            target = None
        upload = (
            make_upload(
                team_id=_team_id(body),
                user_id=user.get("id") if isinstance(user, dict) else None,
                channel_id=_channel_id(body),
                file_id=target.file_id,
                thread_ts=target.thread_ts,
            )
            if target is not None
            else None
        )
        if target is None or upload is None or target.kind is None:
            if body.get("response_url"):
                respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
            return
        replaced = action_id in IMPORT_AS.values() and _settle_question(respond, body, target.kind)
        process_upload(ctx=ctx, client=client, upload=with_choice(upload, target), announce=not replaced)


def _settle_question(respond: Respond, body: dict[str, Any], kind: str) -> bool:
    """Replace the "what is in this file?" question with the answer, so it can't be clicked twice."""
    if not body.get("response_url"):
        return False
    try:
        respond(
            text=f":hourglass_flowing_sand: Importing as {KIND_LABELS[kind].lower()}…", replace_original=True
        )
    except Exception:  # an expired response_url must not stop the import
        log.warning("could not replace the import question", exc_info=True)
        return False
    return True
