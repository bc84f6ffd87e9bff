"""Fixtures for a Slack world: the real app over HTTP against a stand-in Slack (e2e, reliability).

``slack_env`` gives a fresh world per test: a migrated SQLite file (copied from one migrated once
per session), a Chroma folder opened only if a test or the app needs it, the stand-in Web API, the
Bolt app served by uvicorn on a free 127.0.0.1 port, and a driver that sends signed requests.
``make_slack_env(**settings)`` builds one with other settings (ICP owners, OAuth...).
``module_slack_env`` is one world shared by a whole test module, for many cheap requests.
At teardown every blocks/view the app sent is validated with slack_sdk.models, then everything
is stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.store.db import make_engine, upgrade
from tests.support.harness import SlackEnv, StandInSlack
from tests.support.slack_world import start_env, stop_env


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
