"""The platform's own subcommands on stored data: show, personas and forget, end to end."""

from __future__ import annotations

import sqlalchemy as sa

from bot.knowledge.store import Document
from bot.store.db import session_scope
from bot.store.models import AnswerCreate, IcpVersionCreate, InterviewCreate, PersonaCreate, StakeholderCreate
from bot.store.repo.answers import record_answer
from bot.store.repo.icp import create_icp_draft, replace_personas
from bot.store.repo.interviews import create_interview
from bot.store.repo.stakeholders import get_or_create_stakeholder
from bot.store.repo.workspaces import get_or_create_workspace
from tests.support.harness import ADMIN_ID, MEMBER_ID, TEAM_ID, SlackEnv

PERSON = "U0ANA"
ICP_V1 = {
    "name": "Mid-market SaaS",
    "description": "B2B software companies with a sales team",
    "criteria": [
        {"attribute": "industry", "op": "eq", "values": ["software"], "points": 30},
        {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 25},
    ],
    "disqualifiers": [
        {"attribute": "country", "op": "eq", "values": ["XX"], "reason": "we cannot sell there"}
    ],
}


def seed_answers(env: SlackEnv) -> None:
    with session_scope(env.engine) as session:
        ws = get_or_create_workspace(session=session, slack_team_id=TEAM_ID)
        person = get_or_create_stakeholder(
            session=session,
            workspace_id=ws.id,
            data=StakeholderCreate(slack_user_id=PERSON, display_name="Ana"),
        )
        interview = create_interview(
            session=session, workspace_id=ws.id, data=InterviewCreate(stakeholder_id=person.id)
        )
        for i, text in enumerate(["Fintechs with 200+ staff buy fastest", "Retail churns after a year"]):
            record_answer(
                session=session,
                workspace_id=ws.id,
                data=AnswerCreate(slack_event_id=f"Ev{i}", text=text, interview_id=interview.id),
            )
    env.knowledge().add_documents(
        workspace=TEAM_ID,
        docs=[
            Document(
                kind="answer", source_id="1", text="Fintechs with 200+ staff buy fastest", stakeholder=PERSON
            ),
            Document(kind="answer", source_id="2", text="Retail churns after a year", stakeholder=PERSON),
            Document(kind="answer", source_id="3", text="Agencies never renew", stakeholder="U0BEN"),
        ],
    )


def answers_of(env: SlackEnv) -> int:
    with env.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM answer")).scalar_one()


def test_forget_erases_sql_and_vectors_after_confirmation(slack_env: SlackEnv) -> None:
    seed_answers(slack_env)
    asked = slack_env.driver.slash_reply(f"forget <@{PERSON}>", user_id=ADMIN_ID)
    assert "confirm" in asked.text and answers_of(slack_env) == 2
    done = slack_env.driver.slash_reply(f"forget <@{PERSON}|ana> confirm", user_id=ADMIN_ID, timeout=30)
    assert "erased 2 answer(s)" in done.text and "2 search index entries" in done.text
    assert answers_of(slack_env) == 0
    hits = slack_env.knowledge().search(workspace=TEAM_ID, query="customers", k=10)
    assert [h.metadata.get("stakeholder") for h in hits] == ["U0BEN"]
    with slack_env.engine.connect() as conn:
        audit = conn.execute(sa.text("SELECT actor, action, target_id FROM audit_log")).all()
    assert (ADMIN_ID, "stakeholder.forget", PERSON) in [tuple(row) for row in audit]
    again = slack_env.driver.slash_reply("forget <@U0NOBODY> confirm", user_id=ADMIN_ID)
    assert "nothing to erase" in again.text


def test_show_renders_the_newest_version_and_older_ones_on_request(slack_env: SlackEnv) -> None:
    with session_scope(slack_env.engine) as session:
        ws = get_or_create_workspace(session=session, slack_team_id=TEAM_ID)
        v1 = create_icp_draft(
            session=session,
            workspace_id=ws.id,
            data=IcpVersionCreate(name="Mid-market SaaS", icp_json=ICP_V1, author=ADMIN_ID),
        )
        replace_personas(
            session=session,
            workspace_id=ws.id,
            icp_version_id=v1.id,
            personas=[
                PersonaCreate(name="VP Sales", persona_json={"role": "Sales leader", "goals": ["pipeline"]})
            ],
        )
        v2_json = {**ICP_V1, "name": "Mid-market SaaS, EU"}
        create_icp_draft(
            session=session,
            workspace_id=ws.id,
            data=IcpVersionCreate(name="EU", icp_json=v2_json, author=ADMIN_ID),
        )
    # Both versions are drafts: an ICP owner reads them (tests/e2e/test_privacy.py: members cannot).
    newest = slack_env.driver.slash_reply("show", user_id=ADMIN_ID).all_text()
    assert "Mid-market SaaS, EU" in newest and "v2" in newest
    assert "+30" in newest and "industry" in newest and "we cannot sell there" in newest
    older = slack_env.driver.slash_reply("show v1", user_id=ADMIN_ID).all_text()
    assert "ICP: Mid-market SaaS (v1, draft)" in older
    assert "There is no version 7" in slack_env.driver.slash_reply("show 7").text
    # Personas belong to v1; the newest version (v2) has none yet.
    assert "No personas yet" in slack_env.driver.slash_reply("personas").text


def test_a_dm_outside_any_interview_goes_to_the_assistant_not_an_interview(slack_env: SlackEnv) -> None:
    result = slack_env.driver.message_im("hello there", user=MEMBER_ID)
    assert result.status == 200  # not 404: Slack would retry an event it thinks failed
    (reply,) = slack_env.stand_in.wait_for("chat.postMessage")
    assert "Ask me about your ICP" in reply.text  # chat's how-to-ask (tests/e2e/test_chat.py)
    assert answers_of(slack_env) == 0
