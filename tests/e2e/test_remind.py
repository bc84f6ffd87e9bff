"""``/icp remind`` and the review kit buttons, through the Bolt app over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlmodel import select

from bot.scheduler import run_due, worker_id
from bot.slack.context import AppContext
from bot.slack.views.review_decision import (
    DECISION_ACTION,
    DECISION_BLOCK,
    NOTE_ACTION,
    NOTE_BLOCK,
    REVIEW_DECISION,
)
from bot.slack.views.review_kit import MARK_REVIEWED, SNOOZE_REVIEW, START_REVIEW
from bot.store.db import session_scope
from bot.store.models import ReviewReminder
from bot.store.models.ops import Cadence
from tests.support.harness import ADMIN_ID, MEMBER_ID, SlackEnv

BERLIN = ZoneInfo("Europe/Berlin")  # the stand-in's users.info time zone


def reminders(env: SlackEnv) -> list[ReviewReminder]:
    with session_scope(env.engine) as session:
        return list(session.exec(select(ReviewReminder)))


def test_owner_sets_a_quarterly_reminder_and_everyone_reads_it(slack_env: SlackEnv) -> None:
    driver = slack_env.driver
    assert "No review reminder is set yet" in driver.slash_reply("remind status", user_id=MEMBER_ID).text

    reply = driver.slash_reply("remind quarterly <#C0REVOPS|revops>", user_id=ADMIN_ID).text
    assert "quarterly" in reply and "<#C0REVOPS>" in reply and "Europe/Berlin" in reply
    (row,) = reminders(slack_env)
    assert (row.cadence, row.channel_id, row.timezone, row.enabled) == (
        Cadence.quarterly,
        "C0REVOPS",
        "Europe/Berlin",
        True,
    )
    local = row.next_run_at.astimezone(BERLIN)
    assert (local.hour, local.minute) == (9, 0)
    assert timedelta(days=85) < row.next_run_at - datetime.now(UTC) < timedelta(days=93)

    status = driver.slash_reply("remind status", user_id=MEMBER_ID).text
    assert "quarterly" in status and "<#C0REVOPS>" in status

    refused = driver.slash_reply("remind weekly", user_id=MEMBER_ID).text
    assert "only ICP owners" in refused
    assert reminders(slack_env)[0].cadence == Cadence.quarterly  # unchanged

    weekly = driver.slash_reply("remind weekly me", user_id=ADMIN_ID).text
    assert "weekly" in weekly and f"<@{ADMIN_ID}>" in weekly
    (row,) = reminders(slack_env)  # replaced, not added
    assert (row.cadence, row.channel_id) == (Cadence.weekly, ADMIN_ID)

    off = driver.slash_reply("remind off", user_id=ADMIN_ID).text
    assert "off" in off
    assert reminders(slack_env)[0].enabled is False
    assert "Review reminders are off" in driver.slash_reply("remind", user_id=MEMBER_ID).text


def test_cron_spec_and_channel_by_name(slack_env: SlackEnv) -> None:
    slack_env.stand_in.respond_with(
        "conversations.list",
        lambda call: {
            "ok": True,
            "channels": [{"id": "C0OTHER", "name": "other"}, {"id": "C0REVOPS", "name": "revops"}],
            "response_metadata": {"next_cursor": ""},
        },
    )
    reply = slack_env.driver.slash_reply("remind cron 0 9 1 */3 * #revops", user_id=ADMIN_ID).text
    assert "cron `0 9 1 */3 *`" in reply and "<#C0REVOPS>" in reply
    (row,) = reminders(slack_env)
    assert (row.cadence, row.cron, row.channel_id) == (Cadence.cron, "0 9 1 */3 *", "C0REVOPS")
    local = row.next_run_at.astimezone(BERLIN)
    assert (local.day, local.hour, local.month % 3) == (1, 9, 1)


def test_bad_input_gets_a_clear_answer_and_changes_nothing(slack_env: SlackEnv) -> None:
    driver = slack_env.driver
    assert "'fortnightly' is not a cadence" in driver.slash_reply("remind fortnightly", user_id=ADMIN_ID).text
    assert "5 fields" in driver.slash_reply("remind cron 0 9 * *", user_id=ADMIN_ID).text
    assert (
        "can't find a channel called #nowhere"
        in driver.slash_reply("remind monthly #nowhere", user_id=ADMIN_ID).text
    )
    assert reminders(slack_env) == []


def fire_now(env: SlackEnv) -> tuple[int, str, str]:
    """Run a scheduler pass at the reminder's time; (reminder id, channel, ts) of the kit posted."""
    (row,) = reminders(env)
    assert row.id is not None
    ctx = AppContext(settings=env.settings, engine=env.engine)
    client = WebClient(token="xoxb-e2e", base_url=env.stand_in.api_url)
    report = run_due(
        ctx, clients=lambda _team: client, worker=worker_id(), now=row.next_run_at + timedelta(minutes=1)
    )
    assert report.reviews_sent == 1
    (kit,) = [c for c in env.stand_in.calls_to("chat.postMessage") if "Time to review" in c.text]
    return row.id, str(kit.params["channel"]), "1700000000.000100"


def test_review_kit_buttons_snooze_and_mark_reviewed_owner_only(slack_env: SlackEnv) -> None:
    driver, stand_in = slack_env.driver, slack_env.stand_in
    driver.slash_reply("remind monthly <#C0REVOPS|revops>", user_id=ADMIN_ID)
    reminder_id, channel, ts = fire_now(slack_env)
    assert channel == "C0REVOPS"
    fired_next = reminders(slack_env)[0].next_run_at

    # A member may not snooze: polite refusal on the response_url, nothing changes.
    url = stand_in.response_url("member-snooze")
    driver.block_actions(
        SNOOZE_REVIEW,
        value=str(reminder_id),
        user=MEMBER_ID,
        channel=channel,
        message_ts=ts,
        response_url=url,
    )
    refusal = stand_in.wait_for("response_url", lambda c: c.path.endswith("member-snooze"))[0]
    assert "only ICP owners" in refusal.text
    assert reminders(slack_env)[0].next_run_at == fired_next

    before = datetime.now(UTC)
    driver.block_actions(SNOOZE_REVIEW, value=str(reminder_id), user=ADMIN_ID, channel=channel, message_ts=ts)
    note = stand_in.wait_for("chat.postMessage", lambda c: "snoozed" in c.text)[0]
    assert note.params.get("thread_ts") == ts
    snoozed = reminders(slack_env)[0].next_run_at
    assert (
        before + timedelta(days=7) - timedelta(seconds=5) <= snoozed <= datetime.now(UTC) + timedelta(days=7)
    )

    # "Mark reviewed" asks for the decision in a modal; submitting it closes the review.
    driver.block_actions(MARK_REVIEWED, value=str(reminder_id), user=ADMIN_ID, channel=channel, message_ts=ts)
    (opened,) = stand_in.wait_for("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == REVIEW_DECISION
    driver.view_submission(
        REVIEW_DECISION,
        user=ADMIN_ID,
        private_metadata=view["private_metadata"],
        values={
            DECISION_BLOCK: {
                DECISION_ACTION: {"type": "radio_buttons", "selected_option": {"value": "keep"}}
            },
            NOTE_BLOCK: {NOTE_ACTION: {"type": "plain_text_input", "value": "Still fits"}},
        },
    )
    closed = stand_in.wait_for("chat.postMessage", lambda c: "closed the review" in c.text)[0]
    assert closed.params.get("thread_ts") == ts and "*keep the ICP as it is*" in closed.text
    reviewed = reminders(slack_env)[0].last_reviewed_at
    assert reviewed is not None and reviewed >= before
    assert "Last review" in driver.slash_reply("remind status", user_id=MEMBER_ID).text


def test_start_a_review_runs_the_draft_command_in_the_kit_channel(slack_env: SlackEnv) -> None:
    driver, stand_in = slack_env.driver, slack_env.stand_in
    driver.slash_reply("remind weekly <#C0REVOPS|revops>", user_id=ADMIN_ID)
    reminder_id, channel, ts = fire_now(slack_env)
    url = stand_in.response_url("start-review")
    driver.block_actions(
        START_REVIEW, value=str(reminder_id), user=ADMIN_ID, channel=channel, message_ts=ts, response_url=url
    )
    stand_in.wait_for(
        "chat.postMessage", lambda c: "started the review" in c.text and c.params.get("thread_ts") == ts
    )
    # No CRM data in this workspace: the draft command says what to do first.
    answer = stand_in.wait_for(
        "response_url", lambda c: c.path.endswith("start-review") and "CRM data" in c.text
    )[0]
    assert "/icp import" in answer.text
