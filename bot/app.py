"""The app factory: `build_app(settings, ...)` returns a configured `slack_bolt.App`.

Listeners live in `bot/listeners/<kind>/` and each module exposes `register(app, ctx)`. The
Web API base URL comes from settings (GovSlack, proxies, the e2e stand-in server), and the
client retries on rate limits (Retry-After) and transient server errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy.engine import Engine

from bot.context import AppContext
from bot.settings import Settings

log = logging.getLogger(__name__)


def make_client(settings: Settings, token: str | None = None) -> WebClient:
    client = WebClient(token=token, base_url=settings.slack_api_url, timeout=10)
    client.retry_handlers.extend(
        [
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ]
    )
    return client


def build_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    knowledge_factory: Callable[[], object] | None = None,
    client: WebClient | None = None,
    token_verification_enabled: bool = False,
) -> App:
    """Build the Bolt app. Without `engine` the configured database is opened (and upgraded)."""
    from bot.listeners import register_all
    from bot.store.db import connect

    if engine is None:
        engine = connect(settings.resolved_database_url)
    if knowledge_factory is None:

        def knowledge_factory() -> object:
            from bot.knowledge.store import knowledge_store_from

            return knowledge_store_from(settings)

    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app = App(
        token=token,
        signing_secret=secret,
        client=client or make_client(settings, token),
        token_verification_enabled=token_verification_enabled,
        process_before_response=False,
        name="icp-assistant",
    )
    ctx = AppContext(settings=settings, engine=engine, knowledge_factory=knowledge_factory)  # type: ignore[arg-type]
    register_all(app, ctx)
    return app
