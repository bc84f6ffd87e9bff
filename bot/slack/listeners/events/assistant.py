"""Chat in the assistant side panel (Slack's "Agents & AI Apps"), through Bolt's ``Assistant``.

* ``assistant_thread_started``: a greeting in the new thread and suggested prompts.
* ``assistant_thread_context_changed``: acknowledged; answers are about the workspace, not about
  the channel the person is looking at, so the context is not kept (and no history is read).
* A question in an assistant thread: the thread's status says "is thinking…" and its title
  becomes the question, then the answer comes exactly as in a plain DM (``submit_answer``: the
  chat pool, the per-person rate limit, the owner rules, escaped text; a slow answer first
  holds a placeholder that is updated in place with the answer; posting clears the status).

``Assistant`` is a middleware: it runs before every listener and passes on what its listeners do
not match. Its user-message matcher takes only what ``messages/open_question.py`` would take (a
person's plain DM with a question) and leaves interview answers, review check-in replies and file
shares to their own listeners. Where the app has no assistant feature, DMs carry no thread (or a thread Slack refuses
a status for): the former never reach this module, the latter still get their answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, Assistant, Say, SetStatus, SetSuggestedPrompts, SetTitle
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services.chat.intent import clean_question
from bot.slack.context import AppContext
from bot.slack.listeners.messages.checkin import answers_checkin
from bot.slack.listeners.messages.interview import in_interview, is_plain_dm
from bot.slack.messaging.chat import submit_answer
from bot.slack.payload import team_id_of
from bot.slack.views.assistant import (
    GREETING,
    PROMPTS_TITLE,
    SUGGESTED_PROMPTS,
    THINKING_STATUS,
    thread_title,
)

log = logging.getLogger(__name__)


def _thread_effect(what: str, call: Callable[[], Any]) -> None:
    """A status or title: nice to have, so a refusal (a DM thread of an app without the
    assistant feature, an older workspace) is logged and the answer still goes out."""
    try:
        call()
    except SlackApiError as exc:
        log.info("assistant thread %s refused: %s", what, exc.response.get("error"))


def register(app: App, ctx: AppContext) -> None:
    assistant = Assistant()

    @assistant.thread_started
    def on_thread_started(say: Say, set_suggested_prompts: SetSuggestedPrompts) -> None:
        say(text=GREETING)
        set_suggested_prompts(prompts=[dict(p) for p in SUGGESTED_PROMPTS], title=PROMPTS_TITLE)

    @assistant.thread_context_changed
    def on_context_changed() -> None:
        """Nothing to keep: answers do not depend on the channel being viewed."""

    def is_question(body: dict[str, Any], event: dict[str, Any]) -> bool:
        return (
            is_plain_dm(event)
            and bool(clean_question(event["text"]))
            and not in_interview(ctx.engine, body, event)
            and not answers_checkin(ctx.engine, body, event)
        )

    def on_question(
        body: dict[str, Any],
        event: dict[str, Any],
        client: WebClient,
        set_status: SetStatus,
        set_title: SetTitle,
    ) -> None:
        team_id = team_id_of(body)
        channel = str(event.get("channel") or "")
        thread_ts = str(event.get("thread_ts") or "")
        if not team_id or not channel or not thread_ts:
            return
        _thread_effect("title", lambda: set_title(thread_title(event["text"])))
        _thread_effect("status", lambda: set_status(THINKING_STATUS))
        submit_answer(
            ctx=ctx,
            client=client,
            team_id=team_id,
            channel=channel,
            thread_ts=thread_ts,
            text=event["text"],
            user_id=str(event["user"]),
            private=True,  # a DM with the bot
        )

    # Bolt annotates ``matchers`` as one callable but concatenates it to a list: a list it is.
    assistant.user_message(on_question, matchers=[is_question])  # type: ignore[arg-type]
    app.assistant(assistant)
