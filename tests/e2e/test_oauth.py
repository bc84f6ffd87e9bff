"""Multi-workspace OAuth installs end to end: install flow, the stored installation used for
requests, the installer as ICP owner, and removal on ``tokens_revoked`` / ``app_uninstalled``."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from harness import ADMIN_ID, MEMBER_ID, TEAM_ID, RecordedCall, SlackEnv, http_request

from bot.slack.installations import installation_store

pytest.importorskip(
    "greenlet",
    reason="slack_sdk's SQLAlchemy installation store imports sqlalchemy.ext.asyncio, which needs greenlet "
    "(install sqlalchemy[asyncio])",
)

INSTALLER = "U0INSTALLER"
CLIENT_ID = "1111.2222"


def installed(env: SlackEnv) -> Any:
    store = installation_store(env.settings, env.engine)
    assert store is not None
    return store.find_installation(enterprise_id=None, team_id=TEAM_ID)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def install(env: SlackEnv) -> str:
    """Run Slack's OAuth v2 dance against the app; returns the bot token it stored."""
    page = http_request(f"{env.url}/slack/install")
    assert page.status == 200
    match = re.search(r"state=([\w-]+)", page.text)
    assert match, page.text
    state = match.group(1)
    cookie = page.headers["set-cookie"].split(";")[0]
    query = urlencode({"code": "temporary-code", "state": state})
    done = http_request(f"{env.url}/slack/oauth_redirect?{query}", headers={"Cookie": cookie})
    assert done.status == 200, done.text
    installation = installed(env)
    assert installation is not None
    return str(installation.bot_token)


@pytest.fixture
def oauth_env(make_slack_env: Callable[..., SlackEnv]) -> SlackEnv:
    env = make_slack_env(slack_client_id=CLIENT_ID, slack_client_secret="client-secret", slack_bot_token=None)

    def grant(call: RecordedCall) -> dict[str, Any]:
        return {
            "ok": True,
            "app_id": "A0APP",
            "authed_user": {"id": INSTALLER},
            "scope": "commands,chat:write,users:read",
            "token_type": "bot",
            "access_token": f"xoxb-installed-{len(env.stand_in.calls_to('oauth.v2.access'))}",
            "bot_user_id": "U0BOT",
            "team": {"id": TEAM_ID, "name": "E2E"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    env.stand_in.respond_with("oauth.v2.access", grant)
    return env


def test_install_stores_the_workspace_and_requests_use_its_token(oauth_env: SlackEnv) -> None:
    assert installed(oauth_env) is None
    token = install(oauth_env)
    exchange = oauth_env.stand_in.calls_to("oauth.v2.access")
    assert len(exchange) == 1 and exchange[0].params.get("code") == "temporary-code"
    assert installed(oauth_env).user_id == INSTALLER
    # A request from that workspace is served with the installed token.
    reply = oauth_env.driver.slash_reply("import", user_id=ADMIN_ID)
    assert "only ICP owners" not in reply.text
    calls = oauth_env.stand_in.calls_to("users.info")
    assert calls and all(c.headers.get("authorization") == f"Bearer {token}" for c in calls)


def test_install_state_cannot_be_replayed(oauth_env: SlackEnv) -> None:
    page = http_request(f"{oauth_env.url}/slack/install")
    state = re.search(r"state=([\w-]+)", page.text).group(1)  # type: ignore[union-attr]
    cookie = page.headers["set-cookie"].split(";")[0]
    url = f"{oauth_env.url}/slack/oauth_redirect?{urlencode({'code': 'c', 'state': state})}"
    assert http_request(url, headers={"Cookie": cookie}).status == 200
    replay = http_request(url, headers={"Cookie": cookie})
    assert replay.status >= 400
    assert len(oauth_env.stand_in.calls_to("oauth.v2.access")) == 1


def test_the_installer_is_an_icp_owner(oauth_env: SlackEnv) -> None:
    install(oauth_env)
    allowed = oauth_env.driver.slash_reply("import", user_id=INSTALLER)  # not an admin per users.info
    assert "only ICP owners" not in allowed.text
    refused = oauth_env.driver.slash_reply("import", user_id=MEMBER_ID)
    assert "only ICP owners" in refused.text and f"<@{INSTALLER}>" in refused.text


def test_revoked_bot_token_removes_the_installation(oauth_env: SlackEnv) -> None:
    install(oauth_env)
    result = oauth_env.driver.event({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0BOT"]}})
    assert result.status == 200
    wait_until(lambda: installed(oauth_env) is None, "the installation is removed")
    store = installation_store(oauth_env.settings, oauth_env.engine)
    assert store is not None and store.find_bot(enterprise_id=None, team_id=TEAM_ID) is None


def test_revoked_user_tokens_keep_the_bot(oauth_env: SlackEnv) -> None:
    install(oauth_env)
    result = oauth_env.driver.event({"type": "tokens_revoked", "tokens": {"oauth": [INSTALLER], "bot": []}})
    assert result.status == 200
    store = installation_store(oauth_env.settings, oauth_env.engine)
    assert store is not None
    wait_until(
        lambda: (
            store.find_installation(enterprise_id=None, team_id=TEAM_ID, user_id=INSTALLER) is None
            or installed(oauth_env) is None
        ),
        "the user's installation is removed",
    )
    assert store.find_bot(enterprise_id=None, team_id=TEAM_ID) is not None


def test_uninstall_removes_the_installation_and_reinstall_works(oauth_env: SlackEnv) -> None:
    install(oauth_env)
    assert oauth_env.driver.event({"type": "app_uninstalled"}).status == 200
    wait_until(lambda: installed(oauth_env) is None, "the installation is removed")
    token = install(oauth_env)
    assert token.startswith("xoxb-installed-")
