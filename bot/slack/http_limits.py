"""Bounds on what one HTTP client can make the server hold: bodies, headers, time, connections.

A request is refused before its body is read when its declared size is over the cap or (where a
path needs them) Slack's signature headers are missing; a streamed or chunked body is read
piece by piece and cut off at the cap, so an attacker costs at most the cap in memory, never
the size they send. uvicorn itself bounds connections, the accept backlog, keep-alive and the
header size (``uvicorn_options``); it has no deadline for a request's head, so ``HeadDeadlineH11``
adds one: a client that trickles its headers (slow-loris) is dropped after the read timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import h11
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.settings import Settings

log = logging.getLogger(__name__)

SIGNATURE_HEADERS = ("x-slack-signature", "x-slack-request-timestamp")


class BodyTooLarge(Exception):
    """The body grew past the cap while it was being read."""


def refuse_before_reading(
    headers: Mapping[str, str], *, limit: int, needs_signature: bool
) -> Response | None:
    """A response for a request that must not be read at all, else None.

    413 when ``Content-Length`` says the body is over ``limit``; 400 when it is not a number;
    401 when the path needs Slack's signature and its headers are missing."""
    declared = headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            return refusal(400, "invalid content-length")
        if int(declared) > limit:
            return refusal(413, "payload too large")
    if needs_signature and not all(headers.get(name) for name in SIGNATURE_HEADERS):
        return refusal(401, "invalid request")
    return None


async def read_capped(request: Request, *, limit: int, timeout: float) -> bytes:
    """The body, read as it arrives; ``BodyTooLarge`` as soon as it passes ``limit`` (nothing
    more is read), ``TimeoutError`` when the whole body takes longer than ``timeout``."""
    body = bytearray()
    async with asyncio.timeout(timeout):
        async for chunk in request.stream():
            if len(body) + len(chunk) > limit:
                raise BodyTooLarge
            body += chunk
    return bytes(body)


async def read_or_refuse(
    request: Request, *, limit: int, timeout: float, needs_signature: bool = False
) -> bytes | Response:
    """The body, or the response to send instead: ``refuse_before_reading``, then ``read_capped``
    with each way it can fail turned into a refusal."""
    early = refuse_before_reading(request.headers, limit=limit, needs_signature=needs_signature)
    if early is not None:
        return early
    try:
        return await read_capped(request, limit=limit, timeout=timeout)
    except BodyTooLarge:
        return refusal(413, "payload too large")
    except TimeoutError:
        return refusal(408, "request body too slow")
    except ClientDisconnect:  # nobody is left to read the answer
        return refusal(400, "client disconnected")


def refusal(status: int, message: str) -> Response:
    """A short JSON error that also closes the connection (an unread body is never drained)."""
    return JSONResponse({"error": message}, status_code=status, headers={"connection": "close"})


class HeadDeadlineH11(H11Protocol):
    """uvicorn's h11 protocol, plus a deadline for each request's head (line and headers).

    The clock starts when a connection opens or a kept-alive one receives the first byte of its
    next request, and stops when h11 has the whole head."""

    head_timeout_s: float = 10.0
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:
            if self._head_timer is None:
                self._arm()
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            log.info("dropped a connection whose request headers took over %s s", self.head_timeout_s)
            self.transport.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn settings that bound the server (pass to ``uvicorn.run``)."""
    protocol = type("BoundedH11", (HeadDeadlineH11,), {"head_timeout_s": settings.http_read_timeout_seconds})
    return {
        "http": protocol,
        "limit_concurrency": settings.http_max_connections,
        "backlog": settings.http_backlog,
        "timeout_keep_alive": settings.http_keep_alive_seconds,
        "h11_max_incomplete_event_size": settings.http_max_header_bytes,
    }
