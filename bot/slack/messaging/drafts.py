"""Post, update and announce draft ICP messages in Slack (shared by `/icp draft` and the buttons).

A draft is posted where `/icp draft` was typed so reviewers see it; if the bot cannot post there
(not a member, a DM between people) it goes to the owner's DM with the bot instead, with a note.
App Home is republished for the person acting, so their home tab shows the new state at once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.services.icp.drafting import DraftOutcome
from bot.services.icp.review import ReviewFacts
from bot.services.privacy.posted import record_posted
from bot.slack.messaging.dm import dm_channel
from bot.slack.messaging.home import publish_home
from bot.slack.messaging.share import post_or_reply_privately
from bot.slack.views.draft import draft_blocks, draft_text

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.knowledge.store import KnowledgeStore
    from bot.slack.context import AppContext
    from bot.store.db import Engine

log = logging.getLogger(__name__)


def knowledge_or_none(ctx: AppContext) -> KnowledgeStore | None:
    """The vector store, or None when it cannot be opened (the SQL work goes on; reindex repairs)."""
    try:
        return ctx.knowledge
    except Exception:  # the SQL work goes on without its search copy; `icp reindex` repairs it
        log.exception("the knowledge store could not be opened")
        return None


def post_draft(
    client: WebClient,
    outcome: DraftOutcome,
    facts: ReviewFacts,
    *,
    channel: str,
    user_id: str,
    thread_ts: str | None = None,
    engine: Engine | None = None,
) -> tuple[str, str]:
    """Post the draft message; returns (channel, ts) of where it landed.

    With ``engine``, the message is recorded against every interviewee it quotes, so that
    forgetting one of them redacts it (``bot/slack/messaging/redact.py``).
    """
    where_ts = _post_draft(client, outcome, facts, channel=channel, user_id=user_id, thread_ts=thread_ts)
    if engine is not None:
        record_posted(
            engine=engine,
            team_id=outcome.workspace,
            channel=where_ts[0],
            ts=where_ts[1],
            kind="draft",
            people=quoted_people(outcome),
            version_id=outcome.version_id,
        )
    return where_ts


def quoted_people(outcome: DraftOutcome) -> set[str]:
    """Slack ids of the interviewees the draft cites ("U012AB (sales)" sources)."""
    return {
        c.source.split(" ", 1)[0]
        for c in outcome.citations.values()
        if c.kind == "answer" and c.source.split(" ", 1)[0].isalnum()
    }


def _post_draft(
    client: WebClient,
    outcome: DraftOutcome,
    facts: ReviewFacts,
    *,
    channel: str,
    user_id: str,
    thread_ts: str | None = None,
) -> tuple[str, str]:
    text, blocks = draft_text(outcome, facts), draft_blocks(outcome, facts)

    def post(where: str, text: str, thread_ts: str | None = None) -> tuple[str, str]:
        posted = client.chat_postMessage(channel=where, text=text, blocks=blocks, thread_ts=thread_ts)
        return str(posted.get("channel") or where), str(posted.get("ts") or "")

    def to_dm(error: str) -> tuple[str, str]:
        note = f"I couldn't post the draft in that channel ({error}); invite me there to share drafts. Here it is:"
        return post(dm_channel(client, user_id), f"{note}\n{text}")

    if not channel:
        return post(dm_channel(client, user_id), text)
    return post_or_reply_privately(
        lambda: post(channel, text, thread_ts), to_dm, channel=channel, what="the draft"
    )


def update_draft(
    client: WebClient, outcome: DraftOutcome, facts: ReviewFacts, *, channel: str, ts: str
) -> None:
    """Re-render the draft message in place (after an approval, a request, an edit)."""
    if not channel or not ts:
        return
    try:
        client.chat_update(
            channel=channel, ts=ts, text=draft_text(outcome, facts), blocks=draft_blocks(outcome, facts)
        )
    except SlackApiError as exc:  # the message was deleted, or is in a channel the bot left
        log.info("could not update the draft message %s in %s: %s", ts, channel, exc.response.get("error"))


def tell(client: WebClient, user_id: str, text: str) -> None:
    """A DM to ``user_id``; failures are logged (a notice must not undo the work it reports)."""
    if not user_id or not user_id.isalnum() or user_id == "system":
        return
    try:
        client.chat_postMessage(channel=dm_channel(client, user_id), text=text)
    except SlackApiError as exc:
        log.info("could not DM %s: %s", user_id, exc.response.get("error"))


def refresh_home(ctx: AppContext, client: WebClient, *, team_id: str, user_id: str) -> None:
    """Republish ``user_id``'s App Home; best effort."""
    try:
        publish_home(ctx=ctx, client=client, team_id=team_id, user_id=user_id)
    except Exception:  # the change it shows is done; a stale home tab must not make it look failed
        log.exception("could not refresh the App Home of %s", user_id)
