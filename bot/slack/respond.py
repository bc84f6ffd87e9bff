"""Replies to a response_url over kept-alive HTTP connections (a drop-in for Bolt's ``respond``).

Why: Bolt's ``respond`` opens a new connection through a fresh urllib opener for every reply,
which costs the bot more CPU than scoring the account; under load that CPU holds the GIL and
delays other requests' acks. Replies all go to one host (Slack's hooks host, or the URL's
stand-in in tests), so a few HTTP/1.1 connections per origin are kept and reused.

Same message and semantics as Bolt's ``respond``: the body is the one ``_build_message`` makes,
an HTTP error status is returned (not raised), and a connection error is retried once on a new
connection before it is raised. With a proxy set (HTTPS_PROXY and friends) Bolt's own client,
which knows proxies, is used instead.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from slack_bolt.context.respond import Respond as BoltRespond
from slack_sdk.proxy_env_variable_loader import load_http_proxy_from_env
from slack_sdk.web.internal_utils import get_user_agent
from slack_sdk.webhook import WebhookResponse

TIMEOUT_S = 30.0  # WebhookClient's default
IDLE_PER_ORIGIN = 8  # kept connections per origin; more concurrent replies open extra ones
MAX_ORIGINS = 16

Origin = tuple[str, str, int]


class ReplyPool:
    """Idle HTTP connections per origin (thread-safe); ``respond_to(url)`` makes a responder."""

    def __init__(self, *, timeout: float = TIMEOUT_S, ssl_context: ssl.SSLContext | None = None) -> None:
        self._timeout = timeout
        self._ssl = ssl_context
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._headers = {
            "Content-Type": "application/json;charset=utf-8",
            "User-Agent": get_user_agent(),
        }

    def respond_to(self, response_url: str | None, fallback: BoltRespond | None = None) -> Any:
        """A ``respond`` for ``response_url``: pooled, or ``fallback`` (Bolt's) when a proxy is set
        or the URL is not plain http(s)."""
        proxied = fallback is not None and bool(fallback.proxy)
        if response_url is None or proxied or load_http_proxy_from_env() is not None:
            return fallback if fallback is not None else BoltRespond(response_url=response_url)
        if urlsplit(response_url).scheme not in {"http", "https"}:
            return fallback if fallback is not None else BoltRespond(response_url=response_url)
        return PooledRespond(self, response_url)

    # connections ---------------------------------------------------------------------------

    def _connect(self, origin: Origin) -> http.client.HTTPConnection:
        scheme, host, port = origin
        if scheme == "https":
            context = self._ssl or ssl.create_default_context()
            return http.client.HTTPSConnection(host, port, timeout=self._timeout, context=context)
        return http.client.HTTPConnection(host, port, timeout=self._timeout)

    def _take(self, origin: Origin) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(origin)
            return idle.pop() if idle else None

    def _give_back(self, origin: Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if origin in self._idle or len(self._idle) < MAX_ORIGINS:
                idle = self._idle.setdefault(origin, [])
                if len(idle) < IDLE_PER_ORIGIN:
                    idle.append(conn)
                    return
        conn.close()

    def close(self) -> None:
        with self._lock:
            pools, self._idle = list(self._idle.values()), {}
        for idle in pools:
            for conn in idle:
                conn.close()

    def post(self, url: str, payload: Mapping[str, Any]) -> WebhookResponse:
        """POST ``payload`` as JSON; a reused connection the server closed is replaced at once,
        any other connection error is retried once on a new connection, then raised."""
        parts = urlsplit(url)
        scheme = parts.scheme
        origin = (scheme, parts.hostname or "", parts.port or (443 if scheme == "https" else 80))
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        body = json.dumps(payload).encode("utf-8")
        fresh_tries = 0
        while True:
            conn = self._take(origin)
            reused = conn is not None
            if conn is None:
                conn = self._connect(origin)
                fresh_tries += 1
            try:
                conn.request("POST", target, body=body, headers=self._headers)
                resp = conn.getresponse()
                data = resp.read()
            except (ConnectionError, http.client.HTTPException) as exc:
                conn.close()  # a kept connection the server closed meanwhile fails like this
                if reused or (fresh_tries < 2 and isinstance(exc, ConnectionError)):
                    continue
                raise
            except OSError:  # a timeout: the reply may have arrived, so it is not sent twice
                conn.close()
                raise
            headers = dict(resp.getheaders())
            if resp.will_close:
                conn.close()
            else:
                self._give_back(origin, conn)
            charset = resp.headers.get_content_charset() or "utf-8"
            return WebhookResponse(
                url=url, status_code=resp.status, body=data.decode(charset, "replace"), headers=headers
            )


def _as_dicts(items: Sequence[Any]) -> list[dict[str, Any]]:
    return [item if isinstance(item, dict) else item.to_dict() for item in items]


class PooledRespond:
    """Bolt's ``respond(...)`` signature, posting through a :class:`ReplyPool`."""

    def __init__(self, pool: ReplyPool, response_url: str) -> None:
        self.pool = pool
        self.response_url = response_url

    def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[Any] | None = None,
        attachments: Sequence[Any] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        if isinstance(text, dict):
            return self(**text)
        message: dict[str, Any] = {"text": text}
        if blocks:
            message["blocks"] = _as_dicts(blocks)
        if attachments:
            message["attachments"] = _as_dicts(attachments)
        optional = {
            "response_type": response_type,
            "replace_original": replace_original,
            "delete_original": delete_original,
            "unfurl_links": unfurl_links,
            "unfurl_media": unfurl_media,
            "thread_ts": thread_ts,
            "metadata": metadata,
        }
        message.update((k, v) for k, v in optional.items() if v is not None)
        return self.pool.post(self.response_url, message)


def note_privately(respond: Callable[..., Any], body: Mapping[str, Any], text: str) -> None:
    """An ephemeral reply through the request's response_url; nothing where there is none (App
    Home clicks, forms), as Bolt's ``respond`` exists there too but cannot be used."""
    if body.get("response_url"):
        respond(text=text, response_type="ephemeral", replace_original=False)
