"""Fixtures for the end-to-end tests: the real app over HTTP against a stand-in Slack.

``slack_env`` gives a fresh world per test: a migrated SQLite file (copied from one migrated
once per session), a Chroma folder opened only if a test or the app needs it, the stand-in Web
API, the Bolt app served by uvicorn on a free 127.0.0.1 port, and a driver that sends signed
requests. ``make_slack_env(**settings)`` builds one with other settings (ICP owners, OAuth...).
``module_slack_env`` is one world shared by a whole test module, for many cheap requests.
At teardown every blocks/view the app sent is validated with slack_sdk.models, then everything
is stopped.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import (
    BOT_TOKEN,
    SIGNING_SECRET,
    AppServer,
    SlackDriver,
    SlackEnv,
    StandInSlack,
)

from bot.knowledge.store import KnowledgeStore
from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.server import build_asgi
from bot.store.db import make_engine, upgrade


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


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the head revision, migrated once and copied for each test."""
    path = tmp_path_factory.mktemp("db-template") / "icp.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return path


@pytest.fixture
def stand_in() -> Iterator[StandInSlack]:
    server = StandInSlack().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_slack_env(
    tmp_path: Path, migrated_sqlite_template: Path, stand_in: StandInSlack
) -> Iterator[Callable[..., SlackEnv]]:
    """Factory: ``make_slack_env(icp_owners="U1")`` starts the app with those settings overrides
    (and ``llm_factory=...`` for a language model client)."""
    started: list[SlackEnv] = []

    def make(**overrides: Any) -> SlackEnv:
        env = start_env(tmp_path / f"env{len(started)}", migrated_sqlite_template, stand_in, **overrides)
        started.append(env)
        return env

    try:
        yield make
    finally:
        for env in started:
            stop_env(env)
        stand_in.assert_blocks_valid()


@pytest.fixture
def slack_env(make_slack_env: Callable[..., SlackEnv]) -> SlackEnv:
    """The app with default settings: bot-token mode, no ICP_OWNERS (admins per users.info)."""
    return make_slack_env()


@pytest.fixture(scope="module")
def module_slack_env(
    tmp_path_factory: pytest.TempPathFactory, migrated_sqlite_template: Path
) -> Iterator[SlackEnv]:
    """One default world for a whole module (hypothesis and other many-request tests)."""
    stand_in = StandInSlack().start()
    env = start_env(tmp_path_factory.mktemp("module-env"), migrated_sqlite_template, stand_in)
    try:
        yield env
    finally:
        stop_env(env)
        stand_in.stop()
        stand_in.assert_blocks_valid()
