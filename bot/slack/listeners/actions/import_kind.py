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

from bot.slack.context import AppContext
from bot.slack.failures import reported
from bot.slack.messaging.imports import make_upload, process_upload, with_choice
from bot.slack.payload import clicked_message, first_action, team_id_of, user_id_of
from bot.slack.respond import note_privately
from bot.slack.views.import_summary import ACTION_ID_PATTERN, IMPORT_AS, KIND_LABELS, ImportTarget

log = logging.getLogger(__name__)

STALE_BUTTON = "That button is out of date; share the file with me again."


def register(app: App, ctx: AppContext) -> None:
    @app.action(ACTION_ID_PATTERN)
    @reported
    def on_import_button(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        action_id, value = first_action(body)
        try:
            target = ImportTarget.decode(value)
        except ValueError:
            target = None
        upload = (
            make_upload(
                team_id=team_id_of(body),
                user_id=user_id_of(body),
                channel_id=clicked_message(body)[0],
                file_id=target.file_id,
                thread_ts=target.thread_ts,
            )
            if target is not None
            else None
        )
        if target is None or upload is None or target.kind is None:
            note_privately(respond, body, STALE_BUTTON)
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
