"""Tokens encrypted at rest (TOKEN_ENCRYPTION_KEY), and what an uninstall or a dead token stops:
the workspace's tokens, its review reminders (disabled) and its interview nudges, without retries."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from slack_sdk import WebClient
from sqlalchemy import text
from sqlmodel import Session, select

from bot.scheduler import run_due, worker_id
from bot.scheduler.clients import client_factory
from bot.settings import Settings
from bot.slack import installations
from bot.slack.context import AppContext
from bot.slack.messaging.interview_reminders import send_due_reminders
from bot.store.models import AuditEntry, ReviewReminder
from bot.store.types import utcnow
from tests.support.harness import ADMIN_ID, BOT_TOKEN, TEAM_ID, RecordedCall, SlackEnv
from tests.support.oauth import CLIENT_ID, INSTALLER, install, installed, skip_without_greenlet

skip_without_greenlet()

DANA = "U0DANA"


def oauth_world(make_slack_env: Callable[..., SlackEnv], **overrides: Any) -> SlackEnv:
    """The app in OAuth mode; installs grant rotating bot and user tokens (refresh tokens too)."""
    env = make_slack_env(
        slack_client_id=CLIENT_ID, slack_client_secret="client-secret", slack_bot_token=None, **overrides
    )

    def grant(call: RecordedCall) -> dict[str, Any]:
        n = len(env.stand_in.calls_to("oauth.v2.access"))
        return {
            "ok": True,
            "app_id": "A0APP",
            "authed_user": {
                "id": INSTALLER,
                "access_token": f"xoxp-usertoken-{n}",
                "refresh_token": f"xoxe-1-userrefresh-{n}",
                "expires_in": 43200,
                "scope": "users:read",
                "token_type": "user",
            },
            "scope": "commands,chat:write,users:read",
            "token_type": "bot",
            "access_token": f"xoxb-installed-{n}",
            "refresh_token": f"xoxe-1-botrefresh-{n}",
            "expires_in": 43200,
            "bot_user_id": "U0BOT",
            "team": {"id": TEAM_ID, "name": "E2E"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    env.stand_in.respond_with("oauth.v2.access", grant)
    return env


def raw_token_rows(env: SlackEnv) -> list[str]:
    with env.engine.connect() as conn:
        rows = [
            *conn.execute(text("SELECT * FROM slack_installations")).mappings(),
            *conn.execute(text("SELECT * FROM slack_bots")).mappings(),
        ]
    return [" ".join(str(value) for value in row.values()) for row in rows]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def reminders(env: SlackEnv) -> list[ReviewReminder]:
    with Session(env.engine) as session:
        return list(session.exec(select(ReviewReminder)))


# --- tokens at rest ------------------------------------------------------------------------------


def test_tokens_are_encrypted_at_rest_and_installs_still_work(
    make_slack_env: Callable[..., SlackEnv],
) -> None:
    env = oauth_world(make_slack_env, token_encryption_key=Fernet.generate_key().decode())
    token = install(env)
    assert token == "xoxb-installed-0"  # found and decrypted
    rows = raw_token_rows(env)
    assert rows and all("fernet:" in row for row in rows)
    for secret in ("xoxb-installed", "xoxp-usertoken", "xoxe-1-"):
        assert not any(secret in row for row in rows), secret
    assert installed(env).user_token == "xoxp-usertoken-0"
    assert installed(env).bot_refresh_token == "xoxe-1-botrefresh-0"

    # Requests are served with the decrypted token, and a second install works the same way.
    reply = env.driver.slash_reply("import", user_id=INSTALLER)
    assert "only ICP owners" not in reply.text
    calls = env.stand_in.calls_to("users.info")
    assert calls and calls[-1].headers.get("authorization") == "Bearer xoxb-installed-0"
    assert install(env) == "xoxb-installed-1"
    assert not any("xoxb-installed" in row for row in raw_token_rows(env))


def test_plain_rows_from_before_the_key_still_read(make_slack_env: Callable[..., SlackEnv]) -> None:
    env = oauth_world(make_slack_env)
    install(env)
    assert any("xoxb-installed-0" in row for row in raw_token_rows(env))  # no key: stored as sent
    keyed = env.settings.model_copy(
        update={"token_encryption_key": SecretStr(Fernet.generate_key().decode())}
    )
    store = installations.installation_store(keyed, env.engine)
    assert store is not None
    bot = store.find_bot(enterprise_id=None, team_id=TEAM_ID)
    assert bot is not None and bot.bot_token == "xoxb-installed-0"


def test_a_malformed_key_is_refused_without_showing_it(tmp_path: Any) -> None:
    settings = Settings(
        slack_client_id=CLIENT_ID,
        slack_client_secret=SecretStr("client-secret"),
        token_encryption_key=SecretStr("not-a-fernet-key-but-secret"),
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
    )
    with pytest.raises(installations.OAuthUnavailable) as refused:
        installations.token_cipher(settings)
    assert "TOKEN_ENCRYPTION_KEY is not a Fernet key" in str(refused.value)
    assert "not-a-fernet-key" not in str(refused.value)


def test_no_key_warns_loudly_in_oauth_mode(oauth_env: SlackEnv, caplog: pytest.LogCaptureFixture) -> None:
    installations._warn_plain_tokens.cache_clear()
    with caplog.at_level(logging.WARNING, logger="bot.slack.installations"):
        installations.installation_store(oauth_env.settings, oauth_env.engine)
    assert any(
        r.levelno == logging.WARNING and "TOKEN_ENCRYPTION_KEY is not set" in r.getMessage()
        for r in caplog.records
    )


# --- uninstall ------------------------------------------------------------------------------------


def test_uninstall_deletes_tokens_and_stops_reminders(oauth_env: SlackEnv) -> None:
    env, driver = oauth_env, oauth_env.driver
    install(env)
    driver.slash_reply("remind monthly <#C0REVOPS|revops>", user_id=INSTALLER)
    invited = driver.slash_reply(f"interview <@{DANA}> role=sales", user_id=INSTALLER)
    assert "only ICP owners" not in invited.text
    (reminder,) = reminders(env)
    assert reminder.enabled

    assert driver.event({"type": "app_uninstalled"}).status == 200
    wait_until(lambda: installed(env) is None, "the installation is removed")
    wait_until(lambda: not reminders(env)[0].enabled, "the review reminder is disabled")
    store = installations.installation_store(env.settings, env.engine)
    assert store is not None and store.find_bot(enterprise_id=None, team_id=TEAM_ID) is None
    with Session(env.engine) as session:
        actions = [(e.action, e.actor, e.details) for e in session.exec(select(AuditEntry))]
    assert ("reminder.off", "system", {"reason": "uninstalled"}) in actions

    # Long after: nothing is due, nothing is sent or retried, nobody gets a nudge.
    ctx = AppContext(settings=env.settings, engine=env.engine)
    later = reminder.next_run_at + timedelta(days=3)
    posts_before = len(env.stand_in.calls_to("chat.postMessage"))
    report = run_due(ctx, clients=client_factory(env.settings, env.engine), worker=worker_id(), now=later)
    assert (report.reviews_sent, report.reviews_failed) == (0, 0)
    assert report.interviews is not None and (report.interviews.sent, report.interviews.failed) == (0, 0)
    assert len(env.stand_in.calls_to("chat.postMessage")) == posts_before

    # Installed again: interview nudges resume; the review reminder waits for an owner to turn it on.
    install(env)
    nudges = send_due_reminders(ctx=ctx, client=client_factory(env.settings, env.engine), now=later)
    assert nudges.sent == 1
    assert not reminders(env)[0].enabled


@pytest.mark.parametrize("error", ["account_inactive", "invalid_auth", "token_revoked", "not_authed"])
def test_a_dead_token_stops_the_reminder_instead_of_retrying(slack_env: SlackEnv, error: str) -> None:
    env = slack_env
    env.driver.slash_reply("remind monthly <#C0REVOPS|revops>", user_id=ADMIN_ID)
    (row,) = reminders(env)
    env.stand_in.respond_with("chat.postMessage", lambda call: {"ok": False, "error": error})
    ctx = AppContext(settings=env.settings, engine=env.engine)
    client = WebClient(token=BOT_TOKEN, base_url=env.stand_in.api_url)
    first = run_due(
        ctx, clients=lambda _t: client, worker=worker_id(), now=row.next_run_at + timedelta(minutes=1)
    )
    assert first.reviews_failed == 1
    assert not reminders(env)[0].enabled
    tries = len(env.stand_in.calls_to("chat.postMessage"))
    again = run_due(
        ctx, clients=lambda _t: client, worker=worker_id(), now=row.next_run_at + timedelta(days=2)
    )
    assert (again.reviews_sent, again.reviews_failed) == (0, 0)
    assert len(env.stand_in.calls_to("chat.postMessage")) == tries  # not retried


def test_a_passing_failure_is_still_retried(slack_env: SlackEnv) -> None:
    env = slack_env
    env.driver.slash_reply("remind monthly <#C0REVOPS|revops>", user_id=ADMIN_ID)
    (row,) = reminders(env)
    env.stand_in.respond_with("chat.postMessage", lambda call: {"ok": False, "error": "internal_error"})
    ctx = AppContext(settings=env.settings, engine=env.engine)
    client = WebClient(token=BOT_TOKEN, base_url=env.stand_in.api_url)
    report = run_due(
        ctx, clients=lambda _t: client, worker=worker_id(), now=row.next_run_at + timedelta(minutes=1)
    )
    assert report.reviews_failed == 1
    assert reminders(env)[0].enabled  # backed off, tried again later


def test_revoked_bot_tokens_stop_reminders_in_token_mode(slack_env: SlackEnv) -> None:
    env = slack_env
    env.driver.slash_reply("remind monthly <#C0REVOPS|revops>", user_id=ADMIN_ID)
    assert (
        env.driver.event({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0BOT"]}}).status == 200
    )
    wait_until(lambda: not reminders(env)[0].enabled, "the review reminder is disabled")
    assert utcnow() < reminders(env)[0].next_run_at  # schedule kept for a later re-enable
