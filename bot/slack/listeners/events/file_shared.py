"""``file_shared``: a file shared in a DM with the bot is imported (ICP owners) or explained.

Slack also sends a ``message`` event (subtype ``file_share``) for the same upload, handled in
``listeners/messages/file_upload.py``; whichever arrives first claims the file, so it is imported
once. Files shared in channels, by the bot itself, or described by malformed events are ignored.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack.context import AppContext
from bot.slack.delivery import DeliveryLedger
from bot.slack.messaging.imports import import_shared, make_upload
from bot.slack.payload import team_id_of

log = logging.getLogger(__name__)


def register(app: App, ctx: AppContext) -> None:
    ledger = DeliveryLedger(ctx.engine)

    @app.event("file_shared")
    def on_file_shared(
        body: dict[str, Any], event: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        file = event.get("file")
        upload = make_upload(
            team_id=team_id_of(body) or context.team_id,
            user_id=event.get("user_id"),
            channel_id=event.get("channel_id"),
            file_id=event.get("file_id") or (file.get("id") if isinstance(file, dict) else None),
        )
        if upload is None or upload.user_id == context.bot_user_id:
            return
        import_shared(ctx=ctx, client=client, ledger=ledger, upload=upload)
