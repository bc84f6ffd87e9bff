"""Interviews and the questions asked in them.

An interview moves pending → in_progress ⇄ paused → completed (or abandoned); completed and
abandoned are final. A stakeholder has at most one active interview (the database enforces it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.store.models import (
    ACTIVE_INTERVIEW_STATES,
    Interview,
    InterviewCreate,
    InterviewQuestion,
    InterviewState,
    QuestionCreate,
)
from bot.store.repo._sql import get_scoped
from bot.store.repo.errors import ConflictError, InvalidTransitionError
from bot.store.repo.stakeholders import get_stakeholder_by_id
from bot.store.types import utcnow

FINAL_STATES: frozenset[InterviewState] = frozenset({InterviewState.completed, InterviewState.abandoned})


def get_interview(*, session: Session, workspace_id: int, interview_id: int) -> Interview:
    return get_scoped(session, Interview, workspace_id=workspace_id, row_id=interview_id)


def get_active_interview(*, session: Session, workspace_id: int, stakeholder_id: int) -> Interview | None:
    """The stakeholder's interview that is pending, in progress or paused, if any."""
    return session.exec(
        select(Interview).where(
            Interview.workspace_id == workspace_id,
            Interview.stakeholder_id == stakeholder_id,
            Interview.state.in_(ACTIVE_INTERVIEW_STATES),  # type: ignore[attr-defined]
        )
    ).first()


def create_interview(*, session: Session, workspace_id: int, data: InterviewCreate) -> Interview:
    """Start a new interview; ``ConflictError`` if the stakeholder already has an active one."""
    get_stakeholder_by_id(session=session, workspace_id=workspace_id, stakeholder_id=data.stakeholder_id)
    active = get_active_interview(
        session=session, workspace_id=workspace_id, stakeholder_id=data.stakeholder_id
    )
    if active is not None:
        raise ConflictError(f"stakeholder {data.stakeholder_id} already has active interview {active.id}")
    row = Interview.model_validate(data, update={"workspace_id": workspace_id})
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:  # another replica started one between our check and insert
        raise ConflictError(f"stakeholder {data.stakeholder_id} already has an active interview") from exc
    return row


def advance_interview(
    *,
    session: Session,
    workspace_id: int,
    interview_id: int,
    state: InterviewState | None = None,
    step: int | None = None,
    summary: str | None = None,
) -> Interview:
    """Move an interview on: new state and/or next step and/or summary. Final states are final."""
    row = get_interview(session=session, workspace_id=workspace_id, interview_id=interview_id)
    if row.state in FINAL_STATES and ((state is not None and state != row.state) or step is not None):
        raise InvalidTransitionError(f"interview {interview_id} is {row.state.value} and cannot change")
    if state is not None and state != row.state:
        if state == InterviewState.pending:
            raise InvalidTransitionError(f"interview {interview_id} cannot go back to pending")
        row.state = state
        if state == InterviewState.completed:
            row.completed_at = utcnow()
    if step is not None:
        if step < row.step:
            raise InvalidTransitionError(f"interview {interview_id}: step {step} is behind step {row.step}")
        row.step = step
    if summary is not None:
        row.summary = summary
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def list_interviews(
    *,
    session: Session,
    workspace_id: int,
    stakeholder_id: int | None = None,
    state: InterviewState | None = None,
) -> list[Interview]:
    query = select(Interview).where(Interview.workspace_id == workspace_id)
    if stakeholder_id is not None:
        query = query.where(Interview.stakeholder_id == stakeholder_id)
    if state is not None:
        query = query.where(Interview.state == state)
    return list(session.exec(query.order_by(col(Interview.id))))


def record_question(
    *, session: Session, workspace_id: int, interview_id: int, data: QuestionCreate
) -> InterviewQuestion:
    """Remember a question the bot asked in the interview."""
    get_interview(session=session, workspace_id=workspace_id, interview_id=interview_id)
    row = InterviewQuestion.model_validate(
        data, update={"workspace_id": workspace_id, "interview_id": interview_id}
    )
    session.add(row)
    session.flush()
    return row


def list_questions(*, session: Session, workspace_id: int, interview_id: int) -> list[InterviewQuestion]:
    return list(
        session.exec(
            select(InterviewQuestion)
            .where(
                InterviewQuestion.workspace_id == workspace_id, InterviewQuestion.interview_id == interview_id
            )
            .order_by(col(InterviewQuestion.id))
        )
    )


def lock_interview(session: Session, *, workspace_id: int, interview_id: int) -> Interview | None:
    """The interview row, locked until the unit of work ends (PostgreSQL; SQLite locks the file).

    Read again even if the session holds it, so what the caller sees is what it locked.
    """
    query = (
        select(Interview)
        .where(Interview.workspace_id == workspace_id, Interview.id == interview_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.exec(query).first()


def list_recent_questions(
    session: Session, *, workspace_id: int, interview_id: int, limit: int
) -> list[InterviewQuestion]:
    """The questions asked last in the interview, newest first."""
    query = (
        select(InterviewQuestion)
        .where(InterviewQuestion.workspace_id == workspace_id, InterviewQuestion.interview_id == interview_id)
        .order_by(col(InterviewQuestion.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))


def count_interviews_by_state(session: Session, *, workspace_id: int) -> dict[InterviewState, int]:
    """How many of the workspace's interviews are in each state (states with none are left out)."""
    query = (
        select(Interview.state, func.count())
        .where(Interview.workspace_id == workspace_id)
        .group_by(Interview.state)
    )
    return {InterviewState(state): int(n) for state, n in session.exec(query)}


def count_completed_interviews(session: Session, *, workspace_id: int, since: datetime | None = None) -> int:
    """Interviews completed (since ``since``, or ever)."""
    query = (
        select(func.count())
        .select_from(Interview)
        .where(Interview.workspace_id == workspace_id, Interview.state == InterviewState.completed)
    )
    if since is not None:
        query = query.where(Interview.completed_at >= since)  # type: ignore[operator]
    return int(session.exec(query).one())
