"""An LLM API stand-in on 127.0.0.1 that answers ``/v1/chat/completions`` (and, with the replies of
``tests.support.llm.anthropic_wire``, Anthropic's ``/v1/messages``) as scripted.

Real HTTP, so the real ChatOpenAI/openai SDK stack is exercised: each request takes the next
scripted :class:`Reply` (``ok_json``, ``ok_text``, ``rate_limited``, ``server_error``, ``garbage``,
``truncated_body``, ``truncated_json``, ``cut_off``, ``empty_structured``, ``slow``), or the
``default`` reply once the script runs out. Every request is recorded (path, JSON body, whether an
Authorization or x-api-key header came, the headers) so tests can assert what was asked.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP answer: status, headers, raw body, after ``delay`` seconds."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case
    delay: float = 0.0
    label: str = ""


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    body: dict[str, Any] | None
    authorized: bool
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages", []))


def completion(content: str, *, finish_reason: str = "stop", model: str = "stand-in") -> dict[str, Any]:
    """A chat.completion document carrying ``content`` as the assistant's message."""
    return {
        "id": "chatcmpl-stand-in",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def _json_reply(status: int, document: Any, label: str, **headers: str) -> Reply:
    return Reply(
        status, json.dumps(document).encode(), {"Content-Type": "application/json", **headers}, label=label
    )


def ok_text(text: str) -> Reply:
    return _json_reply(200, completion(text), "ok_text")


def ok_json(value: Any) -> Reply:
    """A good structured answer: ``value`` as JSON text in the assistant message."""
    return _json_reply(200, completion(json.dumps(value)), "ok_json")


def _error(status: int, message: str, kind: str, **headers: str) -> Reply:
    return _json_reply(
        status, {"error": {"message": message, "type": kind, "code": None}}, f"http_{status}", **headers
    )


def rate_limited(retry_after: float | None = 1.0) -> Reply:
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    return _error(429, "Rate limit reached", "rate_limit_exceeded", **headers)


def server_error(status: int = 500) -> Reply:
    return _error(status, "The server had an error while processing your request", "server_error")


def refused(status: int = 401, message: str = "Incorrect API key provided") -> Reply:
    return _error(status, message, "invalid_request_error")


def garbage() -> Reply:
    """A 200 whose body is not JSON at all (a proxy's HTML page, say)."""
    return Reply(
        200, b"<html><body>502 upstream hiccup</body></html>", {"Content-Type": "text/html"}, label="garbage"
    )


def truncated_body(value: Any = None) -> Reply:
    """A 200 whose JSON document itself stops half-way (a connection cut mid-body)."""
    text = json.dumps(completion(json.dumps(value if value is not None else {"a": 1})))
    return Reply(
        200, text[: len(text) // 2].encode(), {"Content-Type": "application/json"}, label="truncated_body"
    )


def truncated_json(value: Any) -> Reply:
    """A well-formed completion whose structured content is cut in the middle of the JSON."""
    text = json.dumps(value)
    return _json_reply(200, completion(text[: max(1, len(text) // 2)]), "truncated_json")


def cut_off(value: Any) -> Reply:
    """The content cut at the token limit, as servers report it (``finish_reason: length``)."""
    text = json.dumps(value)
    return _json_reply(200, completion(text[: max(1, len(text) // 2)], finish_reason="length"), "cut_off")


def empty_structured() -> Reply:
    """A 200 with an empty assistant message: nothing to parse."""
    return _json_reply(200, completion(""), "empty")


def slow(seconds: float, then: Reply | None = None) -> Reply:
    """``then`` (a good answer by default) after ``seconds``: long enough to hit a timeout."""
    base = then or ok_text("late")
    return Reply(base.status, base.body, base.headers, delay=seconds, label=f"slow({seconds:g})")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        self._send(_json_reply(200, {"status": "ok", "data": [{"id": "stand-in"}]}, "get"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        owner = self.server.owner
        authorized = bool(self.headers.get("Authorization") or self.headers.get("x-api-key"))
        reply = owner._record_and_pop(
            RecordedRequest(self.path, body, authorized, {k.lower(): v for k, v in self.headers.items()})
        )
        if reply.delay and owner._closing.wait(reply.delay):
            return
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FaultLlmServer


class FaultLlmServer:
    """The stand-in: ``script(...)`` replies, read ``requests``; ``base_url`` ends in ``/v1``."""

    def __init__(self, default: Reply | None = None) -> None:
        self.default = default or server_error(503)
        self.requests: list[RecordedRequest] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fault-llm", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *replies: Reply) -> FaultLlmServer:
        with self._lock:
            self._script.extend(replies)
        return self

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def root_url(self) -> str:
        """The server without ``/v1``: what the Anthropic SDK takes (it adds ``/v1/messages``)."""
        return self.base_url.removesuffix("/v1")

    @property
    def message_requests(self) -> list[RecordedRequest]:
        """Requests to the Anthropic Messages API (``POST /v1/messages``)."""
        return [r for r in self.requests if r.path.endswith("/v1/messages")]

    def _record_and_pop(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            return self._script.popleft() if self._script else self.default

    def start(self) -> FaultLlmServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
