"""Per-person rate limits and separate bounded pools, over signed HTTP with a slow model.

One member's burst of chat questions (each a language model call held for seconds by the
stand-in) must not delay anyone's ``/icp score``: the burst beyond the member's bucket, and a
question arriving while the chat pool is full, get the busy reply in place; the score answers
before any of the slow chat answers. A person's own command burst gets the busy reply,
ephemeral, with the wait computed from their bucket.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.store.db import session_scope
from bot.store.models import Account
from icp_engine.sample import generate, write_csv
from tests.support.chat_world import seed
from tests.support.harness import ADMIN_ID, MEMBER_ID, RecordedCall, SlackEnv
from tests.support.llm.fault_server import FaultLlmServer, ok_json, slow

pytestmark = [pytest.mark.security]

BUSY = re.compile(r"^I'm busy with your earlier requests; try again in (\d+) s\.$")
MODEL_HOLDS_S = 6.0  # each chat answer waits this long for the stand-in model
QUESTION = "what do customers say about onboarding?"


@pytest.fixture(scope="module")
def crm_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_csv(generate(seed=11, n_accounts=400), tmp_path_factory.mktemp("busy-crm"))


def dm_of(user: str) -> str:
    return f"D{user[1:]}"


def busy_wait(call: RecordedCall) -> int | None:
    """The N of a busy reply, or None when ``call`` is not one."""
    found = BUSY.match(call.text.strip())
    return int(found.group(1)) if found else None


def test_a_chat_burst_gets_busy_replies_while_another_persons_score_answers_first(
    make_slack_env: Callable[..., SlackEnv], fault_llm_server: FaultLlmServer, crm_files: dict[str, Path]
) -> None:
    fault_llm_server.default = slow(
        MODEL_HOLDS_S, ok_json({"answer": "Customers mention onboarding.", "cited": []})
    )
    env = make_slack_env(
        llm_provider="openai-compatible",
        llm_base_url=fault_llm_server.base_url,
        llm_model="stand-in",
        llm_timeout_seconds=30.0,
        llm_deadline_seconds=60.0,
        llm_max_retries=0,
        chat_threads=1,
        chat_queue=1,
        chat_user_burst=2,
        chat_user_per_minute=1.0,
    )
    seed(env, crm_files)
    with session_scope(env.engine) as session:
        domain = session.exec(select(Account.domain).where(col(Account.domain).is_not(None))).first()
    assert domain
    member_dm = dm_of(MEMBER_ID)

    for _ in range(4):  # two fit the member's bucket (one runs, one queues), two are refused
        assert env.driver.message_im(QUESTION).status == 200
    refused = env.stand_in.wait_for(
        "chat.postMessage",
        lambda c: c.params.get("channel") == member_dm and busy_wait(c) is not None,
        count=2,
    )
    assert all(1 <= (busy_wait(c) or 0) <= 60 for c in refused)  # one token per minute: under a minute

    # Another person's question finds the chat pool full (1 running + 1 queued): busy, at once.
    assert env.driver.message_im(QUESTION, user=ADMIN_ID).status == 200
    (full,) = env.stand_in.wait_for(
        "chat.postMessage", lambda c: c.params.get("channel") == dm_of(ADMIN_ID), timeout=20
    )
    assert busy_wait(full) == 60

    # ... while their /icp score runs on the commands pool and answers.
    score = env.driver.slash_reply(f"score {domain}", user_id=ADMIN_ID, timeout=30)
    assert "/100" in score.all_text() and busy_wait(score) is None

    answers = env.stand_in.wait_for(
        "chat.update", lambda c: c.params.get("channel") == member_dm, count=2, timeout=MODEL_HOLDS_S * 2 + 30
    )
    for answer in answers:
        assert busy_wait(answer) is None and "Sorry" not in answer.text
    calls = env.stand_in.calls
    assert calls.index(score) < calls.index(answers[0]), "the score waited behind a chat answer"
    assert len(fault_llm_server.chat_requests) == 2  # only the admitted questions reached the model
    assert len([c for c in env.stand_in.calls_to("chat.postMessage") if busy_wait(c) is not None]) == 3


def test_a_persons_command_burst_is_refused_privately_with_the_wait(
    make_slack_env: Callable[..., SlackEnv],
) -> None:
    env = make_slack_env(command_user_burst=3, command_user_per_minute=2.0)
    for _ in range(3):
        reply = env.driver.slash_reply("help", user_id=MEMBER_ID)
        assert "/icp show" in reply.all_text()
    refused = env.driver.slash_reply("help", user_id=MEMBER_ID)
    wait = busy_wait(refused)
    assert wait is not None and 1 <= wait <= 30, refused.text  # two tokens a minute
    assert refused.params.get("response_type") == "ephemeral"
    other = env.driver.slash_reply("help", user_id=ADMIN_ID)  # someone else is not slowed
    assert "/icp show" in other.all_text()
