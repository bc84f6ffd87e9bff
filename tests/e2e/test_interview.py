"""A DM interview end to end: `/icp interview` → invitation DM → Start → answers in DMs → done.

Everything goes through signed HTTP requests to the app and every Web API call lands on the
stand-in Slack; the blocks of every message are validated at teardown by the fixture.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient

from bot.services.interviews.questions import load_question_set
from bot.slack.context import AppContext
from bot.slack.messaging.interview_reminders import send_due_reminders
from bot.slack.views.interview import START_INTERVIEW
from bot.store import session_scope
from bot.store.models import GtmRole, InterviewState
from bot.store.repo import answers as answers_repo
from bot.store.repo import interviews as interviews_repo
from bot.store.repo import workspaces as workspaces_repo
from bot.store.types import utcnow
from tests.support.harness import ADMIN_ID, BOT_TOKEN, BOT_USER_ID, MEMBER_ID, RecordedCall, SlackEnv

DANA = "U0DANA"
DANA_DM = "D0DANA"  # the stand-in's conversations.open answers D + the user id without its U
SALES = load_question_set(GtmRole.sales)


def posts_to(env: SlackEnv, channel: str) -> list[RecordedCall]:
    return [c for c in env.stand_in.calls_to("chat.postMessage") if c.params.get("channel") == channel]


def wait_post(env: SlackEnv, channel: str, needle: str, *, count: int = 1) -> RecordedCall:
    found = env.stand_in.wait_for(
        "chat.postMessage",
        lambda c: c.params.get("channel") == channel and needle in c.all_text(),
        count=count,
    )
    return found[-1]


def start_button(call: RecordedCall) -> dict[str, Any]:
    buttons = [e for b in call.blocks if b["type"] == "actions" for e in b["elements"]]
    (button,) = [b for b in buttons if b["action_id"] == START_INTERVIEW]
    return button


def stored_answers(env: SlackEnv, team_id: str) -> list[str]:
    with session_scope(env.engine) as session:
        ws = workspaces_repo.get_workspace(session=session, slack_team_id=team_id)
        assert ws is not None and ws.id is not None
        return [a.text for a in answers_repo.list_answers(session=session, workspace_id=ws.id)]


def interview_states(env: SlackEnv, team_id: str) -> list[InterviewState]:
    with session_scope(env.engine) as session:
        ws = workspaces_repo.get_workspace(session=session, slack_team_id=team_id)
        if ws is None or ws.id is None:
            return []
        return [i.state for i in interviews_repo.list_interviews(session=session, workspace_id=ws.id)]


def eventually(check: Any, timeout: float = 15.0) -> None:
    """Wait for work done after the reply (indexing), failing with the last observed value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is True or time.monotonic() > deadline:
            assert value is True, value
            return
        time.sleep(0.05)


def test_full_interview_over_http(slack_env: SlackEnv) -> None:
    env, driver, stand_in = slack_env, slack_env.driver, slack_env.stand_in
    team = driver.team_id

    reply = driver.slash_reply(f"interview <@{DANA}|dana> role=sales", user_id=ADMIN_ID)
    assert f"Invited <@{DANA}> (Sales questions)" in reply.all_text()
    invitation = wait_post(env, DANA_DM, "Start")
    assert (
        f"<@{ADMIN_ID}>" in invitation.all_text() and f"{len(SALES)} short questions" in invitation.all_text()
    )
    button = start_button(invitation)

    # Dana presses Start: the invitation loses its button and question 1 arrives
    result = driver.block_actions(
        START_INTERVIEW, value=button["value"], user=DANA, channel=DANA_DM, message_ts="1700000000.000100"
    )
    assert result.status == 200
    first = wait_post(env, DANA_DM, f"Question 1 of {len(SALES)}")
    assert SALES.questions[0].text in first.all_text()
    (update,) = stand_in.wait_for("chat.update")
    assert update.params["ts"] == "1700000000.000100" and "Interview started" in update.all_text()
    assert not [b for b in update.blocks if b["type"] == "actions"]

    # Things that are not Dana answering are left alone: an edit, a channel message, another bot
    driver.message_im("edited", user=DANA, extra={"subtype": "message_changed"})
    driver.message_im("in a channel", user=DANA, channel="C0GENERAL", extra={"channel_type": "channel"})
    driver.message_im("beep", user="U0OTHERBOT", extra={"bot_id": "B0OTHER"})

    answer_ts = f"{time.time():.6f}"
    first_answer = "Logistics firms with big dispatch teams; they close in a month."
    assert driver.message_im(first_answer, user=DANA, ts=answer_ts, event_id="EvANSWER0001").status == 200
    wait_post(env, DANA_DM, f"Question 2 of {len(SALES)}")
    # Slack redelivers the same event (our ack got lost): no second answer, no second question
    redelivered = driver.message_im(
        first_answer, user=DANA, ts=answer_ts, event_id="EvANSWER0001", retry_num=1
    )
    assert redelivered.status == 200

    thread_ts = "1700000000.000200"
    driver.message_im("skip", user=DANA, thread_ts=thread_ts)
    third = wait_post(env, DANA_DM, f"Question 3 of {len(SALES)}")
    assert third.params.get("thread_ts") == thread_ts  # replies stay in the thread
    assert "Skipped." in third.all_text()

    driver.message_im("A new head of operations, or a failed peak season.", user=DANA)
    wait_post(env, DANA_DM, f"Question 4 of {len(SALES)}")
    driver.message_im("done", user=DANA)
    done = wait_post(env, DANA_DM, "thank you")
    assert f"You answered 2 of {len(SALES)} questions" in done.all_text()

    dana_posts = posts_to(env, DANA_DM)
    assert sum(f"Question 2 of {len(SALES)}" in c.all_text() for c in dana_posts) == 1
    assert not [c for c in stand_in.calls_to("chat.postMessage") if c.params.get("channel") == "C0GENERAL"]
    assert all("beep" not in c.all_text() and "edited" not in c.all_text() for c in dana_posts)
    assert stored_answers(env, team) == [first_answer, "A new head of operations, or a failed peak season."]
    assert interview_states(env, team) == [InterviewState.completed]
    eventually(lambda: env.knowledge().count(workspace=team, kind="answer") == 2 or "answers not indexed yet")
    hits = env.knowledge().search(workspace=team, query="best customers", kinds=["answer"], k=2)
    assert {h.metadata["stakeholder"] for h in hits} == {DANA}
    assert {h.metadata["role"] for h in hits} == {"sales"}

    status = driver.slash_reply("status", user_id=MEMBER_ID)
    text = status.all_text()
    assert "Finished* (1)" in text and f"<@{DANA}> · Sales · 2 of {len(SALES)} answered" in text


def test_members_interview_themselves_but_not_others(slack_env: SlackEnv) -> None:
    env, driver, stand_in = slack_env, slack_env.driver, slack_env.stand_in
    refused = driver.slash_reply(f"interview <@{DANA}>", user_id=MEMBER_ID)
    assert "only ICP owners can invite other people" in refused.all_text()
    assert "/icp interview me" in refused.all_text()
    assert not stand_in.calls_to("conversations.open")

    mine = driver.slash_reply("interview me", user_id=MEMBER_ID)
    assert "Check your DMs" in mine.all_text() and "role=" in mine.all_text()  # tip: pick a role
    member_dm = "D0MEMBER"
    invitation = wait_post(env, member_dm, "Start")
    assert "<@" not in invitation.text  # nobody else asked: the invitation names no one

    # asking again does not start a second interview; it re-sends a way back in
    again = driver.slash_reply("interview me role=product", user_id=MEMBER_ID)
    assert "Resume button" in again.all_text()
    resend = wait_post(env, member_dm, "gentle reminder")
    assert start_button(resend)["value"] == start_button(invitation)["value"]
    assert interview_states(env, driver.team_id) == [InterviewState.pending]

    # writing instead of pressing Start begins the interview with the "other" questions
    driver.message_im("hi", user=MEMBER_ID)
    general = load_question_set(GtmRole.other)
    wait_post(env, member_dm, f"Question 1 of {len(general)}")


def test_bad_commands_explain_and_send_nothing(slack_env: SlackEnv) -> None:
    driver, stand_in = slack_env.driver, slack_env.stand_in
    for text, expected in [
        ("interview", "Whom should I interview?"),
        ("interview @nobody-here", "couldn't find anyone called `@nobody-here`"),
        (f"interview <@{DANA}> role=ninja", "I don't know the role `ninja`"),
        (f"interview <@{DANA}> role=sales role=product", "Give `role=` once"),
        (f"interview <@{DANA}> please", "I didn't understand `please`"),
    ]:
        assert expected in driver.slash_reply(text, user_id=ADMIN_ID).all_text(), text
    bot = driver.slash_reply(f"interview <@{BOT_USER_ID}>", user_id=ADMIN_ID)
    assert "bots don't get interviewed" in bot.all_text()
    assert not stand_in.calls_to("conversations.open")
    assert not stand_in.calls_to("chat.postMessage")
    assert interview_states(slack_env, driver.team_id) == []


def test_failed_invitation_leaves_nothing_open(slack_env: SlackEnv) -> None:
    env, driver, stand_in = slack_env, slack_env.driver, slack_env.stand_in
    stand_in.respond_with("chat.postMessage", lambda call: {"ok": False, "error": "not_in_channel"})
    reply = driver.slash_reply(f"interview <@{DANA}>", user_id=ADMIN_ID)
    assert f"Could not invite <@{DANA}>" in reply.all_text() and "not_in_channel" in reply.all_text()
    assert interview_states(env, driver.team_id) == [InterviewState.abandoned]
    assert "No interviews yet" in driver.slash_reply("status").all_text()

    del stand_in.responders["chat.postMessage"]
    retry = driver.slash_reply(f"interview <@{DANA}>", user_id=ADMIN_ID)
    assert f"Invited <@{DANA}>" in retry.all_text()
    wait_post(env, DANA_DM, "Start")


def test_reminder_dm_and_resume_button(slack_env: SlackEnv) -> None:
    env, driver, stand_in = slack_env, slack_env.driver, slack_env.stand_in
    driver.slash_reply(f"interview <@{DANA}> role=sales", user_id=ADMIN_ID)
    invitation = wait_post(env, DANA_DM, "Start")
    driver.block_actions(START_INTERVIEW, value=start_button(invitation)["value"], user=DANA, channel=DANA_DM)
    wait_post(env, DANA_DM, "Question 1 of")
    driver.message_im("Mid-size logistics companies.", user=DANA)
    wait_post(env, DANA_DM, "Question 2 of")

    ctx = AppContext(settings=env.settings, engine=env.engine)
    client = WebClient(token=BOT_TOKEN, base_url=stand_in.api_url)
    assert send_due_reminders(ctx=ctx, client=client).sent == 0  # nobody has been quiet for 48 h
    three_days = utcnow() + timedelta(days=3)
    run = send_due_reminders(ctx=ctx, client=client, now=three_days)
    assert (run.sent, run.failed) == (1, 0)
    assert send_due_reminders(ctx=ctx, client=client, now=three_days).sent == 0  # once per window
    reminder = wait_post(env, DANA_DM, "gentle reminder")
    assert "question 2 of" in reminder.all_text()

    button = start_button(reminder)
    assert button["text"]["text"] == "Resume"
    driver.block_actions(START_INTERVIEW, value=button["value"], user=DANA, channel=DANA_DM)
    wait_post(env, DANA_DM, f"Question 2 of {len(SALES)}", count=2)
    # someone else's click on Dana's button does nothing
    before = len(posts_to(env, "D0MEMBER")) + len(posts_to(env, DANA_DM))
    driver.block_actions(START_INTERVIEW, value=button["value"], user=MEMBER_ID, channel="D0MEMBER")
    driver.message_im("Churn comes from tiny shops.", user=DANA)
    wait_post(env, DANA_DM, f"Question 3 of {len(SALES)}")
    assert len(posts_to(env, "D0MEMBER")) + len(posts_to(env, DANA_DM)) == before + 1
