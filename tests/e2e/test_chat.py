"""Chat end to end: questions in a DM and by @-mention, over signed HTTP, answered in Slack.

The world is real: CRM data imported with the CLI's rules into SQLite, the engine's statistics
and interview answers in embedded Chroma, an approved ICP. The model is ``QueueChatModel`` behind
the real ``LlmClient``, given to the app through ``build_app(llm_factory=...)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.llm.client import LlmClient, RetryPolicy
from bot.llm.fake import QueueChatModel
from bot.services.chat.evidence import gather
from bot.services.chat.intent import data_question
from bot.services.scoring.service import ScoreOutcome, score_query
from bot.store.db import session_scope
from bot.store.models import Account
from icp_engine.sample import generate, write_csv
from tests.support.chat_world import seed
from tests.support.harness import BOT_USER_ID, MEMBER_ID, TEAM_ID, RecordedCall, SlackEnv

MEMBER_DM = f"D{MEMBER_ID[1:]}"
CHANNEL = "C0GENERAL"


@pytest.fixture(scope="module")
def crm_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_csv(generate(seed=11, n_accounts=400), tmp_path_factory.mktemp("chat-crm"))


def fake_llm(*responses: Any) -> tuple[Callable[[], LlmClient], QueueChatModel]:
    model = QueueChatModel(responses=list(responses))
    client = LlmClient(model, retry=RetryPolicy(max_retries=0), sleep=lambda _: None)
    return (lambda: client), model


def posts(env: SlackEnv, channel: str) -> list[RecordedCall]:
    return [c for c in env.stand_in.calls_to("chat.postMessage") if c.params.get("channel") == channel]


def mention(env: SlackEnv, text: str, *, ts: str, **kwargs: Any) -> None:
    result = env.driver.event(
        {
            "type": "app_mention",
            "user": MEMBER_ID,
            "text": f"<@{BOT_USER_ID}> {text}",
            "ts": ts,
            "channel": CHANNEL,
            "event_ts": ts,
            "team": TEAM_ID,
        },
        **kwargs,
    )
    assert result.status == 200


def test_dm_question_offline_shows_engine_figures_and_evidence(
    slack_env: SlackEnv, crm_files: dict[str, Path]
) -> None:
    seed(slack_env, crm_files)
    assert slack_env.driver.message_im("which industries win most?").status == 200
    (reply,) = slack_env.stand_in.wait_for("chat.postMessage", lambda c: c.params.get("channel") == MEMBER_DM)
    shown = reply.all_text()
    assert "Answered without a language model" in shown
    stats = slack_env.knowledge().search(workspace=TEAM_ID, query="industry", k=50, kinds=["statistic"])
    industry = [h for h in stats if h.metadata.get("attribute") == "industry"]
    assert industry, "the sample has a significant industry segment"
    for hit in industry:
        assert f"win rate {float(hit.metadata['win_rate']) * 100:.0f}%" in shown
        assert f"`stat:{hit.source_id}`" in shown
    assert reply.params.get("thread_ts") in (None, "")


def test_mention_with_a_model_cites_only_retrieved_evidence_in_the_thread(
    make_slack_env: Callable[..., SlackEnv], crm_files: dict[str, Path]
) -> None:
    question = "what do CS people say about churn?"
    holder: list[Callable[[], LlmClient]] = []
    env = make_slack_env(llm_factory=lambda: holder[0]())
    seed(env, crm_files)
    found = gather(
        engine=env.engine, knowledge=env.knowledge(), team_id=TEAM_ID, question=data_question(question)
    )
    assert "ans:2" in found.ids
    factory, model = fake_llm(
        {
            "answer": "CS says onboarding delays cause churn [ans:2] [ans:424242].",
            "cited": ["ans:2", "ans:424242"],
        }
    )
    holder.append(factory)
    ts = f"{time.time():.6f}"
    mention(env, question, ts=ts)
    (update,) = env.stand_in.wait_for("chat.update", timeout=20)
    (placeholder,) = posts(env, CHANNEL)
    assert placeholder.params.get("thread_ts") == ts and update.params.get("ts")
    shown = update.all_text()
    assert "onboarding delays cause churn [ans:2]" in shown and "424242" not in shown
    assert "`ans:2`" in shown and "customer success" in shown
    (messages,) = model.calls
    prompt = str(messages[-1].content)
    assert f"<question>\n{question}\n</question>" in prompt and "[ans:2]" in prompt
    assert f"<@{BOT_USER_ID}>" not in prompt


def test_score_question_is_answered_by_the_engine_not_the_model(
    make_slack_env: Callable[..., SlackEnv], crm_files: dict[str, Path]
) -> None:
    factory, model = fake_llm()  # any model call would fail the test: nothing is queued
    env = make_slack_env(llm_factory=factory)
    seed(env, crm_files)
    with session_scope(env.engine) as session:
        domain = session.exec(select(Account.domain).where(col(Account.domain).is_not(None))).first()
    assert domain
    expected = score_query(env.engine, team_id=TEAM_ID, query=domain)
    assert isinstance(expected, ScoreOutcome)
    env.driver.message_im(f"why is {domain} tier B?")
    (reply,) = env.stand_in.wait_for("chat.postMessage", lambda c: c.params.get("channel") == MEMBER_DM)
    shown = reply.all_text()
    assert f"{expected.result.score:g}/100" in shown and f"Tier {expected.result.tier}" in shown
    assert "scoring engine" in shown
    assert model.calls == []


def test_bots_and_redeliveries_get_no_second_answer(slack_env: SlackEnv, crm_files: dict[str, Path]) -> None:
    seed(slack_env, crm_files)
    driver = slack_env.driver
    driver.message_im("which industries win most?", extra={"bot_id": "B0OTHER"})
    driver.message_im("what do sales say?", event_id="EvCHAT1")
    driver.message_im("what do sales say?", event_id="EvCHAT1", retry_num=1)
    slack_env.stand_in.wait_for("chat.postMessage", lambda c: c.params.get("channel") == MEMBER_DM)
    time.sleep(0.5)  # give a wrongly handled duplicate the time to show up
    assert len(posts(slack_env, MEMBER_DM)) == 1


def test_thanks_gets_how_to_ask(slack_env: SlackEnv) -> None:
    slack_env.driver.message_im("thanks!")
    (reply,) = slack_env.stand_in.wait_for("chat.postMessage", lambda c: c.params.get("channel") == MEMBER_DM)
    assert "Ask me about your ICP" in reply.text


def test_mention_offline_answers_in_the_thread(slack_env: SlackEnv, crm_files: dict[str, Path]) -> None:
    seed(slack_env, crm_files)
    ts, thread = f"{time.time():.6f}", "1700000000.000100"
    result = slack_env.driver.event(
        {
            "type": "app_mention",
            "user": MEMBER_ID,
            "text": f"<@{BOT_USER_ID}> what is our ICP?",
            "ts": ts,
            "thread_ts": thread,
            "channel": CHANNEL,
            "event_ts": ts,
            "team": TEAM_ID,
        }
    )
    assert result.status == 200
    (reply,) = slack_env.stand_in.wait_for("chat.postMessage", lambda c: c.params.get("channel") == CHANNEL)
    assert reply.params.get("thread_ts") == thread
    shown = reply.all_text()
    assert "Answered without a language model" in shown
    assert "ICP v1 (approved)" in shown and "industry in software, fintech (+40 points)" in shown


def test_dm_with_a_failing_model_replaces_the_placeholder_with_the_evidence(
    make_slack_env: Callable[..., SlackEnv], crm_files: dict[str, Path]
) -> None:
    factory, model = fake_llm(TimeoutError("slow"), TimeoutError("slow"))
    env = make_slack_env(llm_factory=factory)
    seed(env, crm_files)
    env.driver.message_im("why do customers churn?")
    (update,) = env.stand_in.wait_for("chat.update", timeout=20)
    (placeholder,) = posts(env, MEMBER_DM)
    assert "Looking through" in placeholder.text and update.params.get("channel") == MEMBER_DM
    shown = update.all_text()
    assert "Answered without a language model" in shown and "did not answer" in shown
    # A member (not an ICP owner) gets role citations, never the verbatim quote, even in a DM.
    assert "onboarding drags on" not in shown and "a customer success stakeholder" in shown
    assert len(model.calls) == 1
