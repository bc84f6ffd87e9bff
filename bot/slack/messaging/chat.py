"""Answer a chat question in Slack: shared by DMs and @-mentions, so both read the same.

Runs on the app's work pool after the ack. A data question answered with a language model can
take seconds, so a short "looking…" message is posted first and replaced by the answer; anything
else is posted straight away. Any failure is answered with an apology, never a trace.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.services.chat.answer import answer_question
from bot.services.chat.intent import DataQuestion, classify
from bot.slack.failures import submit_safely, with_reference
from bot.slack.views.chat import SORRY_TEXT, THINKING_TEXT, chat_message

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.llm.client import LlmClient
    from bot.slack.context import AppContext

log = logging.getLogger(__name__)


def _llm_of(ctx: AppContext) -> LlmClient | None:
    try:
        return ctx.llm
    except Exception:  # a model client that cannot be built leaves the offline answer
        log.exception("the language model client could not be built; answering offline")
        return None


@dataclass
class _Thread:
    """Where the answer goes; remembers the "looking…" placeholder that the answer replaces."""

    client: WebClient
    channel: str
    thread_ts: str | None
    placeholder: str | None = None

    def hold(self) -> None:
        posted = self.client.chat_postMessage(
            channel=self.channel, text=THINKING_TEXT, thread_ts=self.thread_ts
        )
        self.placeholder = str(posted.get("ts") or "") or None

    def say(self, text: str, blocks: list[Any]) -> None:
        if self.placeholder:
            self.client.chat_update(channel=self.channel, ts=self.placeholder, text=text, blocks=blocks)
        else:
            self.client.chat_postMessage(
                channel=self.channel, text=text, blocks=blocks, thread_ts=self.thread_ts
            )

    def apologise(self, reference: str) -> None:
        self.say(with_reference(SORRY_TEXT, reference), [])


def answer_in_slack(*, ctx: AppContext, thread: _Thread, team_id: str, text: str) -> None:
    """Answer ``text`` in the thread (the slow path first posts a placeholder)."""
    llm = _llm_of(ctx)
    if llm is not None and isinstance(classify(text), DataQuestion):  # the slow path
        thread.hold()
    reply = answer_question(
        engine=ctx.engine, knowledge=lambda: ctx.knowledge, llm=llm, team_id=team_id, text=text
    )
    fallback, blocks = chat_message(reply)
    thread.say(fallback, blocks)


def submit_answer(
    *, ctx: AppContext, client: WebClient, team_id: str, channel: str, thread_ts: str | None, text: str
) -> None:
    """Answer ``text`` in ``channel`` (in the thread ``thread_ts`` when given) on the app's work
    pool, so the listener returns (and Slack gets its ack) at once."""
    thread = _Thread(client, channel, thread_ts)
    submit_safely(
        ctx.work,
        partial(answer_in_slack, ctx=ctx, thread=thread, team_id=team_id, text=text),
        what=f"chat answer for team {team_id}",
        apologise=thread.apologise,
    )
