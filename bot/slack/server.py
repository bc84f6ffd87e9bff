"""How the bot meets Slack: an HTTP endpoint (production) or a Socket Mode connection (dev).

Over HTTP one path, ``/slack/events``, takes events, slash commands and interactivity; Bolt
verifies the signature and timestamp there. The Bolt app is synchronous, so each request is
dispatched on a worker thread and the event loop stays free for other requests and for the
``/healthz`` probe (which checks the database answers). With OAuth configured, ``/slack/install``
and ``/slack/oauth_redirect`` run the install flow. Both modes run the reminder scheduler loop
in a thread beside the endpoint (``SCHEDULER_POLL_SECONDS``) and stop it on shutdown.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.settings import Settings
from bot.slack.payload import may_hold_lone_surrogates, shape_problem, without_lone_surrogates
from bot.store.db import Engine, ping

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY_BYTES = 1_000_000  # Slack payloads are far smaller; refuse anything larger outright


class ServeConfigError(ValueError):
    """The settings cannot run the chosen mode; the message says which variable to set."""


class Stoppable(Protocol):
    def stop(self) -> object: ...


StartBackground = Callable[[Settings, Engine], Stoppable | None]


def build_asgi(app: App, *, engine: Engine, signing_secret: str | None) -> Starlette:
    """The ASGI application serving ``app``; ``engine`` is what the health check pings."""

    async def events(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "payload too large"}, status_code=413)
        try:
            bolt_request = to_bolt_request(request, body)
            problem = shape_problem(bolt_request.body)
            if may_hold_lone_surrogates(body):
                bolt_request.body = without_lone_surrogates(bolt_request.body)
        except Exception as exc:  # Bolt parses before it verifies; any body must get an answer
            problem = f"unparseable ({type(exc).__name__})"
        if problem is not None:
            # Unsigned garbage is 401 like any unsigned request; signed garbage is a 400.
            if signing_secret is not None and not is_signed(signing_secret, body, request.headers):
                return JSONResponse({"error": "invalid request"}, status_code=401)
            log.info("malformed Slack request: %s", problem)
            return JSONResponse({"error": "malformed payload"}, status_code=400)
        bolt_response = await run_in_threadpool(_dispatch, app, bolt_request)
        return to_starlette_response(bolt_response)

    async def oauth(request: Request) -> Response:
        flow = app.oauth_flow
        if flow is None:
            return Response("Not found", status_code=404)
        bolt_request = to_bolt_request(request, await request.body())
        if request.url.path == flow.install_path:
            return to_starlette_response(await run_in_threadpool(flow.handle_installation, bolt_request))
        return to_starlette_response(await run_in_threadpool(flow.handle_callback, bolt_request))

    async def health(_request: Request) -> Response:
        ok, detail = await run_in_threadpool(_db_ok, engine)
        payload = {"status": "ok" if ok else "degraded", "db": "ok" if ok else detail}
        return JSONResponse(payload, status_code=200 if ok else 503)

    routes = [
        Route(EVENTS_PATH, events, methods=["POST"]),
        Route(HEALTH_PATH, health, methods=["GET"]),
    ]
    if app.oauth_flow is not None:
        routes.append(Route(app.oauth_flow.install_path, oauth, methods=["GET"]))
        routes.append(Route(app.oauth_flow.redirect_uri_path, oauth, methods=["GET"]))
    return Starlette(routes=routes)


def is_signed(secret: str, body: bytes, headers: Mapping[str, str], *, max_age: int = 300) -> bool:
    """Slack's v0 signature over the raw bytes, with a fresh timestamp (for bodies Bolt can't read)."""
    timestamp = headers.get("x-slack-request-timestamp") or ""
    signature = headers.get("x-slack-signature") or ""
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > max_age:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def _dispatch(app: App, request: BoltRequest) -> BoltResponse:
    try:
        return app.dispatch(request)
    except Exception:  # Bolt handles listener errors; this is the last line before a 500
        log.exception("dispatch failed")
        return BoltResponse(status=500, body="")


def _db_ok(engine: Engine) -> tuple[bool, str]:
    try:
        ping(engine)
    except Exception as exc:  # the probe reports, it does not crash
        return False, type(exc).__name__
    return True, "ok"


def _secret(settings: Settings) -> str | None:
    return settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None


def serve_http(
    settings: Settings, port: int, *, host: str = "0.0.0.0", background: StartBackground | None = None
) -> None:
    """Run the HTTP endpoint under uvicorn until interrupted (events, commands, interactivity).

    ``background`` starts the work that runs beside the endpoint (the reminder scheduler); the
    caller composes it, so this module needs nothing above the Slack layer."""
    import uvicorn

    from bot.slack.app import build_app
    from bot.store.db import connect

    if _secret(settings) is None:
        raise ServeConfigError(
            "SLACK_SIGNING_SECRET is not set: Slack requests cannot be verified over HTTP."
        )
    if not settings.oauth_enabled and settings.slack_bot_token is None:
        raise ServeConfigError(
            "set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (OAuth installs)."
        )
    engine = connect(settings.resolved_database_url)
    app = build_app(settings, engine=engine)
    asgi = build_asgi(app, engine=engine, signing_secret=_secret(settings))
    log.info("serving Slack over HTTP on %s:%s%s", host, port, EVENTS_PATH)
    scheduler = background(settings, engine) if background is not None else None
    try:
        uvicorn.run(asgi, host=host, port=port, log_level="info", timeout_graceful_shutdown=10)
    finally:
        if scheduler is not None:
            scheduler.stop()


def serve_socket(settings: Settings, *, background: StartBackground | None = None) -> None:
    """Connect to Slack over Socket Mode (no public URL needed) and serve until interrupted."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.slack.app import build_app
    from bot.store.db import connect

    if settings.slack_app_token is None or settings.slack_bot_token is None:
        raise ServeConfigError("Socket Mode needs SLACK_APP_TOKEN (xapp-...) and SLACK_BOT_TOKEN (xoxb-...).")
    engine = connect(settings.resolved_database_url)
    app = build_app(settings, engine=engine, token_verification_enabled=True)
    log.info("connecting to Slack over Socket Mode")
    scheduler = background(settings, engine) if background is not None else None
    try:
        handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
        handler.start()  # type: ignore[no-untyped-call]  # slack_bolt leaves it unannotated
    finally:
        if scheduler is not None:
            scheduler.stop()
