"""Failures are classified by shape for every provider: the SDKs' own error objects, httpx's,
Ollama's, or anything carrying an HTTP status; refusals fail fast, the rest is retried."""

from __future__ import annotations

import json

import anthropic
import httpx
import ollama
import openai
import pytest

from bot.llm.failures import classify

REQUEST = httpx.Request("POST", "http://127.0.0.1:9/v1/messages")


def response(status: int, body: dict[str, object], **headers: str) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers, request=REQUEST)


def anthropic_error(status: int, kind: str, message: str, **headers: str) -> Exception:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    client = anthropic.Anthropic(api_key="k", base_url="http://127.0.0.1:9", max_retries=0)
    return client._make_status_error_from_response(response(status, body, **headers))


def openai_error(status: int, message: str, **headers: str) -> Exception:
    body = {"error": {"message": message, "type": "x", "code": None}}
    client = openai.OpenAI(api_key="k", base_url="http://127.0.0.1:9/v1", max_retries=0)
    return client._make_status_error_from_response(response(status, body, **headers))


@pytest.mark.parametrize("make", [anthropic_error, lambda s, _k, m: openai_error(s, m)])
@pytest.mark.parametrize(("status", "words"), [(401, "credentials"), (403, "credentials"), (400, "request")])
def test_refusals_fail_fast_with_the_servers_message(make, status: int, words: str) -> None:  # type: ignore[no-untyped-def]
    failure = classify(make(status, "invalid_request_error", "model: claude-nope not found"))
    assert not failure.retry
    assert f"HTTP {status}" in failure.reason and words in failure.reason
    assert "claude-nope not found" in failure.reason


@pytest.mark.parametrize("status", [404, 422])
def test_not_found_and_unprocessable_fail_fast(status: int) -> None:
    assert not classify(anthropic_error(status, "not_found_error", "no such model")).retry


def test_rate_limits_wait_for_retry_after() -> None:
    failure = classify(anthropic_error(429, "rate_limit_error", "slow down", **{"retry-after": "7"}))
    assert failure.retry and failure.wait == 7.0
    assert classify(openai_error(429, "slow down", **{"retry-after-ms": "1500"})).wait == 1.5


@pytest.mark.parametrize("status", [500, 502, 503, 529, 408, 409])
def test_server_side_failures_are_retried(status: int) -> None:
    assert classify(anthropic_error(status, "api_error", "boom")).retry


def test_timeouts_and_connection_failures_are_retried() -> None:
    for exc in (
        anthropic.APITimeoutError(REQUEST),
        openai.APITimeoutError(REQUEST),
        httpx.ReadTimeout("slow", request=REQUEST),
        TimeoutError(),
    ):
        failure = classify(exc)
        assert failure.retry and "timed out" in failure.reason, exc
    for exc in (
        anthropic.APIConnectionError(request=REQUEST),
        httpx.ConnectError("refused", request=REQUEST),
        ConnectionError("refused"),
    ):
        failure = classify(exc)
        assert failure.retry and "cannot reach" in failure.reason, exc


def test_other_shapes_carrying_a_status() -> None:
    """Ollama's ResponseError, httpx's HTTPStatusError, and any exception with ``status_code``."""
    assert not classify(ollama.ResponseError("model 'llama9' not found", 404)).retry
    assert "llama9" in classify(ollama.ResponseError("model 'llama9' not found", 404)).reason
    refused = response(401, {"error": "bad key"})
    assert not classify(httpx.HTTPStatusError("401", request=REQUEST, response=refused)).retry

    class GatewayError(Exception):
        status_code = 503

    assert classify(GatewayError("upstream")).retry


def test_an_error_wrapping_a_200_is_not_an_http_refusal() -> None:
    """An answer that failed to parse may carry its 200 response: retried as bad output."""

    class Unparseable(ValueError):
        response = httpx.Response(200, request=REQUEST)

    failure = classify(Unparseable("no JSON here"))
    assert failure.retry and "HTTP" not in failure.reason
