"""A ``message`` with subtype ``file_share`` in a DM with the bot: import the CSV files it carries.

This event carries the upload's comment (the kind of data, "skip bad rows") and its timestamp
(the answer goes in its thread). Several files in one message are imported accounts first, as
deals and health rows join stored accounts. The matcher takes only DM file shares, so the
interview listener and the catch-all (``other.py``, registered after this module) see the rest.
Slack also sends ``file_shared`` for the same upload: the first event to claim a file imports it.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.services.imports.kinds import kind_order, wants_skip_bad_rows
from bot.slack.context import AppContext
from bot.slack.delivery import DeliveryLedger
from bot.slack.messaging.imports import import_shared, make_upload
from bot.slack.payload import team_id_of

log = logging.getLogger(__name__)

MAX_FILES = 10  # Slack allows 10 files per message


def is_dm_file_share(event: dict[str, Any]) -> bool:
    """A person's own file share in a DM with the bot."""
    files = event.get("files")
    return (
        event.get("type") == "message"
        and event.get("subtype") == "file_share"
        and event.get("channel_type") == "im"
        and not event.get("bot_id")
        and isinstance(event.get("user"), str)
        and isinstance(files, list)
        and bool(files)
    )


def _named_files(event: dict[str, Any], comment: str) -> list[tuple[str, str]]:
    """(file id, name) of the shared files, accounts first; the comment names a kind only for one file."""
    found = [
        (str(f["id"]), str(f.get("name") or f.get("title") or ""))
        for f in event["files"][:MAX_FILES]
        if isinstance(f, dict) and isinstance(f.get("id"), str)
    ]
    hint = comment if len(found) == 1 else ""
    return sorted(found, key=lambda pair: kind_order(pair[1], hint))


def register(app: App, ctx: AppContext) -> None:
    ledger = DeliveryLedger(ctx.engine)

    def matcher(event: dict[str, Any]) -> bool:
        return is_dm_file_share(event)

    @app.event("message", matchers=[matcher])
    def on_file_share(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        text = event.get("text")
        comment = text if isinstance(text, str) else ""
        files = _named_files(event, comment)
        for file_id, _name in files:
            upload = make_upload(
                team_id=team_id_of(body),
                user_id=event.get("user"),
                channel_id=event.get("channel"),
                file_id=file_id,
                # With several files, a kind named in the comment would fit only one of them.
                text=comment if len(files) == 1 else _without_kinds(comment),
                thread_ts=event.get("thread_ts") or event.get("ts"),
            )
            if upload is None:
                continue
            import_shared(ctx=ctx, client=client, ledger=ledger, upload=upload)


def _without_kinds(comment: str) -> str:
    """Keep only the options that apply to every file of a multi-file share."""
    return "skip bad rows" if wants_skip_bad_rows(comment) else ""
