"""How the bot meets Slack: an HTTP endpoint (production) or a Socket Mode connection (dev).

Over HTTP one path, ``/slack/events``, takes events, slash commands and interactivity; Bolt
verifies the signature and timestamp there (and slack_sdk's ``SignatureVerifier`` here, for bodies
Bolt cannot read). The Bolt app is synchronous, so each request is dispatched on a worker thread
and the event loop stays free for other requests and for the probes: ``/healthz`` checks that
the database and the vector store answer, ``/metrics`` renders the app's Prometheus registry.
Bodies, headers, connections and slow clients are bounded (``http_limits.py``, HTTP_* settings).
Each request runs in a logging scope naming its workspace, kind and a request id, and its ack
is counted and timed. With OAuth configured, ``/slack/install``
and ``/slack/oauth_redirect`` run the install flow. Both modes run the reminder scheduler loop
in a thread beside the endpoint (``SCHEDULER_POLL_SECONDS``) and stop it on shutdown.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from functools import partial
from typing import Protocol

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.logs import request_scope
from bot.metrics import CONTENT_TYPE_LATEST, Metrics
from bot.settings import Settings
from bot.slack.http_limits import read_or_refuse, uvicorn_options
from bot.slack.observe import request_fields
from bot.slack.payload import may_hold_lone_surrogates, shape_problem, without_lone_surrogates
from bot.store.db import Engine, ping

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
PROBE_TIMEOUT_S = 3.0  # a store that does not answer within this is reported as unavailable
PROBE_REASON_CHARS = 120
MAX_BODY_BYTES = 1_000_000  # Slack payloads are far smaller; refuse anything larger outright
DEFAULT_READ_TIMEOUT_S = 10.0  # a body that takes longer to arrive is refused (408)


class ServeConfigError(ValueError):
    """The settings cannot run the chosen mode; the message says which variable to set."""


class Stoppable(Protocol):
    def stop(self) -> object: ...


StartBackground = Callable[[Settings, Engine, Metrics], Stoppable | None]
VectorStoreProbe = Callable[[], object]  # raises when the vector store does not answer


def build_asgi(
    app: App,
    *,
    engine: Engine,
    signing_secret: str | None,
    metrics: Metrics | None = None,
    vector_store: VectorStoreProbe | None = None,
    read_timeout: float = DEFAULT_READ_TIMEOUT_S,
) -> Starlette:
    """The ASGI application serving ``app``; the health check pings ``engine`` and ``vector_store``.

    ``metrics`` (the app's, from ``build_app``) is what requests are counted in and ``/metrics``
    shows; without it a private registry is used. Without ``vector_store`` the health check
    reports the vector store as "not checked" (and does not fail on it). A body is read only
    after its declared size and (for ``/slack/events``) its signature headers pass, and never
    past ``MAX_BODY_BYTES`` or ``read_timeout`` seconds (``http_limits.py``)."""
    metrics = metrics if metrics is not None else Metrics()

    async def events(request: Request) -> Response:
        received = time.perf_counter()
        body = await read_or_refuse(
            request, limit=MAX_BODY_BYTES, timeout=read_timeout, needs_signature=signing_secret is not None
        )
        if isinstance(body, Response):
            return body
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
        bolt_response = await run_in_threadpool(_dispatch, app, bolt_request, metrics, received)
        return to_starlette_response(bolt_response)

    async def oauth(request: Request) -> Response:
        flow = app.oauth_flow
        if flow is None:
            return Response("Not found", status_code=404)
        body = await read_or_refuse(request, limit=MAX_BODY_BYTES, timeout=read_timeout)
        if isinstance(body, Response):
            return body
        bolt_request = to_bolt_request(request, body)
        if request.url.path == flow.install_path:
            return to_starlette_response(await run_in_threadpool(flow.handle_installation, bolt_request))
        return to_starlette_response(await run_in_threadpool(flow.handle_callback, bolt_request))

    async def health(_request: Request) -> Response:
        db, vectors = await asyncio.gather(
            _probe(partial(ping, engine)),
            _probe(vector_store) if vector_store is not None else _not_checked(),
        )
        ok = db == "ok" and vectors in ("ok", "not checked")
        if not ok:
            log.warning("health check failed: db=%s vector_store=%s", db, vectors)
        payload = {"status": "ok" if ok else "unavailable", "db": db, "vector_store": vectors}
        return JSONResponse(payload, status_code=200 if ok else 503)

    async def prometheus(_request: Request) -> Response:
        body = await run_in_threadpool(metrics.exposition)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route(EVENTS_PATH, events, methods=["POST"]),
        Route(HEALTH_PATH, health, methods=["GET"]),
        Route(METRICS_PATH, prometheus, methods=["GET"]),
    ]
    if app.oauth_flow is not None:
        routes.append(Route(app.oauth_flow.install_path, oauth, methods=["GET"]))
        routes.append(Route(app.oauth_flow.redirect_uri_path, oauth, methods=["GET"]))
    return Starlette(routes=routes)


def is_signed(secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """Slack's v0 signature over the raw bytes with a timestamp at most 5 minutes old (slack_sdk's
    ``SignatureVerifier``, as Bolt uses), for the bodies Bolt cannot parse and so never verifies."""
    timestamp = headers.get("x-slack-request-timestamp")
    if timestamp is None or not timestamp.isascii() or not timestamp.isdigit():
        return False  # the verifier would raise on int(); a malformed stamp is simply unsigned
    try:
        return SignatureVerifier(secret).is_valid(body, timestamp, headers.get("x-slack-signature"))
    except UnicodeError:  # the verifier reads the body as UTF-8, as Slack writes it: not Slack's
        return False


def _dispatch(app: App, request: BoltRequest, metrics: Metrics, received: float) -> BoltResponse:
    """Run Bolt on this worker thread, in the request's logging scope; count and time the ack."""
    fields = request_fields(request.body, request_id=uuid.uuid4().hex[:12])
    kind = str(fields["kind"])
    metrics.requests.labels(kind).inc()
    with request_scope(**fields):
        try:
            response = app.dispatch(request)
        except Exception:  # Bolt handles listener errors; this is the last line before a 500
            log.exception("dispatch failed")
            response = BoltResponse(status=500, body="")
        seconds = time.perf_counter() - received
        metrics.acks.labels(kind, str(response.status)).inc()
        metrics.ack_seconds.labels(kind).observe(seconds)
        log.info("answered %s with %s", kind, response.status, extra={"latency_ms": round(seconds * 1000, 1)})
    return response


async def _probe(check: Callable[[], object]) -> str:
    """Return "ok", or why ``check`` failed (the error's type and first line, or "timeout")."""
    try:
        await asyncio.wait_for(run_in_threadpool(check), timeout=PROBE_TIMEOUT_S)
    except TimeoutError:
        return "timeout"
    except Exception as exc:
        first_line = (str(exc).strip().splitlines() or [""])[0][:PROBE_REASON_CHARS]
        return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
    return "ok"


async def _not_checked() -> str:
    return "not checked"


def _secret(settings: Settings) -> str | None:
    return settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None


def freeze_startup_objects() -> None:
    """Leave the objects a started server holds (modules, the app, its caches) out of every later
    garbage collection: a full collection walks every tracked object, some 300,000 of them in a
    server, and stops every thread meanwhile (0.3 to 0.5 s measured while an import ran beside
    it, issue 16); afterwards it walks only what requests allocated. Call it once the app is
    built, just before serving."""
    gc.collect()
    gc.freeze()


def serve_http(
    settings: Settings, port: int, *, host: str = "0.0.0.0", background: StartBackground | None = None
) -> None:
    """Run the HTTP endpoint under uvicorn until interrupted (events, commands, interactivity).

    ``background`` starts the work that runs beside the endpoint (the reminder scheduler); the
    caller composes it, so this module needs nothing above the Slack layer."""
    import uvicorn

    from bot.knowledge.health import ping_vector_store
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
    metrics = Metrics()
    app = build_app(settings, engine=engine, metrics=metrics)
    asgi = build_asgi(
        app,
        engine=engine,
        signing_secret=_secret(settings),
        metrics=metrics,
        vector_store=partial(ping_vector_store, settings),
        read_timeout=settings.http_read_timeout_seconds,
    )
    log.info("serving Slack over HTTP on %s:%s%s", host, port, EVENTS_PATH)
    scheduler = background(settings, engine, metrics) if background is not None else None
    freeze_startup_objects()
    try:
        uvicorn.run(  # log_config=None: uvicorn's records go through our handler (format, masking)
            asgi,
            host=host,
            port=port,
            log_config=None,
            log_level=settings.log_level.lower(),
            timeout_graceful_shutdown=10,
            **uvicorn_options(settings),  # connections, backlog, keep-alive, header size and time
        )
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
    metrics = Metrics()
    app = build_app(settings, engine=engine, token_verification_enabled=True, metrics=metrics)
    log.info("connecting to Slack over Socket Mode")
    scheduler = background(settings, engine, metrics) if background is not None else None
    freeze_startup_objects()
    try:
        handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
        handler.start()  # type: ignore[no-untyped-call]  # slack_bolt leaves it unannotated
    finally:
        if scheduler is not None:
            scheduler.stop()
