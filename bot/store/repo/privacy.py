"""``icp forget USER``: erase what a person said, and record that it was erased (not what).

Answers are deleted; the questions asked in their interviews (follow-ups can quote answers) are
deleted; interview summaries and the person's display name and title are cleared. The audit
entry names the person by Slack id and carries only counts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from bot.store.models import Answer, Interview, InterviewQuestion
from bot.store.repo.audit import append_audit
from bot.store.repo.stakeholders import require_stakeholder
from bot.store.types import utcnow


@dataclass(frozen=True, slots=True)
class ForgetCounts:
    answers: int
    questions: int
    interviews: int


def forget_stakeholder(
    *, session: Session, workspace_id: int, slack_user_id: str, actor: str
) -> ForgetCounts:
    """Erase the person's interview content in this workspace; ``NotFoundError`` if unknown."""
    person = require_stakeholder(session=session, workspace_id=workspace_id, slack_user_id=slack_user_id)
    interview_ids = list(
        session.exec(
            select(Interview.id).where(
                Interview.workspace_id == workspace_id, Interview.stakeholder_id == person.id
            )
        )
    )
    answers = session.exec(
        delete(Answer).where(
            col(Answer.workspace_id) == workspace_id,
            or_(col(Answer.stakeholder_id) == person.id, col(Answer.interview_id).in_(interview_ids)),
        )
    ).rowcount
    questions = 0
    if interview_ids:
        questions = session.exec(
            delete(InterviewQuestion).where(
                col(InterviewQuestion.workspace_id) == workspace_id,
                col(InterviewQuestion.interview_id).in_(interview_ids),
            )
        ).rowcount
        session.exec(
            update(Interview)
            .where(col(Interview.workspace_id) == workspace_id, col(Interview.id).in_(interview_ids))
            .values(summary=None, updated_at=utcnow())
        )
    person.display_name = person.title = None
    person.updated_at = utcnow()
    session.add(person)
    counts = ForgetCounts(
        answers=int(answers or 0), questions=int(questions or 0), interviews=len(interview_ids)
    )
    append_audit(
        session=session,
        workspace_id=workspace_id,
        actor=actor,
        action="stakeholder.forget",
        target_type="stakeholder",
        target_id=slack_user_id,
        details=asdict(counts),
    )
    return counts
