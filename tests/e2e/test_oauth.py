"""Multi-workspace OAuth installs end to end: install flow, the stored installation used for
requests, the installer as ICP owner, and removal on ``tokens_revoked`` / ``app_uninstalled``."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from urllib.parse import urlencode

from bot.slack.installations import installation_store
from tests.support.harness import ADMIN_ID, MEMBER_ID, TEAM_ID, SlackEnv, http_request
from tests.support.oauth import INSTALLER, install, installed, skip_without_greenlet

skip_without_greenlet()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


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
