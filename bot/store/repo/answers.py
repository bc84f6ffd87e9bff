"""Answers: stored once per Slack event, even when Slack redelivers it or two replicas race.

``record_answer`` inserts with ``ON CONFLICT DO NOTHING`` on (workspace, event id) and then
reads the row back, so the second delivery gets the first delivery's row and ``created=False``
(the caller then knows not to advance the interview twice).
"""

from __future__ import annotations

from sqlalchemy import and_, delete, func
from sqlmodel import Session, col, select

from bot.store.models import Answer, AnswerCreate, InterviewQuestion
from bot.store.repo._sql import get_scoped, insert_for, table_of
from bot.store.repo.errors import NotFoundError
from bot.store.repo.interviews import get_interview
from bot.store.types import utcnow


def get_answer_by_event(*, session: Session, workspace_id: int, slack_event_id: str) -> Answer | None:
    return session.exec(
        select(Answer).where(Answer.workspace_id == workspace_id, Answer.slack_event_id == slack_event_id)
    ).first()


def record_answer(*, session: Session, workspace_id: int, data: AnswerCreate) -> tuple[Answer, bool]:
    """Store the answer unless its Slack event was stored before; returns (row, created)."""
    existing = get_answer_by_event(
        session=session, workspace_id=workspace_id, slack_event_id=data.slack_event_id
    )
    if existing is not None:
        return existing, False
    interview = get_interview(session=session, workspace_id=workspace_id, interview_id=data.interview_id)
    if data.question_id is not None:
        question = get_scoped(session, InterviewQuestion, workspace_id=workspace_id, row_id=data.question_id)
        if question.interview_id != interview.id:
            raise NotFoundError(f"question {data.question_id} was not asked in interview {interview.id}")
    stmt = (
        insert_for(session, table_of(Answer))
        .values(
            **data.model_dump(),
            workspace_id=workspace_id,
            stakeholder_id=interview.stakeholder_id,
            answered_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["workspace_id", "slack_event_id"])
        .returning(table_of(Answer).c.id)
    )
    created = session.execute(stmt).first() is not None
    row = get_answer_by_event(session=session, workspace_id=workspace_id, slack_event_id=data.slack_event_id)
    assert row is not None  # inserted now, or by the concurrent delivery we waited for
    return row, created


def list_answers(
    *,
    session: Session,
    workspace_id: int,
    interview_id: int | None = None,
    stakeholder_id: int | None = None,
) -> list[Answer]:
    query = select(Answer).where(Answer.workspace_id == workspace_id)
    if interview_id is not None:
        query = query.where(Answer.interview_id == interview_id)
    if stakeholder_id is not None:
        query = query.where(Answer.stakeholder_id == stakeholder_id)
    return list(session.exec(query.order_by(col(Answer.id))))


def count_answers(*, session: Session, workspace_id: int, stakeholder_id: int | None = None) -> int:
    query = select(func.count()).select_from(Answer).where(Answer.workspace_id == workspace_id)
    if stakeholder_id is not None:
        query = query.where(Answer.stakeholder_id == stakeholder_id)
    return int(session.exec(query).one())


def delete_answers_for_stakeholder(*, session: Session, workspace_id: int, stakeholder_id: int) -> int:
    """Delete every answer the stakeholder gave; returns how many."""
    result = session.exec(
        delete(Answer).where(
            col(Answer.workspace_id) == workspace_id, col(Answer.stakeholder_id) == stakeholder_id
        )
    )
    return int(result.rowcount or 0)


def list_answer_question_keys(
    session: Session, *, workspace_id: int, interview_id: int
) -> list[tuple[int | None, str | None]]:
    """(answer id, key of the question it answers) of every answer in the interview.

    The key is None for an answer whose question row is gone (erased) or was never recorded.
    """
    query = (
        select(Answer.id, InterviewQuestion.question_key)
        .select_from(Answer)
        .outerjoin(
            InterviewQuestion,
            and_(
                col(InterviewQuestion.workspace_id) == col(Answer.workspace_id),
                col(InterviewQuestion.id) == col(Answer.question_id),
            ),
        )
        .where(Answer.workspace_id == workspace_id, Answer.interview_id == interview_id)
    )
    return list(session.exec(query))


def existing_answer_ids(*, session: Session, workspace_id: int, ids: list[int]) -> set[int]:
    """Which of ``ids`` are still stored (one query): search hits of erased answers are dropped."""
    if not ids:
        return set()
    rows = session.exec(select(Answer.id).where(Answer.workspace_id == workspace_id, col(Answer.id).in_(ids)))
    return {int(i) for i in rows if i is not None}
