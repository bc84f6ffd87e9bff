"""The default quarterly review reminder: set up on an OAuth install, or at start in token mode."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlmodel import select

from bot.services.reviews.reminders import get_reminder_state
from bot.slack.on_install import default_for_token_mode
from bot.store.db import session_scope
from bot.store.models import ReviewReminder
from bot.store.models.ops import Cadence
from bot.store.types import utcnow
from tests.support.harness import ADMIN_ID, TEAM_ID, SlackEnv
from tests.support.oauth import INSTALLER, install, skip_without_greenlet

skip_without_greenlet()


def test_an_oauth_install_sets_a_quarterly_reminder_to_the_installer(oauth_env: SlackEnv) -> None:
    oauth_env.stand_in.add_user(INSTALLER, tz="America/New_York")
    assert get_reminder_state(oauth_env.engine, team_id=TEAM_ID) is None
    install(oauth_env)
    state = get_reminder_state(oauth_env.engine, team_id=TEAM_ID)
    assert state is not None
    assert (state.cadence, state.channel_id, state.timezone, state.enabled) == (
        Cadence.quarterly,
        INSTALLER,
        "America/New_York",
        True,
    )
    local = state.next_run_at.astimezone(ZoneInfo("America/New_York"))
    assert (local.hour, local.minute) == (9, 0)
    assert timedelta(days=85) < state.next_run_at - utcnow() < timedelta(days=93)

    # An owner's own choice survives a re-install.
    oauth_env.driver.slash_reply("remind monthly <#C0REVOPS|revops>", user_id=INSTALLER)
    install(oauth_env)
    with session_scope(oauth_env.engine) as session:
        rows = list(session.exec(select(ReviewReminder)))
    assert [(r.cadence, r.channel_id) for r in rows] == [(Cadence.monthly, "C0REVOPS")]


def test_token_mode_sets_the_default_for_the_first_configured_owner(
    make_slack_env: Callable[..., SlackEnv],
) -> None:
    env = make_slack_env(icp_owners=f"{ADMIN_ID},U0OTHER")
    client = WebClient(token="xoxb-e2e", base_url=env.stand_in.api_url)
    created = default_for_token_mode(env.settings, env.engine, client)
    assert created is not None and created.channel_id == ADMIN_ID and created.timezone == "Europe/Berlin"
    assert default_for_token_mode(env.settings, env.engine, client) is None  # once
    state = get_reminder_state(env.engine, team_id=TEAM_ID)
    assert state is not None and state.cadence == Cadence.quarterly
