"""Each provider path over real HTTP on 127.0.0.1, built from settings alone (``build_llm``):
ChatOpenAI against the chat-completions stand-in, ChatAnthropic (``LLM_PROVIDER=anthropic``,
``ANTHROPIC_BASE_URL``) against the same server speaking the Anthropic Messages API, and
ChatOllama (``LLM_PROVIDER=ollama``) against it speaking Ollama's streamed ``/api/chat``, with the
same faults: a refusal fails at once with the server's reason, 429 waits for Retry-After, 5xx and
timeouts are retried. The real SDKs and httpx run; only the answers are scripted."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from bot.llm.client import LlmClient, LlmUnavailable
from bot.llm.factory import build_llm
from bot.settings import Settings
from tests.support.llm import anthropic_wire as anthropic
from tests.support.llm import fault_server as openai
from tests.support.llm import ollama_wire as ollama
from tests.support.llm.fault_server import FaultLlmServer, RecordedRequest, Reply, slow

KEY = "sk-ant-stand-in-secret-4242"
MESSAGES = [SystemMessage("You list buying triggers."), HumanMessage("What makes a fintech buy?")]
GOOD = {"triggers": ["new CFO", "audit finding"], "urgency": 3}


class Triggers(BaseModel):
    triggers: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=4)]
    urgency: Annotated[int, Field(ge=1, le=5)]


@dataclass(frozen=True)
class Wire:
    """One provider's settings and its replies on the wire."""

    settings: Callable[[FaultLlmServer], dict[str, Any]]
    requests: Callable[[FaultLlmServer], list[RecordedRequest]]
    ok_json: Callable[[Any], Reply]
    unauthorized: Callable[[str], Reply]
    bad_request: Callable[[str], Reply]
    rate_limited: Callable[[float], Reply]
    server_error: Callable[[int], Reply]


WIRES = {
    "openai-compatible": Wire(
        settings=lambda s: {
            "llm_provider": "openai-compatible",
            "llm_base_url": s.base_url,
            "openai_api_key": KEY,
        },
        requests=lambda s: s.chat_requests,
        ok_json=openai.ok_json,
        unauthorized=lambda text: openai.refused(401, text),
        bad_request=lambda text: openai.refused(400, text),
        rate_limited=openai.rate_limited,
        server_error=openai.server_error,
    ),
    "anthropic": Wire(
        settings=lambda s: {
            "llm_provider": "anthropic",
            "anthropic_api_key": KEY,
            "anthropic_base_url": s.root_url,
        },
        requests=lambda s: s.message_requests,
        ok_json=anthropic.ok_json,
        unauthorized=anthropic.unauthorized,
        bad_request=anthropic.bad_request,
        rate_limited=anthropic.rate_limited,
        server_error=anthropic.server_error,
    ),
    "ollama": Wire(
        settings=lambda s: {"llm_provider": "ollama", "llm_base_url": s.root_url},
        requests=lambda s: [r for r in s.requests if r.path == "/api/chat"],
        ok_json=ollama.ok_json,
        unauthorized=ollama.unauthorized,
        bad_request=ollama.bad_request,
        rate_limited=ollama.rate_limited,
        server_error=ollama.server_error,
    ),
}
wires = pytest.mark.parametrize("wire", list(WIRES.values()), ids=list(WIRES))
#: The Ollama client keeps only the status and text of an error, not its Retry-After header.
with_retry_after = pytest.mark.parametrize(
    "wire", [WIRES["openai-compatible"], WIRES["anthropic"]], ids=["openai-compatible", "anthropic"]
)


def client_for(wire: Wire, server: FaultLlmServer, **overrides: Any) -> LlmClient:
    values: dict[str, Any] = {
        "openai_api_key": None,
        "anthropic_api_key": None,
        "llm_base_url": None,
        "openai_base_url": None,
        "anthropic_base_url": None,
        "llm_model": "claude-test",
        "llm_timeout_seconds": 5.0,
        "llm_deadline_seconds": 20.0,
        "llm_max_retries": 2,
        **wire.settings(server),
        **overrides,
    }
    client = build_llm(Settings(_env_file=None, **values))  # type: ignore[call-arg]
    assert client is not None
    client.retry = dataclasses.replace(client.retry, backoff_seconds=0.05, max_backoff_seconds=0.2)
    return client


def test_anthropic_structured_answer_and_what_was_sent(fault_llm_server: FaultLlmServer) -> None:
    fault_llm_server.script(anthropic.ok_json(GOOD))
    client = client_for(WIRES["anthropic"], fault_llm_server)
    assert client.structured(Triggers, MESSAGES, max_output_tokens=400) == Triggers.model_validate(GOOD)
    [request] = fault_llm_server.message_requests
    body = request.body or {}
    assert request.path == "/v1/messages"
    assert KEY in (request.headers.get("x-api-key") or request.headers.get("authorization", ""))
    assert body["model"] == "claude-test"
    assert body["max_tokens"] == 400  # the call's own output limit, in Anthropic's field
    assert body["temperature"] == 0
    assert "buying triggers" in str(body["system"])
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert body["output_config"]["format"]["type"] == "json_schema"
    assert client.usage.calls[0].attempts == 1


def test_anthropic_text_answer(fault_llm_server: FaultLlmServer) -> None:
    fault_llm_server.script(anthropic.ok_text("Fintechs buy after an audit finding."))
    client = client_for(WIRES["anthropic"], fault_llm_server)
    assert client.text(MESSAGES, max_output_tokens=50) == "Fintechs buy after an audit finding."
    assert client.label == f"anthropic model claude-test at {fault_llm_server.root_url}"


def test_anthropic_answer_cut_off_at_max_tokens_is_retried(fault_llm_server: FaultLlmServer) -> None:
    fault_llm_server.script(anthropic.cut_off(GOOD), anthropic.ok_json(GOOD))
    client = client_for(WIRES["anthropic"], fault_llm_server)
    assert client.structured(Triggers, MESSAGES, max_output_tokens=400) == Triggers.model_validate(GOOD)
    assert len(fault_llm_server.message_requests) == 2


@wires
@pytest.mark.parametrize(
    ("refusal", "said"),
    [("unauthorized", "HTTP 401"), ("bad_request", "HTTP 400")],
)
def test_a_refusal_fails_at_once_with_the_servers_reason(
    fault_llm_server: FaultLlmServer, wire: Wire, refusal: str, said: str
) -> None:
    reply: Reply = getattr(wire, refusal)(f"no good: {KEY} is wrong")
    fault_llm_server.script(reply, wire.ok_json(GOOD))
    client = client_for(wire, fault_llm_server)
    with pytest.raises(LlmUnavailable) as caught:
        client.structured(Triggers, MESSAGES, max_output_tokens=400)
    assert caught.value.attempts == 1 and len(wire.requests(fault_llm_server)) == 1
    assert said in caught.value.reason and "no good" in caught.value.reason
    assert "stand-in-secret" not in caught.value.reason


@wires
def test_429_waits_for_retry_after_then_succeeds(fault_llm_server: FaultLlmServer, wire: Wire) -> None:
    fault_llm_server.script(wire.rate_limited(1), wire.ok_json(GOOD))
    client = client_for(wire, fault_llm_server)
    assert client.structured(Triggers, MESSAGES, max_output_tokens=400).urgency == 3
    assert len(wire.requests(fault_llm_server)) == 2 and client.usage.calls[0].attempts == 2


@with_retry_after
def test_a_retry_after_past_the_deadline_fails_at_once(fault_llm_server: FaultLlmServer, wire: Wire) -> None:
    fault_llm_server.script(wire.rate_limited(600))
    with pytest.raises(LlmUnavailable, match=r"HTTP 429.*would pass the deadline"):
        client_for(wire, fault_llm_server).structured(Triggers, MESSAGES, max_output_tokens=400)
    assert len(wire.requests(fault_llm_server)) == 1


@wires
@pytest.mark.parametrize("status", [500, 503, 529])
def test_server_errors_are_retried(fault_llm_server: FaultLlmServer, wire: Wire, status: int) -> None:
    fault_llm_server.script(wire.server_error(status), wire.ok_json(GOOD))
    client = client_for(wire, fault_llm_server)
    assert client.structured(Triggers, MESSAGES, max_output_tokens=400) == Triggers.model_validate(GOOD)
    assert len(wire.requests(fault_llm_server)) == 2


@wires
def test_a_timeout_is_retried(fault_llm_server: FaultLlmServer, wire: Wire) -> None:
    fault_llm_server.script(slow(3, wire.ok_json({"triggers": [], "urgency": 1})), wire.ok_json(GOOD))
    client = client_for(wire, fault_llm_server, llm_timeout_seconds=1)
    assert client.structured(Triggers, MESSAGES, max_output_tokens=400) == Triggers.model_validate(GOOD)
    assert len(wire.requests(fault_llm_server)) == 2


@wires
def test_a_service_that_is_down_is_retried_then_unavailable(wire: Wire) -> None:
    server = FaultLlmServer().start()
    server.stop()  # nothing listens on its port any more
    client = client_for(wire, server, llm_max_retries=1, llm_deadline_seconds=5)
    with pytest.raises(LlmUnavailable, match="cannot reach the model service") as caught:
        client.text(MESSAGES, max_output_tokens=20)
    assert caught.value.attempts == 2


def test_ollama_structured_answer_and_what_was_sent(fault_llm_server: FaultLlmServer) -> None:
    fault_llm_server.script(ollama.ok_json(GOOD))
    client = client_for(WIRES["ollama"], fault_llm_server, llm_model="llama-test")
    assert client.structured(Triggers, MESSAGES, max_output_tokens=300) == Triggers.model_validate(GOOD)
    [request] = WIRES["ollama"].requests(fault_llm_server)
    body = request.body or {}
    assert body["model"] == "llama-test"
    assert body["options"]["num_predict"] == 300  # Ollama's own output-limit field
    assert body["options"]["temperature"] == 0
    assert body["format"]["properties"]["urgency"]["maximum"] == 5
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_ollama_answer_cut_off_at_num_predict_is_retried(fault_llm_server: FaultLlmServer) -> None:
    text = json.dumps(GOOD)
    fault_llm_server.script(ollama.stream(text[: len(text) // 2], done_reason="length"), ollama.ok_json(GOOD))
    client = client_for(WIRES["ollama"], fault_llm_server, llm_model="llama-test")
    assert client.structured(Triggers, MESSAGES, max_output_tokens=300) == Triggers.model_validate(GOOD)
    assert len(WIRES["ollama"].requests(fault_llm_server)) == 2
