"""Shared builders of the knowledge-sync tests: workspaces with people, answers, ICPs and CRM rows.

CRM rows come from the engine's seeded sample company, read the way an import reads them
(``load_crm`` on the written CSVs), so that the statistics have real, planted signal.
"""

from __future__ import annotations

import functools
import math
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.knowledge.embeddings import register_embedder
from bot.knowledge.store import KINDS, KnowledgeStore
from bot.store import session_scope
from bot.store.models import (
    AccountCreate,
    AnswerCreate,
    AuditEntry,
    CustomerHealthCreate,
    DealCreate,
    DealStage,
    GtmRole,
    IcpVersionCreate,
    InterviewCreate,
    PersonaCreate,
    QuestionCreate,
    StakeholderCreate,
)
from bot.store.repo import answers as answers_repo
from bot.store.repo import crm as crm_repo
from bot.store.repo import icp as icp_repo
from bot.store.repo import interviews as interviews_repo
from bot.store.repo import stakeholders as stakeholders_repo
from bot.store.repo import workspaces as workspaces_repo
from icp_engine import sample
from icp_engine.crm import CrmData, load_crm
from icp_engine.model import ICP, Criterion, Disqualifier

CANONICAL = ("industry", "employees", "annual_revenue", "country", "region", "tech_stack")
DERIVED = ("employee_band", "revenue_band")
HEALTH = ("arr", "tenure_months", "churned", "nps", "health_score")


def _opt(value: Any) -> Any:
    """None for missing values (NaN, None), the value otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


@dataclass(frozen=True)
class SampleCrm:
    crm: CrmData
    accounts: list[AccountCreate]
    deals: list[DealCreate]
    health: list[CustomerHealthCreate]


@functools.cache
def sample_crm(seed: int = 7, n_accounts: int = 800) -> SampleCrm:
    """The sample company's CRM as the engine reads its files, and as rows for the SQL store."""
    company = sample.generate(seed=seed, n_accounts=n_accounts, messy=False)
    with tempfile.TemporaryDirectory() as folder:
        paths = sample.write_csv(company, Path(folder))
        crm = load_crm(paths["accounts"], paths["deals"], paths["health"])
    frame = crm.accounts.loc[:, ~crm.accounts.columns.duplicated()]
    accounts, health = [], []
    for row in frame.to_dict("records"):
        custom = {
            name: _opt(row[name])
            for name in crm.attributes
            if name not in CANONICAL + DERIVED and _opt(row[name]) is not None
        }
        employees = _opt(row["employees"])
        accounts.append(
            AccountCreate(
                crm_id=row["account_id"],
                name=row["name"],
                domain=_opt(row["domain"]),
                industry=_opt(row["industry"]),
                employees=None if employees is None else int(employees),
                annual_revenue=_opt(row["annual_revenue"]),
                country=_opt(row["country"]),
                region=_opt(row["region"]),
                tech_stack=list(_opt(row["tech_stack"]) or ()),
                custom_attributes=custom,
            )
        )
        values = {name: _opt(row[name]) for name in HEALTH}
        if any(v is not None for v in values.values()):
            nps = values.pop("nps")
            health.append(
                CustomerHealthCreate(
                    crm_id=row["account_id"], nps=None if nps is None else int(nps), **values
                )
            )
    deals = [
        DealCreate(
            crm_id=d["deal_id"],
            account_crm_id=_opt(d["account_id"]),
            stage=DealStage(d["stage"]),
            amount=_opt(d["amount"]),
            created_on=_opt(d["created_date"]),
            closed_on=_opt(d["close_date"]),
        )
        for d in crm.deals.to_dict("records")
    ]
    return SampleCrm(crm=crm, accounts=accounts, deals=deals, health=health)


def without_signal(data: SampleCrm, seed: int) -> tuple[list[DealCreate], list[CustomerHealthCreate]]:
    """The same deals and customers with every closed outcome redrawn at random (28% won) and the
    health figures shuffled across customers: nothing left to find."""
    rng = np.random.default_rng(seed)
    deals = []
    for deal in data.deals:
        if deal.stage != DealStage.open:
            stage = DealStage.won if rng.random() < 0.28 else DealStage.lost
            deal = deal.model_copy(update={"stage": stage})
        deals.append(deal)
    order = rng.permutation(len(data.health))
    health = [
        row.model_copy(update={name: getattr(data.health[int(j)], name) for name in HEALTH})
        for row, j in zip(data.health, order, strict=True)
    ]
    return deals, health


def new_team_id(prefix: str = "T") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


def new_workspace(engine: Engine, team_id: str | None = None) -> tuple[str, int]:
    """A fresh workspace: (Slack team id, SQL id)."""
    team_id = team_id or new_team_id()
    with session_scope(engine) as session:
        ws = workspaces_repo.get_or_create_workspace(session=session, slack_team_id=team_id)
        assert ws.id is not None
        return team_id, ws.id


def insert_crm(
    engine: Engine,
    workspace_id: int,
    *,
    accounts: Sequence[AccountCreate] = (),
    deals: Sequence[DealCreate] = (),
    health: Sequence[CustomerHealthCreate] = (),
) -> None:
    with session_scope(engine) as session:
        crm_repo.bulk_upsert_accounts(session=session, workspace_id=workspace_id, rows=accounts)
        crm_repo.bulk_upsert_deals(session=session, workspace_id=workspace_id, rows=deals)
        crm_repo.bulk_upsert_health(session=session, workspace_id=workspace_id, rows=health)


def add_answers(
    session: Session,
    workspace_id: int,
    user: str,
    texts: Sequence[str],
    role: GtmRole = GtmRole.sales,
    question_key: str = "best_customers",
) -> list[int]:
    """The person answers one question of their (active) interview per text; returns answer ids."""
    person = stakeholders_repo.get_or_create_stakeholder(
        session=session,
        workspace_id=workspace_id,
        data=StakeholderCreate(slack_user_id=user, display_name=f"Name of {user}", gtm_role=role),
    )
    assert person.id is not None
    interview = interviews_repo.get_active_interview(
        session=session, workspace_id=workspace_id, stakeholder_id=person.id
    ) or interviews_repo.create_interview(
        session=session, workspace_id=workspace_id, data=InterviewCreate(stakeholder_id=person.id)
    )
    assert interview.id is not None
    ids = []
    for text in texts:
        question = interviews_repo.record_question(
            session=session,
            workspace_id=workspace_id,
            interview_id=interview.id,
            data=QuestionCreate(question_key=question_key, text="Who are our best customers, and why?"),
        )
        answer, _ = answers_repo.record_answer(
            session=session,
            workspace_id=workspace_id,
            data=AnswerCreate(
                interview_id=interview.id,
                question_id=question.id,
                slack_event_id=f"Ev{uuid.uuid4().hex}",
                text=text,
            ),
        )
        assert answer.id is not None
        ids.append(answer.id)
    return ids


SAMPLE_ICP = ICP(
    name="Mid-market logistics",
    description="Logistics companies with large dispatch teams.",
    criteria=[
        Criterion(attribute="industry", op="in", values=["logistics", "software"], points=40),
        Criterion(attribute="employees", op="between", values=[200, 2000], points=30, rationale="sweet spot"),
    ],
    disqualifiers=[Disqualifier(attribute="employees", op="lt", values=[20], reason="too small to need us")],
)


def add_icp(session: Session, workspace_id: int, name: str = "Mid-market logistics") -> int:
    """A draft ICP version with two personas; returns the version id."""
    version = icp_repo.create_icp_draft(
        session=session,
        workspace_id=workspace_id,
        data=IcpVersionCreate(
            name=name,
            icp_json=SAMPLE_ICP.model_copy(update={"name": name}).to_dict(),
            author="U_OWNER",
        ),
    )
    assert version.id is not None
    icp_repo.replace_personas(
        session=session,
        workspace_id=workspace_id,
        icp_version_id=version.id,
        personas=[
            PersonaCreate(
                name="Head of Operations",
                position=0,
                persona_json={
                    "role": "Head of Operations",
                    "goals": ["fewer manual dispatch steps", "on-time delivery"],
                    "objections": ["migration effort"],
                },
            ),
            PersonaCreate(
                name="CFO",
                position=1,
                persona_json={"role": "Chief Financial Officer", "goals": ["predictable costs"]},
            ),
        ],
    )
    return version.id


def sql_snapshot(session: Session, workspace_id: int) -> dict[str, list[Any]]:
    """Every row of the workspace that knowledge sync could touch, as comparable tuples."""
    interviews = interviews_repo.list_interviews(session=session, workspace_id=workspace_id)
    versions = icp_repo.list_icp_versions(session=session, workspace_id=workspace_id)
    audit = session.exec(
        select(AuditEntry).where(AuditEntry.workspace_id == workspace_id).order_by(AuditEntry.id)  # type: ignore[arg-type]
    ).all()
    return {
        "stakeholders": [
            (p.slack_user_id, p.display_name, p.gtm_role)
            for p in stakeholders_repo.list_stakeholders(session=session, workspace_id=workspace_id)
        ],
        "interviews": [(i.id, i.summary, i.state) for i in interviews],
        "questions": [
            (q.id, q.text)
            for i in interviews
            for q in interviews_repo.list_questions(
                session=session, workspace_id=workspace_id, interview_id=i.id
            )
        ],
        "answers": [
            (a.id, a.stakeholder_id, a.text)
            for a in answers_repo.list_answers(session=session, workspace_id=workspace_id)
        ],
        "icp": [(v.id, v.status, v.icp_json) for v in versions],
        "personas": [
            (p.id, p.persona_json)
            for v in versions
            for p in icp_repo.list_personas(session=session, workspace_id=workspace_id, icp_version_id=v.id)
        ],
        "crm": [crm_repo.count_crm_rows(session=session, workspace_id=workspace_id)],
        "audit": [(e.id, e.action, e.target_id, e.details) for e in audit],
    }


def vector_snapshot(knowledge: KnowledgeStore, team_id: str, query: str = "customers") -> dict[str, Any]:
    """Chunk counts per kind and every chunk's id and text, as one search returns them."""
    counts = {kind: knowledge.count(workspace=team_id, kind=kind) for kind in KINDS}
    total = sum(counts.values())
    hits = knowledge.search(workspace=team_id, query=query, k=max(total, 1)) if total else []
    return {"counts": counts, "chunks": sorted((h.id, h.text) for h in hits)}


GONE = [
    "Our best customers run big dispatch teams in logistics.",
    "They buy because routing by hand costs them overtime every week.",
]
STAYS = ["Fintech firms renew because the audit trail saves their compliance team days."]


def people_workspace(engine: Engine, team_id: str | None = None) -> tuple[str, int, list[int], list[int]]:
    """A workspace where U_GONE (two answers) and U_STAYS (one) have answered.

    Returns (team id, SQL id, U_GONE's answer ids, U_STAYS's answer ids).
    """
    team, ws = new_workspace(engine, team_id)
    with session_scope(engine) as session:
        gone = add_answers(session, ws, "U_GONE", GONE)
        stays = add_answers(session, ws, "U_STAYS", STAYS, role=GtmRole.customer_success)
    return team, ws, gone, stays


class WordHashEmbedder:
    """A second, deliberately different embedder: vectors it built cannot be read with MiniLM."""

    name = "test-sync-word-hash"
    dim = 8
    max_tokens = 128

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.full((len(texts), self.dim), 1e-3, dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.split():
                out[row, len(word) % self.dim] += 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2


register_embedder(WordHashEmbedder.name, lambda _config: WordHashEmbedder())
