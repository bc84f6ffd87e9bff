"""One Slack world: the real app over HTTP against a stand-in Slack, as the e2e tests serve it.

:func:`start_env` copies a migrated SQLite file, builds the Bolt app with the given settings, serves
it with uvicorn on a free 127.0.0.1 port and hands back a :class:`SlackEnv` with a signed-request
driver; :func:`stop_env` stops it. The fixtures in ``tests.support.plugins.slack_world`` and the
Slack load benchmark both build their worlds here.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.knowledge.store import KnowledgeStore
from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.server import build_asgi
from bot.store.db import make_engine
from tests.support.harness import (
    BOT_TOKEN,
    SIGNING_SECRET,
    AppServer,
    SlackDriver,
    SlackEnv,
    StandInSlack,
)


def start_env(
    root: Path,
    template: Path,
    stand_in: StandInSlack,
    *,
    llm_factory: Callable[[], Any] | None = None,
    **overrides: Any,
) -> SlackEnv:
    """Copy the migrated database into ``root``, build the app with ``overrides`` and serve it.

    ``llm_factory`` gives the app its language model client (e.g. one over ``QueueChatModel``);
    unset, the client comes from settings, which here means offline."""
    root.mkdir(parents=True, exist_ok=True)
    db_path = root / "icp.db"
    shutil.copyfile(template, db_path)
    values: dict[str, Any] = {
        "data_dir": root,
        "database_url": f"sqlite:///{db_path}",
        "chroma_path": root / "chroma",
        "chroma_host": None,
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_app_token": None,
        "slack_client_id": None,
        "slack_client_secret": None,
        "slack_api_url": stand_in.api_url,
        "icp_owners": None,
        "openai_api_key": None,
    }
    values.update(overrides)
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    engine = make_engine(settings.resolved_database_url)
    holder: list[SlackEnv] = []

    def knowledge_factory() -> KnowledgeStore:
        return holder[0].knowledge()

    app = build_app(settings, engine=engine, knowledge_factory=knowledge_factory, llm_factory=llm_factory)
    server = AppServer(build_asgi(app, engine=engine, signing_secret=SIGNING_SECRET)).start()
    env = SlackEnv(
        settings=settings,
        engine=engine,
        stand_in=stand_in,
        app=app,
        server=server,
        driver=SlackDriver(server.url, stand_in),
        knowledge_path=root / "chroma",
    )
    holder.append(env)
    return env


def stop_env(env: SlackEnv) -> None:
    env.server.stop()
    env.engine.dispose()
