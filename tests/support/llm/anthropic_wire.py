"""Scripted replies in the Anthropic Messages API's wire format, for ``FaultLlmServer``.

A message answer is ``{"type": "message", "content": [{"type": "text", ...}], "stop_reason": ...,
"usage": {"input_tokens", "output_tokens"}}``; an error is ``{"type": "error", "error": {"type":
"authentication_error" | "rate_limit_error" | "api_error" | "overloaded_error" | ..., "message":
...}}`` with the HTTP status the API uses (401, 429 with ``retry-after``, 500, 529). Point
ChatAnthropic at ``FaultLlmServer.root_url``; it posts to ``/v1/messages``.
"""

from __future__ import annotations

import json
from typing import Any

from tests.support.llm.fault_server import Reply


def message(text: str, *, stop_reason: str = "end_turn", model: str = "stand-in") -> dict[str, Any]:
    """A Messages API response whose one content block is ``text``."""
    return {
        "id": "msg_stand_in",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 10},
    }


def _reply(status: int, document: Any, label: str, **headers: str) -> Reply:
    return Reply(
        status,
        json.dumps(document).encode(),
        {"Content-Type": "application/json", "request-id": "req_stand_in", **headers},
        label=label,
    )


def ok_text(text: str) -> Reply:
    return _reply(200, message(text), "anthropic_ok_text")


def ok_json(value: Any) -> Reply:
    """A structured answer as the API returns one: the JSON as the text block."""
    return _reply(200, message(json.dumps(value)), "anthropic_ok_json")


def cut_off(value: Any) -> Reply:
    """The JSON stopped half-way at the output limit (``stop_reason: max_tokens``)."""
    text = json.dumps(value)
    return _reply(200, message(text[: max(1, len(text) // 2)], stop_reason="max_tokens"), "anthropic_cut_off")


def error(status: int, kind: str, text: str, **headers: str) -> Reply:
    body = {"type": "error", "error": {"type": kind, "message": text}, "request_id": "req_stand_in"}
    return _reply(status, body, f"anthropic_{status}", **headers)


def unauthorized(text: str = "invalid x-api-key") -> Reply:
    return error(401, "authentication_error", text)


def bad_request(text: str = "model: claude-nope is not a valid model") -> Reply:
    return error(400, "invalid_request_error", text)


def rate_limited(retry_after: float | None = 1.0) -> Reply:
    headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
    return error(429, "rate_limit_error", "Number of request tokens has exceeded your rate limit", **headers)


def server_error(status: int = 500) -> Reply:
    kind = "overloaded_error" if status == 529 else "api_error"
    return error(status, kind, "Internal server error" if status != 529 else "Overloaded")
