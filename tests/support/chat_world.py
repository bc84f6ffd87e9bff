"""The chat world the e2e and reliability suites share: CRM data, statistics, an approved ICP, answers."""

from __future__ import annotations

from pathlib import Path

from bot.demo.stand_in.seeding import approved_icp
from bot.knowledge.store import Document
from bot.services.imports.service import import_accounts, import_deals, import_health
from bot.services.interviews.conversation import invite
from bot.services.knowledge.sync import sync_statistics
from bot.store.db import session_scope
from bot.store.models import AnswerCreate, GtmRole
from bot.store.repo.answers import record_answer
from bot.store.repo.workspaces import get_workspace
from tests.support.harness import ADMIN_ID, TEAM_ID, SlackEnv

ICP_DOC = {
    "name": "Mid-market software",
    "criteria": [
        {"attribute": "industry", "op": "in", "values": ["software", "fintech"], "points": 40},
        {"attribute": "employees", "op": "between", "values": [200, 5000], "points": 30},
    ],
}
ANSWERS = [
    ("U0SAM", "sales", "Software companies with a RevOps team close fastest for us."),
    ("U0CARA", "customer_success", "Customers churn when onboarding drags on and nobody owns the rollout."),
]


def seed(env: SlackEnv, files: dict[str, Path]) -> None:
    """CRM data, the engine's statistics, an approved ICP and two interview answers."""
    import_accounts(engine=env.engine, workspace=TEAM_ID, path=files["accounts"])
    import_deals(engine=env.engine, workspace=TEAM_ID, path=files["deals"])
    import_health(engine=env.engine, workspace=TEAM_ID, path=files["health"])
    with session_scope(env.engine) as session:
        approved_icp(session, team_id=TEAM_ID, icp_json=ICP_DOC, author=ADMIN_ID)
    knowledge = env.knowledge()
    sync_statistics(engine=env.engine, knowledge=knowledge, workspace=TEAM_ID)
    knowledge.add_documents(workspace=TEAM_ID, docs=store_answers(env))


def store_answers(env: SlackEnv) -> list[Document]:
    """The interview answers in SQL (chat serves only answers SQL still has), as documents."""
    docs = []
    for who, role, text in ANSWERS:
        interview = invite(
            engine=env.engine, team_id=TEAM_ID, user_id=who, invited_by=ADMIN_ID, role=GtmRole(role)
        )
        with session_scope(env.engine) as session:
            ws = get_workspace(session=session, slack_team_id=TEAM_ID)
            assert ws is not None and ws.id is not None
            answer, _ = record_answer(
                session=session,
                workspace_id=ws.id,
                data=AnswerCreate(
                    slack_event_id=f"seed-{who}", text=text, interview_id=interview.interview_id
                ),
            )
            answer_id = answer.id
        docs.append(Document(kind="answer", source_id=str(answer_id), text=text, stakeholder=who, role=role))
    return docs
