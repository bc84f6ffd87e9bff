"""Slack's OAuth v2 install, driven against the app: the installer, the client id, the dance.

The app in OAuth mode is the ``oauth_env`` fixture of ``tests/e2e/conftest.py``. Its installation
store needs greenlet: test modules that install call :func:`skip_without_greenlet` first.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.slack.installations import installation_store
from tests.support.harness import TEAM_ID, SlackEnv, http_request

INSTALLER = "U0INSTALLER"
CLIENT_ID = "1111.2222"


def installed(env: SlackEnv, *, enterprise_id: str | None = None) -> Any:
    """The workspace's installation, or with ``enterprise_id`` the org-wide one of that org."""
    store = installation_store(env.settings, env.engine)
    assert store is not None
    if enterprise_id is not None:
        return store.find_installation(enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True)
    return store.find_installation(enterprise_id=None, team_id=TEAM_ID)


def install(env: SlackEnv, *, enterprise_id: str | None = None) -> str:
    """Run Slack's OAuth v2 dance against the app; returns the bot token it stored (with
    ``enterprise_id``: the org-wide install of that org the stand-in was told to grant)."""
    run_install(env)
    installation = installed(env, enterprise_id=enterprise_id)
    assert installation is not None
    return str(installation.bot_token)


def run_install(env: SlackEnv) -> None:
    """Slack's OAuth v2 dance against the app: the install page, then the redirect with a code."""
    page = http_request(f"{env.url}/slack/install")
    assert page.status == 200
    match = re.search(r"state=([\w-]+)", page.text)
    assert match, page.text
    state = match.group(1)
    cookie = page.headers["set-cookie"].split(";")[0]
    query = urlencode({"code": "temporary-code", "state": state})
    done = http_request(f"{env.url}/slack/oauth_redirect?{query}", headers={"Cookie": cookie})
    assert done.status == 200, done.text


def skip_without_greenlet() -> None:
    """Skip the calling test module where the SQLAlchemy installation store cannot load."""
    pytest.importorskip(
        "greenlet",
        reason="slack_sdk's SQLAlchemy installation store imports sqlalchemy.ext.asyncio, which needs greenlet "
        "(install sqlalchemy[asyncio])",
    )
