"""Reviews that happen, over signed HTTP: "Start a review" DMs each interviewed stakeholder two
check-in questions, whose reply in the DM is collected (thanked, counted in the kit, shown to the
owner in the decision modal, erased by forget); "Mark reviewed" asks for the owner's decision and
note, which the ICP's change log then shows."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
import sqlalchemy as sa

from bot.services.icp.versions import change_log
from bot.slack.views.review_decision import (
    CHECKIN_QUESTIONS,
    DECISION_ACTION,
    DECISION_BLOCK,
    NOTE_ACTION,
    NOTE_BLOCK,
    REVIEW_DECISION,
    checkin_thanks,
)
from bot.slack.views.review_kit import MARK_REVIEWED, START_REVIEW
from bot.store.db import read_scope, session_scope
from bot.store.models import InterviewCreate, InterviewState, StakeholderCreate
from bot.store.repo.interviews import advance_interview, create_interview
from bot.store.repo.stakeholders import get_or_create_stakeholder
from bot.store.repo.workspaces import get_or_create_workspace
from tests.e2e.test_remind import fire_now
from tests.support.harness import ADMIN_ID, MEMBER_ID, RecordedCall, SlackEnv, assert_valid_view
from tests.support.score_world import seed

INTERVIEWED = ("U0SALES", "U0CS")


def add_stakeholders(env: SlackEnv) -> int:
    """Two stakeholders who completed their interview and one who stopped half way."""
    with session_scope(env.engine) as session:
        wid = get_or_create_workspace(session=session, slack_team_id=env.driver.team_id).id
        assert wid is not None
        for user, state in (
            (*INTERVIEWED[:1], InterviewState.completed),
            ("U0HALF", InterviewState.in_progress),
            (INTERVIEWED[1], InterviewState.completed),
        ):
            person = get_or_create_stakeholder(
                session=session, workspace_id=wid, data=StakeholderCreate(slack_user_id=user)
            )
            assert person.id is not None
            interview = create_interview(
                session=session, workspace_id=wid, data=InterviewCreate(stakeholder_id=person.id)
            )
            assert interview.id is not None
            advance_interview(session=session, workspace_id=wid, interview_id=interview.id, state=state)
        return wid


def submit(env: SlackEnv, metadata: str, decision: str | None, note: str = "", user: str = ADMIN_ID) -> Any:
    values: dict[str, Any] = {NOTE_BLOCK: {NOTE_ACTION: {"type": "plain_text_input", "value": note}}}
    if decision is not None:
        values[DECISION_BLOCK] = {
            DECISION_ACTION: {"type": "radio_buttons", "selected_option": {"value": decision}}
        }
    return env.driver.view_submission(REVIEW_DECISION, user=user, private_metadata=metadata, values=values)


def start_a_review(env: SlackEnv, *, response_url: str | None = None) -> tuple[int, str, str]:
    """Seed, fire the reminder, click "Start a review": (reminder id, kit channel, kit ts)."""
    seed(env)
    add_stakeholders(env)
    env.driver.slash_reply("remind weekly <#C0REVOPS|revops>", user_id=ADMIN_ID)
    reminder_id, channel, ts = fire_now(env)
    env.driver.block_actions(
        START_REVIEW,
        value=str(reminder_id),
        user=ADMIN_ID,
        channel=channel,
        message_ts=ts,
        response_url=response_url,
    )
    return reminder_id, channel, ts


def checkin_dms(env: SlackEnv, count: int = 2) -> list[Any]:
    return env.stand_in.wait_for(
        "chat.postMessage",
        lambda c: c.params.get("channel") in (*INTERVIEWED, "U0HALF"),
        count=count,
        timeout=20,
    )


def checkin_rows(env: SlackEnv) -> list[tuple[str, str | None, str | None]]:
    """(person, answer, answering event id) of every stored check-in, by person."""
    with env.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT slack_user_id, answer, slack_event_id FROM review_checkin ORDER BY slack_user_id")
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_start_a_review_dms_each_interviewed_stakeholder_two_questions(slack_env: SlackEnv) -> None:
    reminder_id, channel, ts = start_a_review(slack_env)
    dms = checkin_dms(slack_env)
    assert sorted(str(c.params["channel"]) for c in dms) == sorted(INTERVIEWED)  # not the unfinished one
    for dm in dms:
        assert f"<@{ADMIN_ID}> started a review" in dm.text
        assert all(f"{i}. {q}" in dm.text for i, q in enumerate(CHECKIN_QUESTIONS, start=1))
        assert "reply right here in this DM" in dm.text
    assert checkin_rows(slack_env) == [("U0CS", None, None), ("U0SALES", None, None)]

    # A second click in the same round asks nobody again (the draft's reply comes after the DMs).
    url = slack_env.stand_in.response_url("second-start")
    slack_env.driver.block_actions(
        START_REVIEW, value=str(reminder_id), user=ADMIN_ID, channel=channel, message_ts=ts, response_url=url
    )
    slack_env.stand_in.wait_for("response_url", lambda c: c.path.endswith("second-start"), timeout=60)
    assert len(checkin_dms(slack_env)) == 2
    assert len(checkin_rows(slack_env)) == 2


def test_the_owner_closes_the_review_with_a_decision_in_the_change_log(slack_env: SlackEnv) -> None:
    seed(slack_env)
    slack_env.driver.slash_reply("remind monthly <#C0REVOPS|revops>", user_id=ADMIN_ID)
    reminder_id, channel, ts = fire_now(slack_env)

    # A member gets the owner refusal and no modal.
    url = slack_env.stand_in.response_url("member-done")
    slack_env.driver.block_actions(
        MARK_REVIEWED,
        value=str(reminder_id),
        user=MEMBER_ID,
        channel=channel,
        message_ts=ts,
        response_url=url,
    )
    refusal = slack_env.stand_in.wait_for("response_url", lambda c: c.path.endswith("member-done"))[0]
    assert "only ICP owners" in refusal.text
    assert not slack_env.stand_in.calls_to("views.open")

    slack_env.driver.block_actions(
        MARK_REVIEWED, value=str(reminder_id), user=ADMIN_ID, channel=channel, message_ts=ts
    )
    (opened,) = slack_env.stand_in.wait_for("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert_valid_view(view)
    options = [
        o["value"]
        for b in view["blocks"]
        if b.get("block_id") == DECISION_BLOCK
        for o in b["element"]["options"]
    ]
    assert options == ["keep", "adopt", "edit"]

    missing = submit(slack_env, view["private_metadata"], None)
    assert missing.status == 200 and missing.json()["response_action"] == "errors"
    forged = submit(slack_env, '{"r":"x"}', "keep")
    assert forged.json()["response_action"] == "errors"

    assert (
        submit(slack_env, view["private_metadata"], "adopt", "Wins moved to <fintech> & logistics").status
        == 200
    )
    closed = slack_env.stand_in.wait_for("chat.postMessage", lambda c: "closed the review" in c.text)[0]
    assert closed.params["channel"] == channel and closed.params.get("thread_ts") == ts
    assert "*adopt the re-learned proposal*" in closed.text
    # Adopting drafts the re-learned proposal as v2, in the kit's channel, for approval.
    card = slack_env.stand_in.wait_for(
        "chat.postMessage", lambda c: c.params.get("channel") == channel and "v2" in c.all_text(), timeout=60
    )[0]
    assert "Approve" in card.all_text()
    with read_scope(slack_env.engine) as session:
        wid = get_or_create_workspace(session=session, slack_team_id=slack_env.driver.team_id).id
        assert wid is not None
        drafted = [e for e in change_log(session, wid) if e.action == "icp.drafted"]
    assert [(e.actor, e.version) for e in drafted][-1] == (ADMIN_ID, 2)
    assert "“Wins moved to &lt;fintech&gt; &amp; logistics”" in closed.text  # escaped

    with read_scope(slack_env.engine) as session:
        wid = get_or_create_workspace(session=session, slack_team_id=slack_env.driver.team_id).id
        assert wid is not None
        log = change_log(session, wid)
    (entry,) = [e for e in log if e.action == "icp.reviewed"]
    assert entry.actor == ADMIN_ID and entry.version == 1
    assert entry.text == "reviewed v1, decided: adopt: “Wins moved to <fintech> & logistics”"


SALES_DM, CS_DM = "D0SALES", "D0CS"  # the DM channels driver.message_im uses for U0SALES and U0CS
REPLY = "Retail went worse than predicted; we now win <!channel> fintech & <b>logistics</b> fast."


def dm_posts(env: SlackEnv, channel: str) -> list[str]:
    return [c.text for c in env.stand_in.calls_to("chat.postMessage") if c.params.get("channel") == channel]


@pytest.mark.security
def test_a_check_in_reply_is_collected_once_counted_and_shown_only_to_the_owner(
    slack_env: SlackEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    driver, stand_in = slack_env.driver, slack_env.stand_in
    reminder_id, channel, ts = start_a_review(slack_env)
    checkin_dms(slack_env)

    # The stakeholder answers in the DM: stored, the check-in closed, thanked in the DM.
    reply_ts = "1700000100.000100"
    assert driver.message_im(REPLY, user="U0SALES", ts=reply_ts, event_id="EvCHECKIN01").status == 200
    (thanks,) = stand_in.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SALES_DM)
    assert thanks.text == checkin_thanks(ADMIN_ID)
    assert thanks.text == f"Thanks — I've added this to the review <@{ADMIN_ID}> started."
    assert checkin_rows(slack_env) == [("U0CS", None, None), ("U0SALES", REPLY, "EvCHECKIN01")]

    # Slack redelivers it: applied once, thanked once, and chat does not answer it either.
    again = driver.message_im(REPLY, user="U0SALES", ts=reply_ts, event_id="EvCHECKIN01", retry_num=1)
    assert again.status == 200
    # Their next DM has no open check-in: chat's, which also marks that the earlier ones are done.
    driver.message_im("hello there", user="U0SALES")
    stand_in.wait_for(
        "chat.postMessage",
        lambda c: c.params.get("channel") == SALES_DM and "Ask me about your ICP" in c.text,
    )
    posts = dm_posts(slack_env, SALES_DM)
    assert posts[0] == thanks.text and len(posts) == 2, posts
    assert checkin_rows(slack_env) == [("U0CS", None, None), ("U0SALES", REPLY, "EvCHECKIN01")]

    # The kit (posted in the channel) counts this round's check-ins and never quotes an answer.
    driver.slash("review", user_id=ADMIN_ID, channel_id=channel)
    kits = stand_in.wait_for("chat.postMessage", lambda c: "Time to review your ICP" in c.all_text(), count=2)
    assert kits[-1].params["channel"] == channel
    assert "*Check-ins*: 1 of 2 answered" in kits[-1].all_text()
    assert "fintech" not in kits[-1].all_text()
    assert not [c for c in stand_in.calls_to("chat.postMessage") if "fintech" in c.all_text()]

    # The owner's decision modal shows the answer, escaped, and who has not answered yet.
    driver.block_actions(MARK_REVIEWED, value=str(reminder_id), user=ADMIN_ID, channel=channel, message_ts=ts)
    (opened,) = stand_in.wait_for("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert_valid_view(view)
    shown = json.dumps(view, ensure_ascii=False)
    assert (
        "<@U0SALES>: “Retail went worse than predicted; we now win &lt;!channel&gt; fintech &amp; " in shown
    )
    assert "&lt;b&gt;logistics&lt;/b&gt; fast.”" in shown and "<!channel>" not in shown
    assert "*Check-ins*: 1 of 2 answered" in shown and "Not answered yet: <@U0CS>" in shown
    # The answer never reaches the logs: none of ours at any level, nothing at INFO and above
    # (slack_sdk's own DEBUG lines echo HTTP bodies; production logs at INFO).
    leaked = [
        r.name
        for r in caplog.records
        if "fintech" in (r.getMessage() + str(r.exc_text or ""))
        and (r.name.startswith("bot") or r.levelno >= logging.INFO)
    ]
    assert leaked == []

    # Forgetting the person deletes their check-in, answer and all.
    done = driver.slash_reply("forget <@U0SALES> confirm", user_id=ADMIN_ID, timeout=30)
    assert "Done: erased" in done.text
    assert checkin_rows(slack_env) == [("U0CS", None, None)]


def test_an_active_interview_wins_over_an_open_check_in(slack_env: SlackEnv) -> None:
    driver, stand_in = slack_env.driver, slack_env.stand_in
    start_a_review(slack_env)
    checkin_dms(slack_env)
    invited = driver.slash_reply("interview <@U0CS> role=sales", user_id=ADMIN_ID)
    assert "Invited <@U0CS>" in invited.text

    driver.message_im("Fintechs with big finance teams close fastest.", user="U0CS", channel=CS_DM)
    first = stand_in.wait_for(
        "chat.postMessage", lambda c: c.params.get("channel") == CS_DM and "Question 1 of" in c.all_text()
    )[0]
    assert "Thanks — I've added" not in first.all_text()
    assert not [t for t in dm_posts(slack_env, CS_DM) if t.startswith("Thanks — I've added")]
    assert checkin_rows(slack_env) == [("U0CS", None, None), ("U0SALES", None, None)]  # still open


def test_a_check_in_dm_that_fails_leaves_no_open_check_in_and_is_sent_on_the_next_click(
    slack_env: SlackEnv,
) -> None:
    blocked = {"on": True}

    def cannot_dm_cs(call: RecordedCall) -> dict[str, Any]:
        if blocked["on"] and call.params.get("channel") == "U0CS":
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": call.params.get("channel"), "ts": f"{time.time():.6f}"}

    slack_env.stand_in.respond_with("chat.postMessage", cannot_dm_cs)
    first = slack_env.stand_in.response_url("first-start")
    reminder_id, channel, ts = start_a_review(slack_env, response_url=first)
    slack_env.stand_in.wait_for("response_url", lambda c: c.path.endswith("first-start"), timeout=60)
    assert checkin_rows(slack_env) == [("U0SALES", None, None)]  # U0CS's DM failed: not open

    blocked["on"] = False
    again = slack_env.stand_in.response_url("second-start")
    slack_env.driver.block_actions(
        START_REVIEW,
        value=str(reminder_id),
        user=ADMIN_ID,
        channel=channel,
        message_ts=ts,
        response_url=again,
    )
    slack_env.stand_in.wait_for("response_url", lambda c: c.path.endswith("second-start"), timeout=60)
    sent = [
        c for c in slack_env.stand_in.calls_to("chat.postMessage") if c.params.get("channel") in INTERVIEWED
    ]
    assert [c.params["channel"] for c in sent] == ["U0SALES", "U0CS", "U0CS"]  # failed, then sent once
    assert checkin_rows(slack_env) == [("U0CS", None, None), ("U0SALES", None, None)]
