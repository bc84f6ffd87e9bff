"""`/icp review`: the review kit on demand, over signed HTTP against the stand-in Slack."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.slack.views.review_kit import MARK_REVIEWED, NO_REMINDER_NOTE, SNOOZE_REVIEW, START_REVIEW
from bot.slack.views.score_modal import SCORE_MESSAGE_SHORTCUT
from bot.store.db import session_scope
from bot.store.models import Account
from icp_engine.sample import generate, write_csv
from tests.support.chat_world import seed  # CRM data, statistics, an approved ICP, two answers
from tests.support.harness import ADMIN_ID, MEMBER_ID, RecordedCall, SlackEnv

CHANNEL = "C0GENERAL"


@pytest.fixture(scope="module")
def crm_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_csv(generate(seed=11, n_accounts=400), tmp_path_factory.mktemp("review-crm"))


def kit_posts(env: SlackEnv) -> list[RecordedCall]:
    return [c for c in env.stand_in.calls_to("chat.postMessage") if "Time to review your ICP" in c.all_text()]


def test_review_before_any_data_says_what_to_do_first(slack_env: SlackEnv) -> None:
    text = slack_env.driver.slash_reply("review", user_id=ADMIN_ID, channel_id=CHANNEL).text
    assert "nothing to review yet" in text and "/icp import" in text and "/icp draft" in text
    assert kit_posts(slack_env) == []


def test_members_are_refused(slack_env: SlackEnv) -> None:
    assert "only ICP owners" in slack_env.driver.slash_reply("review", user_id=MEMBER_ID).text


def test_review_posts_the_kit_without_buttons_until_a_reminder_is_set(
    slack_env: SlackEnv, crm_files: dict[str, Path]
) -> None:
    seed(slack_env, crm_files)
    slack_env.driver.slash("review", user_id=ADMIN_ID, channel_id=CHANNEL)
    (kit,) = slack_env.stand_in.wait_for(
        "chat.postMessage", lambda c: "Time to review your ICP" in c.all_text(), timeout=30
    )
    assert kit.params["channel"] == CHANNEL
    shown = kit.all_text()
    assert "Mid-market software" in shown and "Deals per tier" in shown
    # The re-learned proposal: its changes against the active version and both backtests.
    assert "*Re-learned proposal* (on every closed deal) vs v1: " in shown
    assert re.search(r"Backtest on the same \d+ deals: v1 AUC \d\.\d\d.* · proposal AUC \d\.\d\d", shown)
    assert NO_REMINDER_NOTE.split(":")[0] in shown
    assert START_REVIEW not in json.dumps(kit.blocks)

    # With a reminder, the same kit carries the buttons that act on it.
    reply = slack_env.driver.slash_reply("remind quarterly", user_id=ADMIN_ID, channel_id=CHANNEL)
    assert "quarterly" in reply.text.lower()
    slack_env.driver.slash("review", user_id=ADMIN_ID, channel_id=CHANNEL)
    kits = slack_env.stand_in.wait_for(
        "chat.postMessage", lambda c: "Time to review your ICP" in c.all_text(), count=2, timeout=30
    )
    buttons = json.dumps(kits[-1].blocks)
    assert all(action in buttons for action in (START_REVIEW, SNOOZE_REVIEW, MARK_REVIEWED))


def test_a_channel_the_bot_is_not_in_gets_the_figures_privately(
    slack_env: SlackEnv, crm_files: dict[str, Path]
) -> None:
    seed(slack_env, crm_files)

    def not_in_channel(call: RecordedCall) -> dict[str, Any]:
        if call.params.get("channel") == "C0PRIVATE":
            return {"ok": False, "error": "not_in_channel"}
        return {"ok": True, "channel": call.params.get("channel"), "ts": f"{time.time():.6f}"}

    slack_env.stand_in.respond_with("chat.postMessage", not_in_channel)
    reply = slack_env.driver.slash_reply("review", user_id=ADMIN_ID, channel_id="C0PRIVATE", timeout=30)
    assert "can't post in this channel" in reply.text
    assert "Time to review your ICP" in reply.all_text()
    assert START_REVIEW not in json.dumps(reply.blocks)


def test_the_kit_counts_score_cards_given_as_adoption(
    slack_env: SlackEnv, crm_files: dict[str, Path]
) -> None:
    seed(slack_env, crm_files)
    for typed in ("industry=software employees=500 country=US", "industry=retail employees=5 country=DE"):
        assert "/100" in slack_env.driver.slash_reply(f"score {typed}", user_id=MEMBER_ID).all_text()
    with session_scope(slack_env.engine) as session:
        domain = session.exec(select(Account.domain).where(col(Account.domain).is_not(None))).first()
    assert domain
    # a card asked for in chat and one from the message shortcut count as well
    slack_env.driver.message_im(f"why is {domain} tier B?")
    slack_env.stand_in.wait_for("chat.postMessage", lambda c: "/100" in c.all_text(), timeout=30)
    url = slack_env.stand_in.response_url()
    slack_env.driver.message_shortcut(SCORE_MESSAGE_SHORTCUT, f"Call with {domain} today", response_url=url)
    slack_env.stand_in.wait_for("response_url", lambda c: url.endswith(c.path) and "/100" in c.all_text())
    slack_env.driver.slash("review", user_id=ADMIN_ID, channel_id=CHANNEL)
    (kit,) = slack_env.stand_in.wait_for(
        "chat.postMessage", lambda c: "Time to review your ICP" in c.all_text(), timeout=30
    )
    shown = kit.all_text()
    assert re.search(r"\*Adoption\* [^\n]*: 4 score card\(s\) given \(", shown), shown
    assert "; no closed deals" in shown  # every deal closed before the ICP was approved
