"""The app factory: `build_app(settings, ...)` returns a configured `slack_bolt.App`.

Listeners live in `bot/slack/listeners/<kind>/` and each module exposes `register(app, ctx)`. The
Web API base URL comes from settings (GovSlack, proxies, the e2e stand-in server), and the
client retries on rate limits (Retry-After) and transient server errors.

Two global middlewares run before any listener: other bots' messages are dropped (Bolt already
drops our own), and a redelivered request (same event id or trigger id) is acknowledged without
running anything twice. A slash command's key is claimed after its ack, by the work that runs on
the app's pool (``claim_delivery`` in the Bolt context): Slack never retries slash commands, so
the write need not delay the ack; a repeat seen by this process is still dropped before the ack. With SLACK_CLIENT_ID/SECRET set, the app serves multi-workspace OAuth
installs from our own database instead of one bot token.

One error handler (``on_error``) takes every error a listener or middleware leaves unhandled: it
is logged under a short reference, and where the request has a response_url the person gets a
short apology quoting it, never a trace. Listeners that work inline after their ack report
through ``bot.slack.failures.reported`` instead, and work run on our own pool after the ack
(out of Bolt's sight) through ``bot.slack.failures.submit_safely``: the same report either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from bot.logs import ContextExecutor
from bot.metrics import Metrics
from bot.settings import Settings
from bot.slack.client import make_client
from bot.slack.context import AppContext
from bot.slack.delivery import CLAIM_DELIVERY, DeliveryLedger, claim_once, delivery_key
from bot.slack.failures import privately, report_failure, request_name
from bot.slack.installations import installation_store, oauth_state_store
from bot.slack.listeners.messages import checkin
from bot.slack.listeners.messages import interview as interview_messages
from bot.slack.on_install import install_callbacks
from bot.store.db import Engine

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"


def build_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    knowledge_factory: Callable[[], object] | None = None,
    llm_factory: Callable[[], object] | None = None,
    client: WebClient | None = None,
    token_verification_enabled: bool = False,
    metrics: Metrics | None = None,
) -> App:
    """Build the Bolt app. Without `engine` the configured database is opened (and upgraded);
    without `llm_factory` the language model client is built from settings on first use;
    `metrics` (a fresh registry if not given) is what the app and its LLM client count in.
    Bolt's listener threads run in the request's context, so their log lines name it."""
    from bot.slack.listeners import register_all
    from bot.store.db import connect

    if engine is None:
        engine = connect(settings.resolved_database_url)
    if knowledge_factory is None:

        def knowledge_factory() -> object:
            from bot.knowledge.store import knowledge_store_from

            return knowledge_store_from(settings)

    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    if settings.oauth_enabled:
        app = App(
            signing_secret=secret,
            client=client or make_client(settings),
            oauth_settings=_oauth_settings(settings, engine),
            token_verification_enabled=token_verification_enabled,
            process_before_response=False,
            listener_executor=ContextExecutor(max_workers=5, thread_name_prefix="bolt"),
            name="icp-assistant",
        )
    else:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        app = App(  # the token travels in the client (passing both makes Bolt warn)
            signing_secret=secret,
            client=client or make_client(settings, token),
            token_verification_enabled=token_verification_enabled,
            process_before_response=False,
            listener_executor=ContextExecutor(max_workers=5, thread_name_prefix="bolt"),
            name="icp-assistant",
        )
    app.error(on_error)
    app.use(_ignore_other_bots)
    app.use(_once_per_delivery(DeliveryLedger(engine), replays_safely=partial(_replays_safely, engine)))
    ctx = AppContext(
        settings=settings,
        engine=engine,
        knowledge_factory=knowledge_factory,  # type: ignore[arg-type]
        llm_factory=llm_factory,  # type: ignore[arg-type]
        metrics=metrics if metrics is not None else Metrics(),
    )
    register_all(app, ctx)
    return app


def _oauth_settings(settings: Settings, engine: Engine) -> OAuthSettings:
    assert settings.slack_client_secret is not None  # oauth_enabled checked both halves
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=[s.strip() for s in settings.slack_scopes.split(",") if s.strip()],
        redirect_uri=settings.slack_redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=OAUTH_REDIRECT_PATH,
        installation_store=installation_store(settings, engine),
        state_store=oauth_state_store(settings, engine),
        callback_options=install_callbacks(settings, engine),  # the default review reminder
    )


def on_error(error: Exception, body: dict[str, Any], respond: Callable[..., Any] | None) -> None:
    """Bolt's global error handler: log with a reference, apologise where a response_url allows.

    The HTTP status stays Bolt's (200 once acknowledged, else 500). Events and App Home clicks
    have no response_url: their failure is logged only, as a reply there could mislead (an
    interview answer may already be recorded and answered when indexing fails)."""
    report_failure(request_name(body), apologise=privately(respond, body), error=error)


def _replays_safely(engine: Engine, body: dict[str, Any]) -> bool:
    """Interview answers and check-in replies are stored once per event id: a redelivery may pass."""
    return interview_messages.replays_safely(engine, body) or checkin.replays_safely(engine, body)


def _acknowledged() -> BoltResponse:
    return BoltResponse(status=200, body="")


def _ignore_other_bots(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:
    """Bolt drops our own events; messages written by any other bot are dropped here."""
    event = body.get("event") if isinstance(body, dict) else None
    if isinstance(event, dict) and (event.get("bot_id") or event.get("subtype") == "bot_message"):
        return _acknowledged()
    return next()


def _once_per_delivery(
    ledger: DeliveryLedger, *, replays_safely: Callable[[dict[str, Any]], bool]
) -> Callable[..., BoltResponse]:
    """Drop a repeated delivery, unless ``replays_safely`` says its handler applies it once anyway.

    The key is claimed before the work is done, so a first attempt that died in between (no 200,
    so Slack retries) would otherwise lose the request for good; interview answers and check-in
    replies, deduplicated by event id where they are stored, are let through instead."""

    def middleware(
        body: dict[str, Any], context: BoltContext, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        key = delivery_key(body) if isinstance(body, dict) else None
        if key is None:
            return next()
        if isinstance(body.get("command"), str) and not ledger.seen_here(key):
            context[CLAIM_DELIVERY] = partial(claim_once, ledger, key)
            return next()
        if not ledger.claim(key):
            if replays_safely(body):
                log.info("passing on a redelivery of %s: its handler applies it once", key)
                return next()
            log.info("ignoring a redelivery of %s", key)
            return _acknowledged()
        return next()

    return middleware
