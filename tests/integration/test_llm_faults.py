"""Model faults over real HTTP: the stand-in server scripts 429/500/garbage/truncation/slowness.

The whole real stack runs (ChatOpenAI, the openai SDK, httpx) against ``fault_llm_server``; only
the answers are scripted. Each test asserts what was retried, what was sent and how it ended.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Annotated, Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from bot.llm.client import LlmClient, LlmUnavailable
from bot.llm.factory import build_llm
from tests.support.llm import llm_settings
from tests.support.llm.fault_server import (
    FaultLlmServer,
    cut_off,
    empty_structured,
    garbage,
    ok_json,
    ok_text,
    rate_limited,
    refused,
    server_error,
    slow,
    truncated_body,
    truncated_json,
)

MESSAGES = [SystemMessage("You list buying triggers."), HumanMessage("What makes a fintech buy?")]
GOOD = {"triggers": ["new CFO", "audit finding"], "urgency": 3}


class Triggers(BaseModel):
    triggers: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=4)]
    urgency: Annotated[int, Field(ge=1, le=5)]


def client_at(server: FaultLlmServer, **overrides: Any) -> LlmClient:
    client = build_llm(llm_settings(server.base_url, **overrides))
    assert client is not None
    client.retry = dataclasses.replace(client.retry, backoff_seconds=0.05, max_backoff_seconds=0.2)
    return client


def test_a_good_structured_answer_and_what_was_sent(fault_llm_server: FaultLlmServer) -> None:
    fault_llm_server.script(ok_json(GOOD))
    result = client_at(fault_llm_server).structured(Triggers, MESSAGES, max_output_tokens=400)
    assert result == Triggers.model_validate(GOOD)
    [request] = fault_llm_server.chat_requests
    body = request.body or {}
    assert [m["role"] for m in request.messages] == ["system", "user"]
    assert request.messages[1]["content"] == "What makes a fintech buy?"
    assert body["temperature"] == 0
    assert body["max_completion_tokens"] == 400
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["properties"]["urgency"]["maximum"] == 5


def test_429_honours_retry_after_then_succeeds(fault_llm_server: FaultLlmServer) -> None:
    fault_llm_server.script(rate_limited(retry_after=1), ok_json(GOOD))
    client = client_at(fault_llm_server)
    assert client.structured(Triggers, MESSAGES, max_output_tokens=400).urgency == 3
    assert len(fault_llm_server.chat_requests) == 2
    assert client.usage.calls[0].attempts == 2


def test_a_retry_after_past_the_deadline_fails_at_once(fault_llm_server: FaultLlmServer) -> None:
    fault_llm_server.script(rate_limited(retry_after=600))
    with pytest.raises(LlmUnavailable, match=r"429.*would pass the deadline"):
        client_at(fault_llm_server).text(MESSAGES, max_output_tokens=50)
    assert len(fault_llm_server.chat_requests) == 1


def test_500_every_time_ends_unavailable_after_bounded_retries(fault_llm_server: FaultLlmServer) -> None:
    fault_llm_server.script(*[server_error(500)] * 10)
    client = client_at(fault_llm_server, llm_max_retries=3)
    with pytest.raises(LlmUnavailable, match=r"HTTP 500") as caught:
        client.structured(Triggers, MESSAGES, max_output_tokens=400)
    assert caught.value.attempts == 4
    assert len(fault_llm_server.chat_requests) == 4


@pytest.mark.parametrize(
    "fault",
    [
        garbage(),
        truncated_body(GOOD),
        truncated_json(GOOD),
        cut_off(GOOD),
        empty_structured(),
        server_error(502),
    ],
    ids=lambda reply: reply.label,
)
def test_each_fault_is_retried_then_the_good_answer_returned(
    fault_llm_server: FaultLlmServer, fault: Any
) -> None:
    fault_llm_server.script(fault, ok_json(GOOD))
    client = client_at(fault_llm_server)
    assert client.structured(Triggers, MESSAGES, max_output_tokens=400) == Triggers.model_validate(GOOD)
    assert len(fault_llm_server.chat_requests) == 2


@pytest.mark.parametrize(
    "fault",
    [garbage(), truncated_json(GOOD), empty_structured(), ok_json({"triggers": ["x"] * 9, "urgency": 7})],
    ids=["garbage", "truncated_json", "empty", "out_of_schema"],
)
def test_faults_that_persist_end_unavailable(fault_llm_server: FaultLlmServer, fault: Any) -> None:
    fault_llm_server.script(*[fault] * 5)
    client = client_at(fault_llm_server, llm_max_retries=2)
    with pytest.raises(LlmUnavailable) as caught:
        client.structured(Triggers, MESSAGES, max_output_tokens=400)
    assert caught.value.attempts == 3
    assert "no usable answer" in caught.value.reason


@pytest.mark.parametrize("fault", [truncated_json(GOOD), cut_off(GOOD)], ids=["truncated_json", "cut_off"])
def test_cut_off_answers_end_unavailable_saying_so(fault_llm_server: FaultLlmServer, fault: Any) -> None:
    fault_llm_server.script(*[fault] * 3)
    client = client_at(fault_llm_server, llm_max_retries=2)
    with pytest.raises(LlmUnavailable, match="cut off") as caught:
        client.structured(Triggers, MESSAGES, max_output_tokens=400)
    assert caught.value.attempts == 3


@pytest.mark.parametrize("before", ["", "Here it is:\n```json\n"], ids=["bare", "fenced"])
def test_json_missing_only_its_last_brace_is_retried_not_completed(
    fault_llm_server: FaultLlmServer, before: str
) -> None:
    """Closing the brace would give a valid answer, but the cut may have lost a field: ask again."""
    second = {"triggers": ["board mandate"], "urgency": 5}
    fault_llm_server.script(ok_text(before + json.dumps(GOOD)[:-1]), ok_json(second))
    client = client_at(fault_llm_server)
    assert client.structured(Triggers, MESSAGES, max_output_tokens=400) == Triggers.model_validate(second)
    assert len(fault_llm_server.chat_requests) == 2


def test_a_slow_answer_times_out_and_is_retried(fault_llm_server: FaultLlmServer) -> None:
    fault_llm_server.script(slow(30, then=ok_json(GOOD)), ok_json(GOOD))
    client = client_at(fault_llm_server, llm_timeout_seconds=1)
    assert client.structured(Triggers, MESSAGES, max_output_tokens=400).urgency == 3
    assert len(fault_llm_server.chat_requests) == 2


def test_a_server_that_never_answers_ends_within_the_deadline(fault_llm_server: FaultLlmServer) -> None:
    fault_llm_server.script(*[slow(30)] * 10)
    client = client_at(fault_llm_server, llm_timeout_seconds=1, llm_deadline_seconds=2.5, llm_max_retries=9)
    with pytest.raises(LlmUnavailable, match=r"timed out|no answer within") as caught:
        client.text(MESSAGES, max_output_tokens=50)
    assert caught.value.attempts <= 3
    assert not client.usage.calls[0].ok


def test_a_refusal_is_final_and_the_key_stays_secret(
    fault_llm_server: FaultLlmServer, caplog: pytest.LogCaptureFixture
) -> None:
    key = "sk-proj-verysecretvalue123"
    fault_llm_server.script(refused(401, f"Incorrect API key provided: {key}"))
    client = client_at(fault_llm_server, openai_api_key=key)
    with caplog.at_level(logging.DEBUG), pytest.raises(LlmUnavailable, match="HTTP 401") as caught:
        client.text(MESSAGES, max_output_tokens=50)
    assert len(fault_llm_server.chat_requests) == 1
    assert fault_llm_server.chat_requests[0].authorized
    assert "verysecretvalue" not in str(caught.value)
    assert "verysecretvalue" not in caplog.text


def test_text_answers_come_back(fault_llm_server: FaultLlmServer) -> None:
    fault_llm_server.script(ok_text("Fintechs buy after an audit."))
    client = client_at(fault_llm_server)
    assert client.text(MESSAGES, max_output_tokens=50) == "Fintechs buy after an audit."
    assert "response_format" not in (fault_llm_server.chat_requests[0].body or {})


def test_json_wrapped_in_fences_is_salvaged_without_a_retry(fault_llm_server: FaultLlmServer) -> None:
    """Servers that ignore response_format answer in Markdown; the object inside still counts."""
    fault_llm_server.script(ok_text(f"Here it is:\n```json\n{json.dumps(GOOD)}\n```"))
    client = client_at(fault_llm_server)
    assert client.structured(Triggers, MESSAGES, max_output_tokens=400) == Triggers.model_validate(GOOD)
    assert len(fault_llm_server.chat_requests) == 1
