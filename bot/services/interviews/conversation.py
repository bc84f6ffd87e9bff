"""The interview conversation: a state machine whose only memory is the SQL store.

Nothing lives in process memory, so an interview resumes days later, on another replica or after
a restart, exactly where it stopped. Each incoming Slack message is one unit of work that locks
the interview row, so two deliveries (or two quick messages) are applied one after the other.

* The question the person is on is the last question the bot asked (``interview_question``);
  ``interview.step`` is the furthest question reached, because the store never moves it back and
  ``back`` has to.
* An answer is keyed by the Slack event id: a redelivered event finds its answer already stored
  and changes nothing. Commands (``skip``, ``back``, ``pause``, ``done``) carry their event id in
  the audit log for the same reason.
* Services do not talk to Slack: they return a :class:`Turn` saying what to show next.
  Reminders live in ``reminders``; posting turns in ``bot.slack.messaging.interviews``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from bot.knowledge.store import Document, KnowledgeStore
from bot.services.interviews.questions import Question, QuestionSet, QuestionSetError, load_question_set
from bot.services.knowledge.documents import answer_document
from bot.store.db import Engine, Session, session_scope
from bot.store.models import (
    ACTIVE_INTERVIEW_STATES,
    AnswerCreate,
    GtmRole,
    Interview,
    InterviewCreate,
    InterviewQuestion,
    InterviewState,
    QuestionCreate,
    Stakeholder,
    StakeholderCreate,
    StakeholderUpdate,
    Workspace,
)
from bot.store.repo import answers as answers_repo
from bot.store.repo import audit as audit_repo
from bot.store.repo import interviews as interviews_repo
from bot.store.repo import stakeholders as stakeholders_repo
from bot.store.repo import workspaces as workspaces_repo
from bot.store.repo.errors import ConflictError

log = logging.getLogger(__name__)

EVENT_TARGET = "slack_event"
_RECENT_QUESTIONS = 50  # the current question is the newest asked; older rows are only a fallback

Command = Literal["skip", "back", "pause", "done", "help", "resume"]
_COMMANDS: dict[str, Command] = {
    "skip": "skip",
    "next": "skip",
    "back": "back",
    "previous": "back",
    "pause": "pause",
    "stop": "pause",
    "later": "pause",
    "done": "done",
    "finish": "done",
    "help": "help",
    "?": "help",
    "resume": "resume",
    "continue": "resume",
    "start": "resume",
}
_COMMAND_NOISE = re.compile(r"[\s.!?`*_~]+")

TurnAction = Literal["ask", "completed", "paused", "help", "closed", "ignored", "duplicate"]


@dataclass(frozen=True, slots=True)
class Turn:
    """What the bot does next in the conversation.

    ``ask``: post ``question`` (``number`` of ``total``) with an optional ``note``;
    ``completed``/``paused``: say so; ``help``: list the commands; ``closed``: the interview is
    already over; ``ignored``: not ours to answer; ``duplicate``: a redelivery, do nothing.
    ``document`` is set when this turn stored a new answer that still has to be indexed.
    """

    action: TurnAction
    interview_id: int | None = None
    channel_id: str | None = None
    question: Question | None = None
    number: int = 0
    total: int = 0
    answered: int = 0
    note: str | None = None
    role_title: str | None = None
    resumed: bool = False
    document: Document | None = None


@dataclass(frozen=True, slots=True)
class Invitation:
    """The outcome of inviting one person: a new interview, or the one already under way."""

    interview_id: int
    created: bool
    state: InterviewState
    role: GtmRole
    questions: QuestionSet
    number: int  # the question they are on, 1-based (1 for a new interview)
    dm_channel_id: str | None


@dataclass(frozen=True, slots=True)
class InterviewStatus:
    """One stakeholder's latest interview, for `/icp status` and App Home."""

    user_id: str
    role: GtmRole
    role_title: str
    state: InterviewState
    answered: int
    total: int
    number: int
    last_activity: datetime


def parse_command(text: str) -> Command | None:
    """The command a message is, if it is only a command word ("Skip!", "`done`"), else None."""
    word = _COMMAND_NOISE.sub("", text.lower())
    if not word and "?" in text:
        word = "?"
    return _COMMANDS.get(word)


# -- reading state -------------------------------------------------------------------------------


def workspace_of(session: Session, team_id: str) -> Workspace | None:
    """The SQL workspace of a Slack team, if the bot has seen the team."""
    return workspaces_repo.get_workspace(session=session, slack_team_id=team_id)


def lock_interview(session: Session, workspace_id: int, interview_id: int) -> Interview | None:
    """The interview row, locked until the unit of work ends (PostgreSQL; SQLite locks the file)."""
    return interviews_repo.lock_interview(session, workspace_id=workspace_id, interview_id=interview_id)


def questions_for(interview: Interview, stakeholder: Stakeholder) -> QuestionSet:
    """The interview's question set: its recorded role, else the stakeholder's current role."""
    try:
        return load_question_set(interview.question_set)
    except QuestionSetError:
        if interview.question_set in {role.value for role in GtmRole}:
            raise  # the role's file itself is broken: say so rather than ask other questions
        return load_question_set(stakeholder.gtm_role)


def position_of(
    session: Session, workspace_id: int, interview: Interview, qset: QuestionSet
) -> tuple[int, InterviewQuestion | None]:
    """Index of the question the person is on, and the row of that question if it was asked."""
    assert interview.id is not None
    recent = interviews_repo.list_recent_questions(
        session, workspace_id=workspace_id, interview_id=interview.id, limit=_RECENT_QUESTIONS
    )
    for row in recent:
        index = qset.index_of(row.question_key)
        if index is not None:
            return index, row
    return min(interview.step, len(qset) - 1), None


def _answered(session: Session, workspace_id: int, interview_id: int) -> int:
    """Questions answered at least once (an answer given again after `back` counts once)."""
    rows = answers_repo.list_answer_question_keys(
        session, workspace_id=workspace_id, interview_id=interview_id
    )
    return len({key if key is not None else f"answer:{answer_id}" for answer_id, key in rows})


def _event_seen(session: Session, workspace_id: int, event_id: str) -> bool:
    """Whether this Slack event was already applied: as an answer, or as a command."""
    if answers_repo.get_answer_by_event(session=session, workspace_id=workspace_id, slack_event_id=event_id):
        return True
    return audit_repo.audit_target_exists(
        session, workspace_id=workspace_id, target_type=EVENT_TARGET, target_id=event_id
    )


def active_interview_of(*, engine: Engine, team_id: str, user_id: str) -> int | None:
    """Id of the person's pending, in-progress or paused interview (a cheap check per DM)."""
    with session_scope(engine) as session:
        ws = workspace_of(session, team_id)
        if ws is None or ws.id is None:
            return None
        person = stakeholders_repo.get_stakeholder(session=session, workspace_id=ws.id, slack_user_id=user_id)
        if person is None or person.id is None:
            return None
        active = interviews_repo.get_active_interview(
            session=session, workspace_id=ws.id, stakeholder_id=person.id
        )
        return active.id if active is not None else None


# -- invitations ---------------------------------------------------------------------------------


def invite(
    *,
    engine: Engine,
    team_id: str,
    user_id: str,
    invited_by: str,
    role: GtmRole | None = None,
    dm_channel_id: str | None = None,
    display_name: str | None = None,
    title: str | None = None,
) -> Invitation:
    """Create the stakeholder (if new) and a pending interview, unless one is already active.

    ``role`` set updates the stakeholder's role; unset keeps the known role (``other`` if new).
    """
    with session_scope(engine) as session:
        ws = workspaces_repo.get_or_create_workspace(session=session, slack_team_id=team_id)
        assert ws.id is not None
        person = stakeholders_repo.get_or_create_stakeholder(
            session=session,
            workspace_id=ws.id,
            data=StakeholderCreate(
                slack_user_id=user_id,
                display_name=display_name,
                title=title,
                gtm_role=role or GtmRole.other,
            ),
        )
        assert person.id is not None
        person_id = person.id  # the row update_stakeholder returns below has the same id
        update: dict[str, Any] = {}
        if role is not None and person.gtm_role != role:
            update["gtm_role"] = role
        if display_name and not person.display_name:
            update["display_name"] = display_name
        if title and not person.title:
            update["title"] = title
        if update:
            person = stakeholders_repo.update_stakeholder(
                session=session,
                workspace_id=ws.id,
                stakeholder_id=person_id,
                data=StakeholderUpdate(**update),
            )
        active = interviews_repo.get_active_interview(
            session=session, workspace_id=ws.id, stakeholder_id=person_id
        )
        created = False
        if active is None:
            qset = load_question_set(person.gtm_role)
            try:
                active = interviews_repo.create_interview(
                    session=session,
                    workspace_id=ws.id,
                    data=InterviewCreate(
                        stakeholder_id=person_id,
                        question_set=qset.role.value,
                        dm_channel_id=dm_channel_id,
                        started_by=invited_by,
                    ),
                )
                session.flush()
                created = True
            except ConflictError:  # another replica invited them a moment ago
                active = interviews_repo.get_active_interview(
                    session=session, workspace_id=ws.id, stakeholder_id=person_id
                )
                assert active is not None
        assert active.id is not None
        qset = questions_for(active, person)
        index, _ = position_of(session, ws.id, active, qset)
        if created:
            audit_repo.append_audit(
                session=session,
                workspace_id=ws.id,
                actor=invited_by,
                action="interview.invite",
                target_type="interview",
                target_id=active.id,
                details={"stakeholder": user_id, "question_set": qset.role.value},
            )
        return Invitation(
            interview_id=active.id,
            created=created,
            state=active.state,
            role=qset.role,
            questions=qset,
            number=index + 1,
            dm_channel_id=active.dm_channel_id,
        )


def abandon(*, engine: Engine, team_id: str, interview_id: int, actor: str, reason: str) -> None:
    """Close an interview that can never run (e.g. the invitation DM could not be sent)."""
    with session_scope(engine) as session:
        ws = workspace_of(session, team_id)
        if ws is None or ws.id is None:
            return
        interviews_repo.advance_interview(
            session=session, workspace_id=ws.id, interview_id=interview_id, state=InterviewState.abandoned
        )
        audit_repo.append_audit(
            session=session,
            workspace_id=ws.id,
            actor=actor,
            action="interview.abandon",
            target_type="interview",
            target_id=interview_id,
            details={"reason": reason},
        )


# -- the conversation ----------------------------------------------------------------------------


@dataclass
class _Conversation:
    """One unit of work on one locked interview."""

    session: Session
    workspace_id: int
    interview: Interview
    person: Stakeholder
    qset: QuestionSet

    @property
    def interview_id(self) -> int:
        assert self.interview.id is not None
        return self.interview.id

    def position(self) -> tuple[int, InterviewQuestion | None]:
        return position_of(self.session, self.workspace_id, self.interview, self.qset)

    def answered(self) -> int:
        return _answered(self.session, self.workspace_id, self.interview_id)

    def mark(self, command: str, event_id: str | None, actor: str, index: int) -> None:
        """Record the command in the audit log; with an event id this also makes it apply once."""
        audit_repo.append_audit(
            session=self.session,
            workspace_id=self.workspace_id,
            actor=actor,
            action=f"interview.{command}",
            target_type=EVENT_TARGET if event_id else "interview",
            target_id=event_id or self.interview_id,
            details={"interview_id": self.interview_id, "question": self.qset.questions[index].id},
        )

    def ask(self, index: int, *, note: str | None = None, resumed: bool = False) -> Turn:
        """Record that question ``index`` is asked now and move the interview to in progress."""
        question = self.qset.questions[index]
        interviews_repo.record_question(
            session=self.session,
            workspace_id=self.workspace_id,
            interview_id=self.interview_id,
            data=QuestionCreate(question_key=question.id, text=question.text),
        )
        self.interview = interviews_repo.advance_interview(
            session=self.session,
            workspace_id=self.workspace_id,
            interview_id=self.interview_id,
            state=InterviewState.in_progress,
            step=max(self.interview.step, index),
        )
        return Turn(
            action="ask",
            interview_id=self.interview_id,
            channel_id=self.interview.dm_channel_id,
            question=question,
            number=index + 1,
            total=len(self.qset),
            answered=self.answered(),
            note=note,
            role_title=self.qset.title,
            resumed=resumed,
        )

    def complete(self) -> Turn:
        self.interview = interviews_repo.advance_interview(
            session=self.session,
            workspace_id=self.workspace_id,
            interview_id=self.interview_id,
            state=InterviewState.completed,
        )
        return Turn(
            action="completed",
            interview_id=self.interview_id,
            channel_id=self.interview.dm_channel_id,
            number=len(self.qset),
            total=len(self.qset),
            answered=self.answered(),
            role_title=self.qset.title,
        )

    def pause(self, index: int) -> Turn:
        self.interview = interviews_repo.advance_interview(
            session=self.session,
            workspace_id=self.workspace_id,
            interview_id=self.interview_id,
            state=InterviewState.paused,
        )
        return Turn(
            action="paused",
            interview_id=self.interview_id,
            channel_id=self.interview.dm_channel_id,
            number=index + 1,
            total=len(self.qset),
            answered=self.answered(),
            role_title=self.qset.title,
        )

    def next_after(self, index: int, *, note: str | None = None) -> Turn:
        return self.complete() if index + 1 >= len(self.qset) else self.ask(index + 1, note=note)


def _open(session: Session, team_id: str, user_id: str, interview_id: int | None) -> _Conversation | None:
    """Lock the person's active interview (or the given one, if it is theirs)."""
    ws = workspace_of(session, team_id)
    if ws is None or ws.id is None:
        return None
    person = stakeholders_repo.get_stakeholder(session=session, workspace_id=ws.id, slack_user_id=user_id)
    if person is None or person.id is None:
        return None
    if interview_id is None:
        active = interviews_repo.get_active_interview(
            session=session, workspace_id=ws.id, stakeholder_id=person.id
        )
        if active is None or active.id is None:
            return None
        interview_id = active.id
    interview = lock_interview(session, ws.id, interview_id)
    if interview is None or interview.stakeholder_id != person.id:
        return None
    return _Conversation(session, ws.id, interview, person, questions_for(interview, person))


def handle_message(*, engine: Engine, team_id: str, user_id: str, text: str, event_id: str) -> Turn:
    """Apply one DM from a stakeholder: an answer, or a command; at most once per event id."""
    with session_scope(engine) as session:
        conv = _open(session, team_id, user_id, None)
        if conv is None or conv.interview.state not in ACTIVE_INTERVIEW_STATES:
            return Turn(action="ignored")
        if _event_seen(session, conv.workspace_id, event_id):
            return Turn(action="duplicate", interview_id=conv.interview_id)
        command = parse_command(text)
        index, asked = conv.position()
        state = conv.interview.state
        if command is not None or state != InterviewState.in_progress or asked is None:
            # Not an answer: record the event in the audit log, so a redelivery finds it there.
            fallback = "start" if state == InterviewState.pending else "resume"
            conv.mark(command or fallback, event_id, user_id, index)
            return _command(conv, command, index)
        answer, created = answers_repo.record_answer(
            session=session,
            workspace_id=conv.workspace_id,
            data=AnswerCreate(
                slack_event_id=event_id, text=text, interview_id=conv.interview_id, question_id=asked.id
            ),
        )
        if not created:
            return Turn(action="duplicate", interview_id=conv.interview_id)
        document = answer_document(answer=answer, stakeholder=conv.person, question_key=asked.question_key)
        return replace(conv.next_after(index), document=document)


def _command(conv: _Conversation, command: Command | None, index: int) -> Turn:
    """Everything that is not an answer to the current question."""
    state = conv.interview.state
    if command == "help":
        return Turn(action="help", interview_id=conv.interview_id, channel_id=conv.interview.dm_channel_id)
    if command == "done":
        return conv.complete()
    if command == "pause":
        return conv.pause(index)
    if state == InterviewState.pending:
        return conv.ask(index, note="Let's begin.")
    if state == InterviewState.paused:
        # After a pause the person may not remember the question: show it again, record nothing.
        return conv.ask(index, note="Welcome back! Here is where we stopped.", resumed=True)
    if command == "skip":
        return conv.next_after(index, note="Skipped.")
    if command == "back":
        if index == 0:
            return conv.ask(0, note="This is the first question.")
        return conv.ask(index - 1, note="Going back one question; your new answer is added.")
    # "resume" while in progress, or the asked questions were erased (forget): ask again.
    return conv.ask(index, note="Here is where we are.")


def start(*, engine: Engine, team_id: str, user_id: str, interview_id: int) -> Turn:
    """The Start (or Resume) button: begin, resume, or show the current question again."""
    with session_scope(engine) as session:
        conv = _open(session, team_id, user_id, interview_id)
        if conv is None:
            return Turn(action="ignored")
        if conv.interview.state not in ACTIVE_INTERVIEW_STATES:
            return Turn(
                action="closed",
                interview_id=conv.interview_id,
                channel_id=conv.interview.dm_channel_id,
                answered=conv.answered(),
                total=len(conv.qset),
            )
        index, _ = conv.position()
        state = conv.interview.state
        if state == InterviewState.pending:
            conv.mark("start", None, user_id, index)
            return conv.ask(index, note=f"{conv.qset.intro} Let's begin.")
        if state == InterviewState.paused:
            conv.mark("resume", None, user_id, index)
            return conv.ask(index, note="Welcome back! Here is where we stopped.", resumed=True)
        return conv.ask(index, note="Here is where we are.", resumed=True)


KnowledgeSource = KnowledgeStore | Callable[[], KnowledgeStore | None] | None


def index_turn(*, knowledge: KnowledgeSource, team_id: str, turn: Turn) -> bool:
    """Add the answer a turn stored to the knowledge store; SQL stays the source of truth.

    A failure is logged, not raised: the answer is safe in SQL and ``icp reindex`` restores it.
    """
    if turn.document is None:
        return False
    try:
        store = knowledge() if callable(knowledge) else knowledge  # opening it can fail too
        if store is None:
            return False
        store.add_documents(workspace=team_id, docs=[turn.document])
    except Exception:
        log.exception("could not index answer %s of team %s", turn.document.source_id, team_id)
        return False
    return True


# -- status -------------------------------------------------------------------------------------------


def interview_status(*, engine: Engine, team_id: str) -> list[InterviewStatus]:
    """Each stakeholder's latest interview that ran or can run (abandoned ones are left out)."""
    with session_scope(engine) as session:
        ws = workspace_of(session, team_id)
        if ws is None or ws.id is None:
            return []
        people = {p.id: p for p in stakeholders_repo.list_stakeholders(session=session, workspace_id=ws.id)}
        latest: dict[int, Interview] = {}
        for interview in interviews_repo.list_interviews(session=session, workspace_id=ws.id):
            if interview.state != InterviewState.abandoned:
                latest[interview.stakeholder_id] = interview  # ordered by id: the last one wins
        rows: list[InterviewStatus] = []
        for stakeholder_id, interview in latest.items():
            person = people[stakeholder_id]
            assert interview.id is not None
            qset = questions_for(interview, person)
            index, _ = position_of(session, ws.id, interview, qset)
            rows.append(
                InterviewStatus(
                    user_id=person.slack_user_id,
                    role=qset.role,
                    role_title=qset.title,
                    state=interview.state,
                    answered=_answered(session, ws.id, interview.id),
                    total=len(qset),
                    number=index + 1,
                    last_activity=interview.completed_at or interview.updated_at,
                )
            )
        return rows
