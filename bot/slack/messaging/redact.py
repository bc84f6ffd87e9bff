"""After ``forget``: redact the bot's own Slack messages that quoted or named the person.

Slack keeps every message the bot posted; only the bot can change them (``chat.update``). A draft
message is re-rendered from its version, which erasure has already scrubbed; a chat answer is
replaced by a notice (it was built from evidence that no longer exists). A message that cannot be
updated (deleted, channel archived or left) stays recorded, so forgetting again retries it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.services.icp.review import ReviewError, load_review
from bot.services.privacy.posted import PostedRef, mark_redacted, posted_about
from bot.services.redaction import REMOVED
from bot.slack.views.draft import draft_blocks, draft_text

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.store.db import Engine

log = logging.getLogger(__name__)

CHAT_REDACTED = (
    f"This answer quoted or named someone: {REMOVED}. Ask me again for an answer from what remains."
)


def _update(client: WebClient, engine: Engine, team_id: str, ref: PostedRef) -> None:
    if ref.kind == "draft" and ref.version_id is not None:
        try:
            outcome, facts = load_review(engine, team_id=team_id, version_id=ref.version_id)
        except ReviewError:
            outcome = None
        if outcome is not None:
            client.chat_update(
                channel=ref.channel,
                ts=ref.ts,
                text=draft_text(outcome, facts),
                blocks=draft_blocks(outcome, facts),
            )
            return
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": CHAT_REDACTED}}]
    client.chat_update(channel=ref.channel, ts=ref.ts, text=CHAT_REDACTED, blocks=blocks)


def redact_posted(client: WebClient, engine: Engine, *, team_id: str, slack_user_id: str) -> tuple[int, int]:
    """(redacted, left) messages of the person; failures are logged by id, never with content."""
    done: list[int] = []
    refs = posted_about(engine=engine, team_id=team_id, slack_user_id=slack_user_id)
    for ref in refs:
        try:
            _update(client, engine, team_id, ref)
        except SlackApiError as exc:
            log.warning(
                "could not redact message %s in %s: %s", ref.ts, ref.channel, exc.response.get("error")
            )
            if exc.response.get("error") in {"message_not_found", "channel_not_found", "is_archived"}:
                done.append(ref.id)  # nothing left in Slack to redact
            continue
        except (SlackRequestError, OSError) as exc:
            log.warning("could not reach Slack to redact message %s in %s: %s", ref.ts, ref.channel, exc)
            continue
        done.append(ref.id)
    mark_redacted(engine=engine, team_id=team_id, ids=done)
    return len(done), len(refs) - len(done)
