"""Answer a chat question in Slack: shared by DMs and @-mentions, so both read the same.

Runs on the app's work pool after the ack. A data question answered with a language model can
take seconds, so a short "looking…" message is posted first and replaced by the answer; anything
else is posted straight away. Any failure is answered with an apology, never a trace.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.services.chat.answer import answer_question
from bot.services.chat.intent import DataQuestion, classify
from bot.slack.views.chat import SORRY_TEXT, THINKING_TEXT, chat_message

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.context import AppContext
    from bot.llm.client import LlmClient

log = logging.getLogger(__name__)


def _llm_of(ctx: AppContext) -> LlmClient | None:
    try:
        return ctx.llm
    except Exception:  # a model client that cannot be built leaves the offline answer
        log.exception("the language model client could not be built; answering offline")
        return None


def answer_in_slack(
    *, ctx: AppContext, client: WebClient, team_id: str, channel: str, thread_ts: str | None, text: str
) -> None:
    """Answer ``text`` in ``channel`` (in the thread ``thread_ts`` when given)."""
    llm = _llm_of(ctx)
    placeholder: str | None = None
    try:
        if llm is not None and isinstance(classify(text), DataQuestion):  # the slow path
            posted = client.chat_postMessage(channel=channel, text=THINKING_TEXT, thread_ts=thread_ts)
            placeholder = str(posted.get("ts") or "") or None
        reply = answer_question(
            engine=ctx.engine, knowledge=lambda: ctx.knowledge, llm=llm, team_id=team_id, text=text
        )
        fallback, blocks = chat_message(reply)
        if placeholder:
            client.chat_update(channel=channel, ts=placeholder, text=fallback, blocks=blocks)
        else:
            client.chat_postMessage(channel=channel, text=fallback, blocks=blocks, thread_ts=thread_ts)
    except Exception:
        log.exception("chat answer for team %s failed", team_id)
        _apologise(client, channel, thread_ts, placeholder)


def submit_answer(
    *, ctx: AppContext, client: WebClient, team_id: str, channel: str, thread_ts: str | None, text: str
) -> None:
    """Answer on the app's work pool, so the listener returns (and Slack gets its ack) at once."""
    ctx.work.submit(
        answer_in_slack,
        ctx=ctx,
        client=client,
        team_id=team_id,
        channel=channel,
        thread_ts=thread_ts,
        text=text,
    )


def _apologise(client: WebClient, channel: str, thread_ts: str | None, placeholder: str | None) -> None:
    try:
        if placeholder:
            client.chat_update(channel=channel, ts=placeholder, text=SORRY_TEXT, blocks=[])
        else:
            client.chat_postMessage(channel=channel, text=SORRY_TEXT, thread_ts=thread_ts)
    except Exception:
        log.exception("could not deliver the chat apology in %s", channel)
