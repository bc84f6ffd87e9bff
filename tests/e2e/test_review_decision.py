"""Reviews that happen, over signed HTTP: "Start a review" DMs each interviewed stakeholder two
check-in questions; "Mark reviewed" asks for the owner's decision and note, which the ICP's change
log then shows."""

from __future__ import annotations

import json
from typing import Any

from bot.services.icp.versions import change_log
from bot.slack.views.review_decision import (
    CHECKIN_QUESTIONS,
    DECISION_ACTION,
    DECISION_BLOCK,
    NOTE_ACTION,
    NOTE_BLOCK,
    REVIEW_DECISION,
)
from bot.slack.views.review_kit import MARK_REVIEWED, START_REVIEW
from bot.store.db import read_scope, session_scope
from bot.store.models import InterviewCreate, InterviewState, StakeholderCreate
from bot.store.repo.interviews import advance_interview, create_interview
from bot.store.repo.stakeholders import get_or_create_stakeholder
from bot.store.repo.workspaces import get_or_create_workspace
from tests.e2e.test_remind import fire_now
from tests.support.harness import ADMIN_ID, MEMBER_ID, SlackEnv, assert_valid_view
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


def test_start_a_review_dms_each_interviewed_stakeholder_two_questions(slack_env: SlackEnv) -> None:
    seed(slack_env)
    add_stakeholders(slack_env)
    slack_env.driver.slash_reply("remind weekly <#C0REVOPS|revops>", user_id=ADMIN_ID)
    reminder_id, channel, ts = fire_now(slack_env)
    slack_env.driver.block_actions(
        START_REVIEW, value=str(reminder_id), user=ADMIN_ID, channel=channel, message_ts=ts
    )
    dms = slack_env.stand_in.wait_for(
        "chat.postMessage", lambda c: c.params.get("channel") in (*INTERVIEWED, "U0HALF"), count=2, timeout=20
    )
    assert sorted(str(c.params["channel"]) for c in dms) == sorted(INTERVIEWED)  # not the unfinished one
    for dm in dms:
        assert f"<@{ADMIN_ID}> started a review" in dm.text
        assert all(f"{i}. {q}" in dm.text for i, q in enumerate(CHECKIN_QUESTIONS, start=1))


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
    assert "“Wins moved to &lt;fintech&gt; &amp; logistics”" in closed.text  # escaped

    with read_scope(slack_env.engine) as session:
        wid = get_or_create_workspace(session=session, slack_team_id=slack_env.driver.team_id).id
        assert wid is not None
        log = change_log(session, wid)
    (entry,) = [e for e in log if e.action == "icp.reviewed"]
    assert entry.actor == ADMIN_ID and entry.version == 1
    assert entry.text == "reviewed v1, decided: adopt: “Wins moved to <fintech> & logistics”"
