"""Interviews, the questions the bot asked and the answers it got.

An answer is keyed by the Slack event (or message) id that carried it, unique per workspace, so
that a redelivered event is stored once. Interview, question and answer rows reference each other
through composite keys that include ``workspace_id``: the database itself refuses an answer that
points at another workspace's interview.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import ForeignKeyConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models.base import SLACK_ID, Timestamped, created_at_field, timestamp_field, workspace_fk
from bot.store.types import enum_column


class InterviewState(StrEnum):
    """Where an interview is; ``pending``, ``in_progress`` and ``paused`` count as active."""

    pending = "pending"
    in_progress = "in_progress"
    paused = "paused"
    completed = "completed"
    abandoned = "abandoned"


_ACTIVE = (InterviewState.pending, InterviewState.in_progress, InterviewState.paused)
ACTIVE_INTERVIEW_STATES: frozenset[InterviewState] = frozenset(_ACTIVE)
_ACTIVE_SQL = "state IN (" + ", ".join(f"'{state.value}'" for state in _ACTIVE) + ")"


class InterviewBase(SQLModel):
    question_set: str = Field(default="default", max_length=64)
    dm_channel_id: str | None = Field(default=None, max_length=SLACK_ID)
    started_by: str | None = Field(default=None, max_length=SLACK_ID)


class InterviewCreate(InterviewBase):
    stakeholder_id: int


class Interview(InterviewBase, Timestamped, table=True):
    """One interview of one stakeholder, resumable across days."""

    __tablename__ = "interview"
    __table_args__ = (
        UniqueConstraint("workspace_id", "id"),
        ForeignKeyConstraint(
            ["workspace_id", "stakeholder_id"], ["stakeholder.workspace_id", "stakeholder.id"]
        ),
        Index("ix_interview_workspace_id_stakeholder_id", "workspace_id", "stakeholder_id"),
        # At most one active interview per person: two replicas cannot start two at once.
        Index(
            "ix_interview_one_active",
            "workspace_id",
            "stakeholder_id",
            unique=True,
            postgresql_where=sa.text(_ACTIVE_SQL),
            sqlite_where=sa.text(_ACTIVE_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = workspace_fk()
    stakeholder_id: int
    state: InterviewState = Field(default=InterviewState.pending, sa_type=enum_column(InterviewState))
    step: int = Field(default=0, description="Index of the next question in the question set.")
    summary: str | None = Field(
        default=None, sa_type=sa.Text, description="Personal content: erased on forget."
    )
    completed_at: datetime | None = timestamp_field()


class QuestionBase(SQLModel):
    question_key: str = Field(max_length=64, description="Id of the question in the set, or 'followup'.")
    text: str = Field(sa_type=sa.Text)
    slack_message_ts: str | None = Field(default=None, max_length=SLACK_ID)


class QuestionCreate(QuestionBase):
    pass


class InterviewQuestion(QuestionBase, table=True):
    """A question the bot asked in an interview (follow-ups may quote the answer: erased on forget)."""

    __tablename__ = "interview_question"
    __table_args__ = (
        UniqueConstraint("workspace_id", "id"),
        ForeignKeyConstraint(["workspace_id", "interview_id"], ["interview.workspace_id", "interview.id"]),
        Index("ix_interview_question_workspace_id_interview_id", "workspace_id", "interview_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = workspace_fk()
    interview_id: int
    asked_at: datetime = created_at_field()


class AnswerBase(SQLModel):
    slack_event_id: str = Field(min_length=1, max_length=128)
    text: str = Field(sa_type=sa.Text)


class AnswerCreate(AnswerBase):
    interview_id: int
    question_id: int | None = None


class Answer(AnswerBase, table=True):
    """What a stakeholder said, stored once per Slack event."""

    __tablename__ = "answer"
    __table_args__ = (
        UniqueConstraint("workspace_id", "slack_event_id"),
        ForeignKeyConstraint(["workspace_id", "interview_id"], ["interview.workspace_id", "interview.id"]),
        ForeignKeyConstraint(
            ["workspace_id", "stakeholder_id"], ["stakeholder.workspace_id", "stakeholder.id"]
        ),
        ForeignKeyConstraint(
            ["workspace_id", "question_id"], ["interview_question.workspace_id", "interview_question.id"]
        ),
        Index("ix_answer_workspace_id_stakeholder_id", "workspace_id", "stakeholder_id"),
        Index("ix_answer_workspace_id_interview_id", "workspace_id", "interview_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = workspace_fk()
    interview_id: int
    stakeholder_id: int
    question_id: int | None = None
    answered_at: datetime = created_at_field()
