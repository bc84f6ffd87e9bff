"""Answer a chat question in Slack: shared by DMs and @-mentions, so both read the same.

Runs on the chat pool after the ack (its own threads, bounded, with a rate limit per person).
A data question answered with a language model can take seconds, so a short "looking…" message is posted first and replaced by the answer; anything
else is posted straight away. Any failure is answered with an apology, never a trace.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.services.chat.answer import answer_question
from bot.services.chat.audience import Audience
from bot.services.chat.intent import DataQuestion, classify
from bot.services.privacy.posted import record_posted
from bot.slack.failures import submit_safely, with_reference
from bot.slack.messaging.score_usage import count_score
from bot.slack.people import owner_rules
from bot.slack.views.chat import SORRY_TEXT, THINKING_TEXT, chat_message
from bot.slack.work_pools import busy_text

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

    def say(self, text: str, blocks: list[Any]) -> str | None:
        """Post (or fill the placeholder with) the answer; the message's ts."""
        if self.placeholder:
            self.client.chat_update(channel=self.channel, ts=self.placeholder, text=text, blocks=blocks)
            return self.placeholder
        posted = self.client.chat_postMessage(
            channel=self.channel, text=text, blocks=blocks, thread_ts=self.thread_ts
        )
        return str(posted.get("ts") or "") or None

    def apologise(self, reference: str) -> None:
        self.say(with_reference(SORRY_TEXT, reference), [])


def audience_of(ctx: AppContext, client: WebClient, *, team_id: str, private: bool, user_id: str) -> Audience:
    """Whether the answer goes to a DM with the bot, and whether the asker is an ICP owner."""
    owner = bool(user_id) and owner_rules(ctx, client).is_owner(team_id=team_id, user_id=user_id)
    return Audience(private=private, owner=owner)


def answer_in_slack(
    *, ctx: AppContext, thread: _Thread, team_id: str, text: str, user_id: str = "", private: bool = False
) -> None:
    """Answer ``text`` in the thread (the slow path first posts a placeholder), cited as the
    asker and the place may read it; a message drawing on interviews is recorded for erasure."""
    llm = _llm_of(ctx)
    if llm is not None and isinstance(classify(text), DataQuestion):  # the slow path
        thread.hold()
    audience = audience_of(ctx, thread.client, team_id=team_id, private=private, user_id=user_id)
    reply = answer_question(
        engine=ctx.engine,
        knowledge=lambda: ctx.knowledge,
        llm=llm,
        team_id=team_id,
        text=text,
        audience=audience,
    )
    if reply.score is not None:
        count_score(ctx, team_id=team_id, user_id=user_id, outcome=reply.score)
    fallback, blocks = chat_message(reply)
    ts = thread.say(fallback, blocks)
    if ts and reply.people:
        record_posted(
            engine=ctx.engine,
            team_id=team_id,
            channel=thread.channel,
            ts=ts,
            kind="chat",
            people=reply.people,
        )


def submit_answer(
    *,
    ctx: AppContext,
    client: WebClient,
    team_id: str,
    channel: str,
    thread_ts: str | None,
    text: str,
    user_id: str = "",
    private: bool = False,
) -> None:
    """Answer ``text`` in ``channel`` (in the thread ``thread_ts`` when given) on the chat pool,
    so the listener returns (and Slack gets its ack) at once. A person over their chat rate
    limit, or a full pool, gets the busy reply where the answer would have gone."""
    thread = _Thread(client, channel, thread_ts)
    wait = ctx.chat.admit(team_id, user_id)
    if wait is not None:
        log.info("chat question refused: the person's chat rate limit is reached (retry in %s s)", wait)
        thread.say(busy_text(wait), [])
        return
    submit_safely(
        ctx.chat.executor,
        partial(
            answer_in_slack,
            ctx=ctx,
            thread=thread,
            team_id=team_id,
            text=text,
            user_id=user_id,
            private=private,
        ),
        what=f"chat answer for team {team_id}",
        apologise=thread.apologise,
        busy=lambda: _refused_by_full_pool(ctx, thread, team_id, user_id),
    )


def _refused_by_full_pool(ctx: AppContext, thread: _Thread, team_id: str, user_id: str) -> None:
    ctx.chat.limiter.give_back(team_id, user_id)  # the question never ran: its token is not spent
    thread.say(busy_text(ctx.chat.full_retry_after()), [])
