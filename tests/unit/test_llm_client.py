"""LlmClient with the queue fake: what the model was asked, retries, budgets, failures, secrets."""

from __future__ import annotations

import logging
from typing import Annotated

import httpx
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from bot.llm.client import LlmClient, LlmUnavailable, PromptTooLarge, RetryPolicy, count_tokens
from bot.llm.fake import QueueChatModel, QueueExhausted
from bot.llm.tokens import MESSAGE_OVERHEAD_TOKENS, count_message_tokens

MESSAGES = [SystemMessage("You describe personas."), HumanMessage("Describe a CFO.")]


class Persona(BaseModel):
    name: Annotated[str, Field(max_length=40)]
    seniority: Annotated[int, Field(ge=1, le=5)]


class Clock:
    """A fake clock that advances only when the client sleeps, so backoff never slows tests."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client_for(fake: QueueChatModel, clock: Clock | None = None, **policy: float) -> LlmClient:
    clock = clock or Clock()
    return LlmClient(
        fake,
        prompt_token_budget=2_000,
        max_output_tokens=1_000,
        retry=RetryPolicy(**policy),  # type: ignore[arg-type]
        sleep=clock.sleep,
        clock=clock,
        secrets=("sk-live-secret-123456",),
    )


def status_error(kind: type[openai.APIStatusError], status: int, message: str, **headers: str) -> Exception:
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx.Response(status, headers=headers, request=request)
    return kind(message, response=response, body=None)


def test_structured_returns_the_schema_and_records_what_was_asked() -> None:
    fake = QueueChatModel(responses=[{"name": "Dana the CFO", "seniority": 5}])
    client = client_for(fake)
    persona = client.structured(Persona, MESSAGES, max_output_tokens=300)
    assert persona == Persona(name="Dana the CFO", seniority=5)
    assert fake.calls == [MESSAGES]
    request = fake.requests[0]
    assert (request.kind, request.schema, request.method) == ("structured", Persona, "json_schema")
    assert (request.max_tokens, request.temperature) == (300, 0.0)
    [call] = client.usage.calls
    assert call.ok and call.attempts == 1 and call.schema == "Persona"
    assert (
        call.prompt_tokens == client.count_prompt_tokens(MESSAGES, Persona) > count_message_tokens(MESSAGES)
    )


@pytest.mark.parametrize(
    "bad",
    [
        "not json at all",
        '{"name": "Dana", "seni',  # truncated
        None,  # an empty structured result
        {"name": "Dana", "seniority": 9},  # out of the schema's range
        TimeoutError(),
    ],
)
def test_a_bad_answer_is_retried_then_the_good_one_returned(bad: object) -> None:
    fake = QueueChatModel(responses=[bad, Persona(name="Dana", seniority=2)])
    clock = Clock()
    client = client_for(fake, clock)
    assert client.structured(Persona, MESSAGES, max_output_tokens=300).seniority == 2
    assert len(fake.calls) == 2 and fake.calls[0] == fake.calls[1]
    assert len(clock.sleeps) == 1
    assert client.usage.calls[0].attempts == 2


def test_retries_are_bounded_then_unavailable_with_a_reason() -> None:
    fake = QueueChatModel(responses=["garbage"] * 10)
    clock = Clock()
    client = client_for(fake, clock, max_retries=2, backoff_seconds=1.0, max_backoff_seconds=1.5)
    with pytest.raises(LlmUnavailable, match="invalid structured output") as caught:
        client.structured(Persona, MESSAGES, max_output_tokens=300)
    assert caught.value.attempts == 3 and len(fake.calls) == 3
    assert all(0.5 <= s <= 1.5 for s in clock.sleeps) and len(clock.sleeps) == 2
    assert fake.remaining == 7
    assert not client.usage.calls[0].ok


def test_a_refusal_is_not_retried() -> None:
    fake = QueueChatModel(
        responses=[
            status_error(openai.AuthenticationError, 401, "Incorrect API key provided: sk-live-secret-123456")
        ]
    )
    client = client_for(fake)
    with pytest.raises(LlmUnavailable, match="HTTP 401") as caught:
        client.text(MESSAGES, max_output_tokens=50)
    assert len(fake.calls) == 1
    assert "secret-123456" not in str(caught.value)


def test_rate_limit_waits_at_least_retry_after() -> None:
    fake = QueueChatModel(
        responses=[status_error(openai.RateLimitError, 429, "slow down", **{"retry-after": "3"}), "ok"]
    )
    clock = Clock()
    client = client_for(fake, clock, backoff_seconds=0.1)
    assert client.text(MESSAGES, max_output_tokens=50) == "ok"
    assert clock.sleeps[0] >= 3


def test_retry_after_beyond_the_deadline_gives_up_at_once() -> None:
    fake = QueueChatModel(
        responses=[status_error(openai.RateLimitError, 429, "slow down", **{"retry-after": "120"})]
    )
    clock = Clock()
    client = client_for(fake, clock, deadline_seconds=30)
    with pytest.raises(LlmUnavailable, match="would pass the deadline"):
        client.text(MESSAGES, max_output_tokens=50)
    assert clock.sleeps == [] and len(fake.calls) == 1


def test_the_deadline_stops_retries_before_max_retries() -> None:
    fake = QueueChatModel(responses=[status_error(openai.InternalServerError, 500, "boom")] * 10)
    clock = Clock()
    client = client_for(
        fake, clock, max_retries=9, backoff_seconds=4, max_backoff_seconds=8, deadline_seconds=10
    )
    with pytest.raises(LlmUnavailable, match="HTTP 500"):
        client.text(MESSAGES, max_output_tokens=50)
    assert clock.now <= 10
    assert len(fake.calls) < 10


def test_an_empty_text_answer_counts_as_a_failure() -> None:
    fake = QueueChatModel(responses=["", "  ", "fine"])
    client = client_for(fake)
    assert client.text(MESSAGES, max_output_tokens=50) == "fine"
    assert len(fake.calls) == 3 and fake.requests[0].kind == "text"


def test_prompt_over_budget_is_refused_before_any_call() -> None:
    fake = QueueChatModel(responses=["never"])
    client = client_for(fake)
    big = [HumanMessage("word " * 5_000)]
    with pytest.raises(PromptTooLarge) as caught:
        client.text(big, max_output_tokens=50)
    assert caught.value.budget == 2_000 and caught.value.tokens > 2_000
    assert fake.calls == [] and client.usage.calls == []


def test_output_limit_is_checked() -> None:
    client = client_for(QueueChatModel())
    for bad in (0, 1_001):
        with pytest.raises(ValueError, match="max_output_tokens"):
            client.text(MESSAGES, max_output_tokens=bad)


def test_a_fake_out_of_answers_is_a_test_bug_not_an_outage() -> None:
    with pytest.raises(QueueExhausted):
        client_for(QueueChatModel()).text(MESSAGES, max_output_tokens=50)


def test_secrets_never_reach_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    leak = status_error(openai.InternalServerError, 500, "upstream said key=sk-live-secret-123456")
    fake = QueueChatModel(responses=[leak, leak, leak])
    client = client_for(fake)
    with caplog.at_level(logging.DEBUG), pytest.raises(LlmUnavailable) as caught:
        client.text(MESSAGES, max_output_tokens=50)
    assert "secret-123456" not in caplog.text
    assert "secret-123456" not in str(caught.value)
    assert "secret" not in repr(client)


def test_usage_sums_calls() -> None:
    fake = QueueChatModel(responses=["a", "b"])
    client = client_for(fake)
    client.text(MESSAGES, max_output_tokens=10)
    client.text([HumanMessage("hi")], max_output_tokens=10)
    assert client.usage.call_count == 2
    assert client.usage.prompt_tokens == count_message_tokens(MESSAGES) + count_message_tokens(
        [HumanMessage("hi")]
    )
    assert client.usage.max_prompt_tokens == count_message_tokens(MESSAGES)
    client.usage.reset()
    assert client.usage.call_count == 0


@settings(deadline=None)  # the first example loads the tokenizer
@given(st.text(max_size=300), st.text(max_size=300))
def test_token_counts_are_additive_enough_and_never_below_the_byte_floor(a: str, b: str) -> None:
    assert count_tokens(a) >= len(a.encode()) / 5
    assert count_tokens(a + " " + b) <= count_tokens(a) + count_tokens(b) + 2
    messages = [HumanMessage(a), HumanMessage(b)]
    assert count_message_tokens(messages) == count_tokens(a) + count_tokens(b) + 2 * MESSAGE_OVERHEAD_TOKENS


def test_a_shared_deadline_caps_each_call() -> None:
    fake = QueueChatModel(responses=[status_error(openai.InternalServerError, 500, "boom")] * 10)
    clock = Clock()
    client = client_for(
        fake, clock, max_retries=9, backoff_seconds=2, max_backoff_seconds=2, deadline_seconds=45
    )
    until = client.deadline_in(5)
    with pytest.raises(LlmUnavailable):
        client.text(MESSAGES, max_output_tokens=50, deadline=until)
    assert clock.now <= 5
    clock.now = until
    with pytest.raises(LlmUnavailable, match="no time left") as caught:
        client.text(MESSAGES, max_output_tokens=50, deadline=until)
    assert caught.value.attempts == 0


def test_a_fenced_answer_is_salvaged_without_a_retry() -> None:
    fake = QueueChatModel(responses=['Sure!\n```json\n{"name": "Dana", "seniority": 4}\n```'])
    client = client_for(fake)
    assert client.structured(Persona, MESSAGES, max_output_tokens=300) == Persona(name="Dana", seniority=4)
    assert len(fake.calls) == 1


def test_concurrent_calls_are_all_recorded() -> None:
    from concurrent.futures import ThreadPoolExecutor

    fake = QueueChatModel(responses=[f"answer {i}" for i in range(16)])
    client = client_for(fake)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: client.text(MESSAGES, max_output_tokens=10), range(16)))
    assert sorted(answers) == sorted(f"answer {i}" for i in range(16))
    assert client.usage.call_count == 16 and fake.remaining == 0


FAULTS = {
    "timeout": TimeoutError,
    "500": lambda: status_error(openai.InternalServerError, 500, "boom"),
    "429": lambda: status_error(openai.RateLimitError, 429, "slow", **{"retry-after": "2"}),
    "garbage": lambda: "not json",
    "empty": lambda: None,
    "401": lambda: status_error(openai.AuthenticationError, 401, "no"),
}


@settings(deadline=None)  # each attempt runs in a worker thread: slow under a loaded machine
@given(
    st.lists(st.sampled_from(sorted(FAULTS)), max_size=6),
    st.integers(min_value=0, max_value=4),
    st.floats(min_value=1, max_value=60),
)
def test_any_fault_sequence_ends_in_an_answer_or_a_reason_within_bounds(
    faults: list[str], max_retries: int, deadline: float
) -> None:
    good = Persona(name="Dana", seniority=3)
    fake = QueueChatModel(responses=[*(FAULTS[f]() for f in faults), good])
    clock = Clock()
    client = client_for(
        fake, clock, max_retries=max_retries, deadline_seconds=deadline, max_backoff_seconds=4
    )
    try:
        result = client.structured(Persona, MESSAGES, max_output_tokens=100)
    except LlmUnavailable as exc:
        result = None
        assert exc.reason and exc.attempts == len(fake.calls)
    assert len(fake.calls) <= max_retries + 1
    assert clock.now <= deadline
    tried = faults[: len(fake.calls)]
    if result is not None:
        assert result == good and len(fake.calls) == len(faults) + 1 and "401" not in faults
    if "401" in tried:
        assert result is None and tried.index("401") == len(tried) - 1
