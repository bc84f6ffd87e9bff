"""The assistant side panel end to end: threads started, questions answered, the DM fallback.

Signed Events API requests go to the app over HTTP; the stand-in Slack records every Web API
call (assistant.threads.* included, checked for Slack's required arguments). The world is the
chat world (CRM data, statistics, an approved ICP, interview answers); the model, where one is
needed, is ``QueueChatModel`` behind the real ``LlmClient``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.llm.client import LlmClient, RetryPolicy
from bot.llm.fake import QueueChatModel
from bot.slack.views.assistant import GREETING, SUGGESTED_PROMPTS, THINKING_STATUS
from icp_engine.sample import generate, write_csv
from tests.support.chat_world import seed
from tests.support.harness import ADMIN_ID, MEMBER_ID, TEAM_ID, RecordedCall, SlackEnv

MEMBER_DM = f"D{MEMBER_ID[1:]}"
THREAD = "1733000000.000100"
ASSISTANT_METHODS = (
    "assistant.threads.setStatus",
    "assistant.threads.setTitle",
    "assistant.threads.setSuggestedPrompts",
)


@pytest.fixture(scope="module")
def crm_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_csv(generate(seed=11, n_accounts=300), tmp_path_factory.mktemp("assistant-crm"))


def thread_started(env: SlackEnv, *, user: str = MEMBER_ID, thread_ts: str = THREAD) -> None:
    channel = f"D{user[1:]}"
    result = env.driver.event(
        {
            "type": "assistant_thread_started",
            "assistant_thread": {
                "user_id": user,
                "context": {"channel_id": "C0GENERAL", "team_id": TEAM_ID, "enterprise_id": None},
                "channel_id": channel,
                "thread_ts": thread_ts,
            },
            "event_ts": f"{time.time():.6f}",
        }
    )
    assert result.status == 200


def ask(env: SlackEnv, text: str, *, user: str = MEMBER_ID, thread_ts: str = THREAD) -> None:
    assert env.driver.message_im(text, user=user, thread_ts=thread_ts).status == 200


def calls(env: SlackEnv) -> list[RecordedCall]:
    with env.stand_in._lock:  # a snapshot, in the order the app made them
        return list(env.stand_in.calls)


def test_a_new_thread_gets_a_greeting_and_suggested_prompts(slack_env: SlackEnv) -> None:
    thread_started(slack_env)
    (prompts,) = slack_env.stand_in.wait_for("assistant.threads.setSuggestedPrompts")
    assert prompts.params["channel_id"] == MEMBER_DM and prompts.params["thread_ts"] == THREAD
    assert [p["message"] for p in prompts.params["prompts"]] == [p["message"] for p in SUGGESTED_PROMPTS]
    assert prompts.response == {"ok": True}
    (greeting,) = slack_env.stand_in.wait_for("chat.postMessage")
    assert greeting.params["channel"] == MEMBER_DM and greeting.params["thread_ts"] == THREAD
    assert greeting.text == GREETING


def test_a_question_shows_the_status_then_the_answer_in_the_thread(
    make_slack_env: Callable[..., SlackEnv], crm_files: dict[str, Path]
) -> None:
    model = QueueChatModel(
        responses=[{"answer": "CS says onboarding delays cause churn [ans:2].", "cited": ["ans:2"]}]
    )
    client = LlmClient(model, retry=RetryPolicy(max_retries=0), sleep=lambda _: None)
    env = make_slack_env(llm_factory=lambda: client)
    seed(env, crm_files)
    question = "what do CS people say about churn?"
    ask(env, question, user=ADMIN_ID, thread_ts=THREAD)
    (update,) = env.stand_in.wait_for("chat.update", timeout=20)
    admin_dm = f"D{ADMIN_ID[1:]}"
    assert update.params["channel"] == admin_dm
    assert "onboarding delays cause churn [ans:2]" in update.all_text()
    seen = calls(env)
    methods = [c.method for c in seen]
    status_at = methods.index("assistant.threads.setStatus")
    placeholder_at = methods.index("chat.postMessage")
    assert status_at < placeholder_at < methods.index("chat.update")
    status = seen[status_at]
    assert (status.params["channel_id"], status.params["thread_ts"], status.params["status"]) == (
        admin_dm,
        THREAD,
        THINKING_STATUS,
    )
    assert status.response == {"ok": True}
    placeholder = seen[placeholder_at]
    assert placeholder.params["thread_ts"] == THREAD and update.params["ts"] == placeholder.response["ts"]  # type: ignore[index]
    (title,) = env.stand_in.calls_to("assistant.threads.setTitle")
    assert title.params["title"] == question and title.params["thread_ts"] == THREAD
    assert len(model.calls) == 1


def test_quoted_text_is_escaped_in_the_title_and_the_answer(
    slack_env: SlackEnv, crm_files: dict[str, Path]
) -> None:
    seed(slack_env, crm_files)
    # The company named is not an account: the note quoting it comes back escaped, link and all.
    ask(slack_env, "why is <https://evil.example|Acme> & <#C0GEN> Co tier B?")
    (reply,) = slack_env.stand_in.wait_for("chat.postMessage", lambda c: c.params.get("thread_ts") == THREAD)
    shown = reply.all_text()
    assert "&lt;https://evil.example|Acme&gt; &amp; &lt;#C0GEN&gt; Co" in shown
    assert "<https://evil.example" not in shown and "<#C0GEN>" not in shown
    (title,) = slack_env.stand_in.calls_to("assistant.threads.setTitle")
    assert "<" not in title.params["title"] and "&lt;#C0GEN&gt;" in title.params["title"]


def test_a_plain_dm_without_a_thread_is_answered_as_before(
    slack_env: SlackEnv, crm_files: dict[str, Path]
) -> None:
    seed(slack_env, crm_files)
    ask(slack_env, "which industries win most?", thread_ts="")
    (reply,) = slack_env.stand_in.wait_for("chat.postMessage", lambda c: c.params.get("channel") == MEMBER_DM)
    assert "Answered without a language model" in reply.all_text()
    assert reply.params.get("thread_ts") in (None, "")
    assert not [c for c in calls(slack_env) if c.method in ASSISTANT_METHODS]


def test_a_thread_slack_refuses_a_status_for_still_gets_its_answer(slack_env: SlackEnv) -> None:
    """A threaded DM of an app without the assistant feature: no status possible, same answer."""

    def refuse(call: RecordedCall) -> dict[str, Any]:
        return {"ok": False, "error": "not_allowed"}

    for method in ("assistant.threads.setStatus", "assistant.threads.setTitle"):
        slack_env.stand_in.respond_with(method, refuse)
    ask(slack_env, "thanks!")
    (reply,) = slack_env.stand_in.wait_for("chat.postMessage", lambda c: c.params.get("thread_ts") == THREAD)
    assert "Ask me about your ICP" in reply.text
    assert slack_env.stand_in.calls_to("assistant.threads.setStatus")[0].response == {
        "ok": False,
        "error": "not_allowed",
    }
