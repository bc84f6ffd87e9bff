"""Fixtures of the e2e tier only; the Slack world itself comes from ``tests.support.plugins``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.harness import TEAM_ID, RecordedCall, SlackEnv
from tests.support.oauth import CLIENT_ID, INSTALLER


@pytest.fixture
def oauth_env(make_slack_env: Callable[..., SlackEnv]) -> SlackEnv:
    """The app in OAuth mode (client id and secret, no bot token); the stand-in grants installs."""
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
