"""Drafting inputs without a database: the engine's seeded sample company and hand-written answers.

``gathered(answers)`` is what ``gather`` would return for a workspace holding the sample CRM rows
and these answers; the analysis and the learned ICP are computed once and shared.
"""

from __future__ import annotations

import dataclasses
import functools
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bot.services.icp.drafting.gather import AnswerEvidence, Gathered
from icp_engine import sample
from icp_engine.crm import load_crm
from icp_engine.learn import learn
from icp_engine.stats import analyze

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@functools.cache
def _base() -> Gathered:
    company = sample.generate(seed=7, n_accounts=600, messy=False)
    with tempfile.TemporaryDirectory() as folder:
        paths = sample.write_csv(company, Path(folder))
        crm = load_crm(paths["accounts"], paths["deals"], paths["health"])
    closed = crm.closed
    analysis = analyze(closed, crm.accounts, attributes=crm.attributes)
    learned = learn(closed, crm.accounts, attributes=crm.attributes, analysis=analysis, name="Learned ICP")
    return Gathered(
        workspace="TSAMPLE",
        workspace_id=1,
        segment="default",
        crm=crm,
        closed=closed,
        analysis=analysis,
        learned=learned,
        answers=[],
        stored_deals=len(crm.deals),
    )


def gathered(answers: list[AnswerEvidence]) -> Gathered:
    return dataclasses.replace(_base(), answers=list(answers), notes=[])


def answer(
    answer_id: int, text: str, *, stakeholder: str = "U1", role: str = "sales", topic: str = "best_customers"
) -> AnswerEvidence:
    return AnswerEvidence(
        answer_id=answer_id,
        text=text,
        stakeholder=stakeholder,
        display_name=None,
        role=role,
        question_key=topic,
        question=None,
        topic=topic,
        answered_at=T0,
    )


TOPIC_TEXTS = {
    "best_customers": "Our best customers are software companies with big support teams and fast growth.",
    "pains": "Manual routing of tickets costs them overtime every week and customers wait.",
    "triggers": "They start looking after a new VP of Operations joins or a funding round closes.",
    "buying_committee": "The VP of Operations decides and the CFO signs the contract.",
    "objections": "Migration effort is the objection we hear most; a pilot answers it.",
    "bad_fit": "Tiny education outfits churn fast and never expand.",
}


def many_answers(n: int, *, per_person: int = 6) -> list[AnswerEvidence]:
    """``n`` answers from ``n / per_person`` people across roles and topics (varied wording)."""
    roles = ("sales", "marketing", "customer_success", "product", "leadership")
    topics = list(TOPIC_TEXTS)
    out = []
    for i in range(n):
        person = i // per_person
        topic = topics[i % len(topics)]
        out.append(
            answer(
                i + 1,
                f"{TOPIC_TEXTS[topic]} Seen at account {i % 37} in quarter {i % 5}.",
                stakeholder=f"U{person:04d}",
                role=roles[person % len(roles)],
                topic=topic,
            )
        )
    return out
