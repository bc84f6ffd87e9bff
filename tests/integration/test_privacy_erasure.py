"""Erasure leaves nothing behind: not a late vector, not a quote an LLM or editor copied into a draft.

Real stores (SQLite and PostgreSQL, embedded Chroma), the real interview and chat code paths, and
the LLM stand-in (``QueueChatModel``) writing a draft that quotes an answer verbatim.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine

from bot.knowledge.store import KnowledgeStore
from bot.llm.client import LlmClient
from bot.llm.fake import QueueChatModel
from bot.services.chat.answer import answer_question
from bot.services.icp.drafting import draft_icp
from bot.services.interviews import conversation
from bot.services.knowledge.sync import reindex
from bot.services.privacy.forget import forget_person
from bot.services.redaction import REMOVED
from bot.store import session_scope
from bot.store.models import GtmRole
from bot.store.repo import icp as icp_repo
from tests.support.knowledge_fixtures import add_answers, insert_crm, new_workspace, sample_crm

SECRET = "Our churn comes from the Zephyr migration nobody finished on time."


@pytest.mark.security
def test_an_answer_forgotten_before_it_is_indexed_is_never_served_by_chat(
    store_engine: Engine, knowledge: KnowledgeStore
) -> None:
    team, _ = new_workspace(store_engine)
    invitation = conversation.invite(
        engine=store_engine, team_id=team, user_id="U_LEAVER", invited_by="U_OWNER", role=GtmRole.sales
    )
    conversation.start(
        engine=store_engine, team_id=team, user_id="U_LEAVER", interview_id=invitation.interview_id
    )
    # 1. the answer is committed before the ack (the listener's middleware does exactly this)
    turn = conversation.handle_message(
        engine=store_engine, team_id=team, user_id="U_LEAVER", text=SECRET, event_id="Ev-window"
    )
    assert turn.document is not None
    # 2. the person is forgotten while the next question is being posted
    forget_person(
        engine=store_engine, knowledge=knowledge, workspace=team, slack_user_id="U_LEAVER", actor="U_OWNER"
    )
    # 3. then the listener indexes the turn it still holds: the window leaves a vector behind
    assert conversation.index_turn(knowledge=knowledge, team_id=team, turn=turn)
    assert knowledge.count(workspace=team, kind="answer") == 1
    # chat must not serve it, whoever asks and however the question is worded
    for question in ("what causes churn?", "tell me about the Zephyr migration"):
        reply = answer_question(
            engine=store_engine, knowledge=knowledge, llm=None, team_id=team, text=question
        )
        shown = json.dumps([(e.id, e.text, e.source) for e in reply.cited])
        assert "Zephyr" not in shown and "U_LEAVER" not in shown, reply


def test_quotes_and_names_an_llm_copied_into_a_draft_are_scrubbed(
    store_engine: Engine, knowledge: KnowledgeStore
) -> None:
    data = sample_crm()
    team, ws = new_workspace(store_engine)
    insert_crm(store_engine, ws, accounts=data.accounts, deals=data.deals, health=data.health)
    with session_scope(store_engine) as session:
        leaver = add_answers(session, ws, "U_LEAVER", [SECRET], question_key="churn")
        other = add_answers(session, ws, "U_STAYS", ["Software companies with support teams buy fastest."])
    reindex(engine=store_engine, knowledge=knowledge, workspace=team)
    # The model quotes the leaver verbatim and names them, while citing only the other person.
    fake = QueueChatModel(
        responses=[
            {
                "name": "Support-heavy software",
                "narrative": "Buyers with support teams.",
                "criteria": [
                    {
                        "attribute": "support team size",
                        "op": "gte",
                        "values": ["20"],
                        "evidence": [f"ans:{other[0]}"],
                        "rationale": f'As U_LEAVER put it: "{SECRET}"',
                    }
                ],
                "personas": [],
                "pains": [
                    {"text": f"Name of U_LEAVER says: {SECRET.lower()}", "evidence": [f"ans:{other[0]}"]}
                ],
                "goals": [],
                "triggers": [],
                "disqualifiers": [],
            }
        ]
    )
    outcome = draft_icp(
        engine=store_engine, knowledge=knowledge, llm=LlmClient(fake), workspace=team, author="U_OWNER"
    )
    assert leaver
    with session_scope(store_engine) as session:
        row = icp_repo.get_icp_version(session=session, workspace_id=ws, version_id=outcome.version_id)
        before = json.dumps([row.draft_json, row.icp_json])
    assert "Zephyr migration" in before.replace("zephyr", "Zephyr")  # the draft did quote them

    forget_person(
        engine=store_engine, knowledge=knowledge, workspace=team, slack_user_id="U_LEAVER", actor="U_OWNER"
    )

    with session_scope(store_engine) as session:
        row = icp_repo.get_icp_version(session=session, workspace_id=ws, version_id=outcome.version_id)
        personas = icp_repo.list_personas(session=session, workspace_id=ws, icp_version_id=outcome.version_id)
        after = json.dumps([row.draft_json, row.icp_json, [p.persona_json for p in personas]])
    assert "zephyr" not in after.casefold() and "U_LEAVER" not in after and "Name of U_LEAVER" not in after
    assert REMOVED in after
    for hit in knowledge.search(
        workspace=team, query="Zephyr migration churn", k=10, kinds=["icp", "persona"]
    ):
        assert "zephyr" not in hit.text.casefold()
