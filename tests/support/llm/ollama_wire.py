"""Scripted replies in Ollama's native API wire format (``POST /api/chat``), for ``FaultLlmServer``.

ChatOllama streams: the answer is newline-delimited JSON chunks, ``{"message": {"role":
"assistant", "content": ...}, "done": false}`` then a last one with ``"done": true``,
``done_reason`` and the token counts. An error is ``{"error": "..."}`` with an HTTP status.
Point ChatOllama (``LLM_PROVIDER=ollama``, ``LLM_BASE_URL``) at ``FaultLlmServer.root_url``.
"""

from __future__ import annotations

import json
from typing import Any

from tests.support.llm.fault_server import Reply

_NOW = "2026-01-05T10:00:00.000000Z"


def _chunk(content: str, *, done: bool, done_reason: str = "stop") -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "model": "stand-in",
        "created_at": _NOW,
        "message": {"role": "assistant", "content": content},
        "done": done,
    }
    if done:
        chunk |= {"done_reason": done_reason, "prompt_eval_count": 10, "eval_count": 10, "total_duration": 1}
    return chunk


def stream(text: str, *, done_reason: str = "stop") -> Reply:
    """``text`` in two chunks, then the closing chunk."""
    half = len(text) // 2
    chunks = [
        _chunk(text[:half], done=False),
        _chunk(text[half:], done=False),
        _chunk("", done=True, done_reason=done_reason),
    ]
    body = "".join(json.dumps(c) + "\n" for c in chunks).encode()
    return Reply(200, body, {"Content-Type": "application/x-ndjson"}, label="ollama_stream")


def ok_text(text: str) -> Reply:
    return stream(text)


def ok_json(value: Any) -> Reply:
    return stream(json.dumps(value))


def error(status: int, text: str, **headers: str) -> Reply:
    body = json.dumps({"error": text}).encode()
    return Reply(status, body, {"Content-Type": "application/json", **headers}, label=f"ollama_{status}")


def unauthorized(text: str = "unauthorized") -> Reply:
    return error(401, text)


def bad_request(text: str = "model 'llama-nope' not found") -> Reply:
    return error(400, text)


def rate_limited(retry_after: float | None = 1.0) -> Reply:
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    return error(429, "too many requests", **headers)


def server_error(status: int = 500) -> Reply:
    return error(status, "llama runner process has terminated")
