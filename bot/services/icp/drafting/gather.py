"""Gather: what a draft starts from — the engine's statistics and learned ICP, and the answers.

SQL is read in one short unit of work; the engine runs after it is closed (an analysis of a large
CRM takes seconds and must not hold SQLite's lock). A segment named ``attribute=value`` (e.g.
``industry=fintech``) restricts the CRM data to the accounts that have that value; any other
name drafts from all the data under that name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from bot.services.crm.frames import load_crm_frames
from bot.services.interviews.questions import load_all_question_sets
from bot.store import session_scope
from bot.store.db import Engine, Session
from bot.store.models import DEFAULT_SEGMENT
from bot.store.repo import answers as answers_repo
from bot.store.repo import crm as crm_repo
from bot.store.repo import interviews as interviews_repo
from bot.store.repo import stakeholders as stakeholders_repo
from bot.store.repo import workspaces as workspaces_repo
from bot.store.repo.errors import NotFoundError
from icp_engine.crm import CrmData
from icp_engine.learn import LearnResult, learn
from icp_engine.stats import Analysis, analyze

FOLLOWUP = "followup"


class GatherError(ValueError):
    """The workspace has nothing a draft can be built from; the message says what to do."""


@dataclass(frozen=True)
class AnswerEvidence:
    """One interview answer as evidence: who said it, to which question, on which topic."""

    answer_id: int
    text: str
    stakeholder: str  # Slack user id
    display_name: str | None
    role: str
    question_key: str | None
    question: str | None
    topic: str  # the question's topic (pains, triggers…), "followup", or "other"
    answered_at: datetime

    @property
    def id(self) -> str:
        return f"ans:{self.answer_id}"

    @property
    def source(self) -> str:
        return f"{self.stakeholder} ({self.role})"


@dataclass
class Gathered:
    """Everything the drafters read; ``analysis``/``learned`` are None without closed deals."""

    workspace: str
    workspace_id: int
    segment: str
    crm: CrmData
    closed: pd.DataFrame
    analysis: Analysis | None
    learned: LearnResult | None
    answers: list[AnswerEvidence]
    stored_deals: int
    notes: list[str] = field(default_factory=list)

    @property
    def stakeholders(self) -> list[str]:
        return list(dict.fromkeys(a.stakeholder for a in self.answers))


def segment_filter(segment: str) -> tuple[str, str] | None:
    """``industry=fintech`` → (industry, fintech); a plain name → None (all the data)."""
    attribute, eq, value = segment.partition("=")
    if not eq or not attribute.strip() or not value.strip():
        return None
    return attribute.strip(), value.strip()


def _restrict(crm: CrmData, closed: pd.DataFrame, segment: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    spec = segment_filter(segment)
    if spec is None:
        return closed, crm.accounts
    attribute, value = spec
    if attribute not in closed.columns:
        known = ", ".join(sorted(crm.attributes)) or "none"
        raise GatherError(
            f"segment {segment!r}: the CRM data has no attribute {attribute!r} (known: {known})"
        )
    wanted = value.casefold()

    def matches(column: pd.Series) -> pd.Series:
        def one(v: object) -> bool:
            if isinstance(v, list | tuple):
                return any(str(x).casefold() == wanted for x in v)
            return v is not None and str(v).casefold() == wanted

        return column.map(one).astype(bool)

    kept = closed[matches(closed[attribute])].reset_index(drop=True)
    accounts = crm.accounts
    if attribute in accounts.columns:
        accounts = accounts[matches(accounts[attribute])].reset_index(drop=True)
    if kept.empty:
        raise GatherError(f"segment {segment!r}: no closed deal has {attribute} = {value}")
    return kept, accounts


def _topics() -> dict[tuple[str, str], tuple[str, str]]:
    """(role, question id) → (topic, question text), from the interview question sets."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for role, qs in load_all_question_sets().items():
        for q in qs.questions:
            out[(role.value, q.id)] = (q.topic, q.text)
    return out


def _answers(session: Session, workspace_id: int) -> list[AnswerEvidence]:
    people = {
        p.id: p for p in stakeholders_repo.list_stakeholders(session=session, workspace_id=workspace_id)
    }
    rows = answers_repo.list_answers(session=session, workspace_id=workspace_id)
    questions: dict[int, tuple[str, str]] = {}
    for interview_id in sorted({a.interview_id for a in rows if a.question_id is not None}):
        for q in interviews_repo.list_questions(
            session=session, workspace_id=workspace_id, interview_id=interview_id
        ):
            assert q.id is not None
            questions[q.id] = (q.question_key, q.text)
    topics = _topics()
    known_topics = {topic for topic, _ in topics.values()}
    out: list[AnswerEvidence] = []
    for a in rows:
        if a.id is None or not a.text or not a.text.strip():
            continue
        person = people[a.stakeholder_id]
        role = person.gtm_role.value
        key, text = questions.get(a.question_id, (None, None)) if a.question_id is not None else (None, None)
        if key == FOLLOWUP:
            topic = FOLLOWUP
        elif key is not None and (role, key) in topics:
            topic = topics[(role, key)][0]
        elif key is not None and key in known_topics:
            topic = key  # a question keyed by its topic (another role's set, or a custom one)
        else:
            topic = "other"
        out.append(
            AnswerEvidence(
                answer_id=a.id,
                text=a.text.strip(),
                stakeholder=person.slack_user_id,
                display_name=person.display_name,
                role=role,
                question_key=key,
                question=text,
                topic=topic,
                answered_at=a.answered_at,
            )
        )
    return out


def gather(*, engine: Engine, workspace: str, segment: str = DEFAULT_SEGMENT) -> Gathered:
    """Read the workspace's CRM rows and answers, then run the engine's analysis and learning.

    No CRM rows at all is a :class:`GatherError` (import first); CRM rows without closed deals or
    no answers still draft, with a note saying what is missing.
    """
    with session_scope(engine) as session:
        ws = workspaces_repo.get_workspace(session=session, slack_team_id=workspace)
        if ws is None or ws.id is None:
            raise NotFoundError(
                f"no workspace {workspace!r} in the database: import CRM data first "
                f"(`icp import accounts FILE --workspace {workspace}`)"
            )
        counts = crm_repo.count_crm_rows(session=session, workspace_id=ws.id)
        if not counts.get("accounts") and not counts.get("deals"):
            raise GatherError(
                f"workspace {workspace!r} has no CRM data yet: run `icp import accounts FILE --workspace "
                f"{workspace}` and `icp import deals FILE --workspace {workspace}` first"
            )
        crm = load_crm_frames(session=session, workspace_id=ws.id)
        answers = _answers(session, ws.id)
        workspace_id = ws.id
    notes: list[str] = []
    closed, accounts = _restrict(crm, crm.closed, segment)
    analysis: Analysis | None = None
    learned: LearnResult | None = None
    if closed.empty:
        notes.append(
            "No closed (won or lost) deal is joined to an account, so no criterion is backed by data: "
            "import deals (`icp import deals FILE`) for points and a backtest."
        )
    else:
        analysis = analyze(closed, accounts, attributes=crm.attributes)
        learned = learn(closed, accounts, attributes=crm.attributes, analysis=analysis, name="Learned ICP")
        notes.extend(learned.notes)
    if not answers:
        notes.append(
            "No interview answers yet: drafted from the CRM data alone (pains, personas and triggers "
            "need interviews: `/icp interview @person`)."
        )
    return Gathered(
        workspace=workspace,
        workspace_id=workspace_id,
        segment=segment,
        crm=crm,
        closed=closed,
        analysis=analysis,
        learned=learned,
        answers=answers,
        stored_deals=int(counts.get("deals", 0)),
        notes=notes,
    )
