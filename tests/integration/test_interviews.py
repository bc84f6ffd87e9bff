"""The interview state machine on real SQLite and PostgreSQL, with a real knowledge store.

Every step is a unit of work on the SQL store, so "restart" is simply a fresh engine on the same
database: nothing else remembers where an interview is.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from bot.knowledge.embeddings import OnnxMiniLM
from bot.knowledge.store import KnowledgeStore
from bot.services.interviews import conversation as interviews
from bot.services.interviews import reminders as interview_reminders
from bot.services.interviews.questions import load_question_set
from bot.store import make_engine, session_scope
from bot.store.models import GtmRole, InterviewState
from bot.store.repo import answers as answers_repo
from bot.store.repo import interviews as interviews_repo
from bot.store.repo import stakeholders as stakeholders_repo
from bot.store.repo import workspaces as workspaces_repo
from bot.store.repo.privacy import forget_stakeholder
from bot.store.types import utcnow

SALES = load_question_set(GtmRole.sales)
OTHER = load_question_set(GtmRole.other)
BOSS = "U0BOSS"


def new_team() -> str:
    return f"T{uuid.uuid4().hex[:10].upper()}"


def new_event() -> str:
    return f"Ev{uuid.uuid4().hex[:12].upper()}"


@pytest.fixture(scope="module")
def embedder() -> OnnxMiniLM:
    model = OnnxMiniLM(threads=1)
    model.load()
    return model


@pytest.fixture
def knowledge(tmp_path: Path, embedder: OnnxMiniLM) -> KnowledgeStore:
    return KnowledgeStore(path=tmp_path / "chroma", embedder=embedder)


@dataclass
class Person:
    """One stakeholder in a fresh workspace, talking to the bot through the service."""

    engine: Engine
    team: str
    user: str
    sent: list[tuple[str, str]] = field(default_factory=list)

    def say(self, text: str, event_id: str | None = None, engine: Engine | None = None) -> interviews.Turn:
        event_id = event_id or new_event()
        self.sent.append((event_id, text))
        return interviews.handle_message(
            engine=engine or self.engine, team_id=self.team, user_id=self.user, text=text, event_id=event_id
        )

    def redeliver(self, index: int = -1) -> interviews.Turn:
        event_id, text = self.sent[index]
        return interviews.handle_message(
            engine=self.engine, team_id=self.team, user_id=self.user, text=text, event_id=event_id
        )

    def answers(self) -> list[str]:
        with session_scope(self.engine) as session:
            ws = workspaces_repo.get_workspace(session=session, slack_team_id=self.team)
            assert ws is not None and ws.id is not None
            person = stakeholders_repo.require_stakeholder(
                session=session, workspace_id=ws.id, slack_user_id=self.user
            )
            return [
                a.text
                for a in answers_repo.list_answers(
                    session=session, workspace_id=ws.id, stakeholder_id=person.id
                )
            ]

    def interview_state(self, interview_id: int) -> InterviewState:
        with session_scope(self.engine) as session:
            ws = workspaces_repo.get_workspace(session=session, slack_team_id=self.team)
            assert ws is not None and ws.id is not None
            return interviews_repo.get_interview(
                session=session, workspace_id=ws.id, interview_id=interview_id
            ).state


def invited(
    engine: Engine, role: GtmRole | None = GtmRole.sales, team: str | None = None
) -> tuple[Person, int]:
    person = Person(engine, team or new_team(), f"U{uuid.uuid4().hex[:8].upper()}")
    invitation = interviews.invite(
        engine=engine,
        team_id=person.team,
        user_id=person.user,
        invited_by=BOSS,
        role=role,
        dm_channel_id=f"D{person.user[1:]}",
        display_name="Dana",
    )
    assert invitation.created and invitation.state == InterviewState.pending
    return person, invitation.interview_id


def asks(turn: interviews.Turn, number: int, qset: interviews.QuestionSet = SALES) -> None:
    assert turn.action == "ask", turn
    assert turn.number == number and turn.total == len(qset)
    assert turn.question == qset.questions[number - 1]


# -- the conversation ----------------------------------------------------------------------------


def test_full_interview_with_every_command_and_redeliveries(
    store_engine: Engine, knowledge: KnowledgeStore
) -> None:
    dana, interview_id = invited(store_engine)

    first = dana.say("hello!")  # an invitee who writes instead of pressing Start: begin, record nothing
    asks(first, 1)
    assert first.note == "Let's begin." and first.document is None and first.channel_id == f"D{dana.user[1:]}"

    turn = dana.say("Logistics firms with 200-2000 staff in the US; they close in 30 days.")
    asks(turn, 2)
    assert turn.answered == 1 and turn.document is not None
    assert interviews.index_turn(knowledge=knowledge, team_id=dana.team, turn=turn)
    again = dana.redeliver()  # Slack redelivers the same event: nothing changes
    assert again.action == "duplicate" and again.document is None
    assert not interviews.index_turn(knowledge=knowledge, team_id=dana.team, turn=again)

    asks(dana.say("skip"), 3)
    assert dana.redeliver().action == "duplicate"  # a redelivered skip does not skip twice
    back = dana.say("Back")
    asks(back, 2)
    turn = dana.say("Manual dispatch eats their margins.")
    asks(turn, 3)
    assert turn.answered == 2
    interviews.index_turn(knowledge=knowledge, team_id=dana.team, turn=turn)

    paused = dana.say("pause")
    assert paused.action == "paused" and paused.number == 3
    assert dana.interview_state(interview_id) == InterviewState.paused
    assert dana.say("pause").action == "paused"  # already paused: says so again, changes nothing

    # days later, after a restart: a new engine on the same database picks up at question 3
    restarted = make_engine(store_engine.url.render_as_string(hide_password=False))
    try:
        resumed = dana.say("I'm back", engine=restarted)
        asks(resumed, 3)
        assert resumed.resumed and resumed.document is None
        turn = dana.say("A new VP of Operations, usually.", engine=restarted)
        asks(turn, 4)
        interviews.index_turn(knowledge=knowledge, team_id=dana.team, turn=turn)
        done = dana.say("done", engine=restarted)
    finally:
        restarted.dispose()
    assert done.action == "completed" and done.answered == 3 and done.total == len(SALES)
    assert dana.interview_state(interview_id) == InterviewState.completed
    assert dana.say("one more thing").action == "ignored"  # no active interview: not ours

    assert dana.answers() == [
        "Logistics firms with 200-2000 staff in the US; they close in 30 days.",
        "Manual dispatch eats their margins.",
        "A new VP of Operations, usually.",
    ]
    assert knowledge.count(workspace=dana.team, kind="answer") == 3
    hits = knowledge.search(workspace=dana.team, query="what triggers a purchase?", kinds=["answer"], k=3)
    by_text = {h.text: h for h in hits}
    trigger = by_text["A new VP of Operations, usually."]
    assert trigger.metadata["stakeholder"] == dana.user and trigger.metadata["role"] == "sales"
    assert trigger.metadata["question_key"] == "triggers"
    assert trigger.metadata["interview_id"] == interview_id


def test_answering_the_last_question_completes(store_engine: Engine) -> None:
    lee, _ = invited(store_engine, role=GtmRole.other)
    asks(lee.say("hi"), 1, OTHER)
    for number in range(2, len(OTHER) + 1):
        asks(lee.say(f"answer {number - 1}"), number, OTHER)
    done = lee.say("the last answer")
    assert done.action == "completed" and done.answered == len(OTHER)


def test_skip_on_the_last_question_completes_and_back_on_the_first_stays(store_engine: Engine) -> None:
    kim, _ = invited(store_engine, role=GtmRole.other)
    asks(kim.say("start"), 1, OTHER)
    first = kim.say("back")
    asks(first, 1, OTHER)
    assert first.note == "This is the first question."
    for number in range(2, len(OTHER) + 1):
        asks(kim.say("skip"), number, OTHER)
    done = kim.say("skip")
    assert done.action == "completed" and done.answered == 0
    assert kim.answers() == []


def test_answer_given_again_after_back_counts_once(store_engine: Engine) -> None:
    ash, _ = invited(store_engine)
    ash.say("go")
    ash.say("first try")
    ash.say("back")
    turn = ash.say("second, better answer")
    asks(turn, 2)
    assert turn.answered == 1
    assert ash.answers() == ["first try", "second, better answer"]


def test_help_changes_nothing(store_engine: Engine) -> None:
    sam, _ = invited(store_engine)
    assert sam.say("help").action == "help"  # before starting
    asks(sam.say("ok"), 1)
    assert sam.say("?").action == "help"
    asks(sam.say("resume"), 1)  # "where was I?" shows the same question again
    asks(sam.say("an answer"), 2)


def test_done_before_starting_closes_with_no_answers(store_engine: Engine) -> None:
    pat, interview_id = invited(store_engine)
    done = pat.say("done")
    assert done.action == "completed" and done.answered == 0
    assert pat.interview_state(interview_id) == InterviewState.completed


def test_messages_from_people_without_an_interview_are_ignored(store_engine: Engine) -> None:
    dana, interview_id = invited(store_engine)
    stranger = Person(store_engine, dana.team, "U0STRANGER")
    assert stranger.say("hello").action == "ignored"
    assert (
        interviews.active_interview_of(engine=store_engine, team_id=dana.team, user_id="U0STRANGER") is None
    )
    assert (
        interviews.active_interview_of(engine=store_engine, team_id=dana.team, user_id=dana.user)
        == interview_id
    )
    elsewhere = Person(store_engine, new_team(), dana.user)  # same user id, another workspace
    assert elsewhere.say("hello").action == "ignored"


def test_erased_mid_interview_asks_again_and_keeps_going(store_engine: Engine) -> None:
    dana, _ = invited(store_engine)
    dana.say("go")
    dana.say("first answer")
    dana.say("second answer")
    with session_scope(store_engine) as session:
        ws = workspaces_repo.get_workspace(session=session, slack_team_id=dana.team)
        assert ws is not None and ws.id is not None
        forget_stakeholder(session=session, workspace_id=ws.id, slack_user_id=dana.user, actor=BOSS)
    assert dana.answers() == []
    again = dana.say("third answer, but the question it answered is gone")
    asks(again, 3)  # shown again rather than filed under a question we cannot name
    assert again.document is None and dana.answers() == []
    asks(dana.say("third answer"), 4)
    assert dana.answers() == ["third answer"]


# -- the Start button ----------------------------------------------------------------------------


def test_start_button(store_engine: Engine) -> None:
    dana, interview_id = invited(store_engine)
    other_team = new_team()
    assert (
        interviews.start(
            engine=store_engine, team_id=dana.team, user_id="U0SOMEONE", interview_id=interview_id
        ).action
        == "ignored"
    )
    assert (
        interviews.start(
            engine=store_engine, team_id=other_team, user_id=dana.user, interview_id=interview_id
        ).action
        == "ignored"
    )
    assert (
        interviews.start(engine=store_engine, team_id=dana.team, user_id=dana.user, interview_id=10**9).action
        == "ignored"
    )
    turn = interviews.start(
        engine=store_engine, team_id=dana.team, user_id=dana.user, interview_id=interview_id
    )
    asks(turn, 1)
    assert SALES.intro in (turn.note or "") and not turn.resumed
    assert dana.interview_state(interview_id) == InterviewState.in_progress
    asks(dana.say("an answer"), 2)
    pressed_again = interviews.start(
        engine=store_engine, team_id=dana.team, user_id=dana.user, interview_id=interview_id
    )
    asks(pressed_again, 2)  # a second press shows where they are; it does not restart
    assert pressed_again.resumed
    dana.say("pause")
    resumed = interviews.start(
        engine=store_engine, team_id=dana.team, user_id=dana.user, interview_id=interview_id
    )
    asks(resumed, 2)
    assert dana.interview_state(interview_id) == InterviewState.in_progress
    dana.say("done")
    closed = interviews.start(
        engine=store_engine, team_id=dana.team, user_id=dana.user, interview_id=interview_id
    )
    assert closed.action == "closed" and closed.answered == 1


# -- invitations and status ----------------------------------------------------------------------


def test_inviting_twice_keeps_one_interview_and_updates_the_role(store_engine: Engine) -> None:
    dana, interview_id = invited(store_engine, role=None)
    again = interviews.invite(
        engine=store_engine, team_id=dana.team, user_id=dana.user, invited_by=BOSS, role=GtmRole.product
    )
    assert not again.created and again.interview_id == interview_id and again.state == InterviewState.pending
    assert again.role == GtmRole.other  # the running interview keeps its questions
    with session_scope(store_engine) as session:
        ws = workspaces_repo.get_workspace(session=session, slack_team_id=dana.team)
        assert ws is not None and ws.id is not None
        person = stakeholders_repo.require_stakeholder(
            session=session, workspace_id=ws.id, slack_user_id=dana.user
        )
        assert person.gtm_role == GtmRole.product and person.display_name == "Dana"
    dana.say("go")
    dana.say("an answer")
    progressed = interviews.invite(engine=store_engine, team_id=dana.team, user_id=dana.user, invited_by=BOSS)
    assert (
        not progressed.created and progressed.number == 2 and progressed.state == InterviewState.in_progress
    )
    dana.say("done")
    fresh = interviews.invite(engine=store_engine, team_id=dana.team, user_id=dana.user, invited_by=BOSS)
    assert fresh.created and fresh.interview_id != interview_id
    assert fresh.role == GtmRole.product and len(fresh.questions) == len(load_question_set(GtmRole.product))


def test_abandoned_invitation_can_be_sent_again(store_engine: Engine) -> None:
    dana, interview_id = invited(store_engine)
    interviews.abandon(
        engine=store_engine, team_id=dana.team, interview_id=interview_id, actor=BOSS, reason="DM failed"
    )
    assert dana.interview_state(interview_id) == InterviewState.abandoned
    assert interviews.interview_status(engine=store_engine, team_id=dana.team) == []
    assert dana.say("hello").action == "ignored"
    assert interviews.invite(
        engine=store_engine, team_id=dana.team, user_id=dana.user, invited_by=BOSS
    ).created


def test_status_lists_each_persons_latest_interview(store_engine: Engine) -> None:
    team = new_team()
    finished, _ = invited(store_engine, team=team)
    finished.say("go")
    finished.say("an answer")
    finished.say("done")
    going, _ = invited(store_engine, team=team, role=GtmRole.marketing)
    going.say("go")
    going.say("skip")
    going.say("skip")
    resting, _ = invited(store_engine, team=team)
    resting.say("go")
    resting.say("pause")
    waiting, _ = invited(store_engine, team=team, role=GtmRole.leadership)

    rows = {r.user_id: r for r in interviews.interview_status(engine=store_engine, team_id=team)}
    assert set(rows) == {finished.user, going.user, resting.user, waiting.user}
    assert (rows[finished.user].state, rows[finished.user].answered) == (InterviewState.completed, 1)
    assert (rows[going.user].state, rows[going.user].number, rows[going.user].role_title) == (
        InterviewState.in_progress,
        3,
        "Marketing",
    )
    assert rows[resting.user].state == InterviewState.paused
    assert (rows[waiting.user].state, rows[waiting.user].total) == (
        InterviewState.pending,
        len(load_question_set(GtmRole.leadership)),
    )
    assert interviews.interview_status(engine=store_engine, team_id=new_team()) == []


# -- reminders -----------------------------------------------------------------------------------


def test_reminders_once_per_window_and_gently_capped(store_engine: Engine) -> None:
    team = new_team()
    waiting, waiting_id = invited(store_engine, team=team)
    started, started_id = invited(store_engine, team=team)
    started.say("go")
    started.say("an answer")
    finished, _ = invited(store_engine, team=team)
    finished.say("done")
    delay = timedelta(hours=48)

    def due_at(now: object) -> dict[int, interview_reminders.ReminderDue]:
        found = interview_reminders.due_reminders(engine=store_engine, now=now, delay=delay)  # type: ignore[arg-type]
        return {d.interview_id: d for d in found if d.team_id == team}

    now = utcnow()
    assert due_at(now + timedelta(hours=47)) == {}  # not quiet for long enough yet
    later = now + timedelta(hours=49)
    due = due_at(later)
    assert set(due) == {waiting_id, started_id}
    assert not due[waiting_id].started and due[started_id].started and due[started_id].number == 2
    assert due[waiting_id].dm_channel_id == f"D{waiting.user[1:]}"

    claim = interview_reminders.claim_reminder(
        engine=store_engine, team_id=team, interview_id=waiting_id, now=later, delay=delay
    )
    assert claim is not None and claim.user_id == waiting.user
    assert (
        interview_reminders.claim_reminder(
            engine=store_engine, team_id=team, interview_id=waiting_id, now=later, delay=delay
        )
        is None
    )  # claimed once: a second replica gets nothing
    assert set(due_at(later + timedelta(hours=47))) == {started_id}
    for window in range(1, interview_reminders.MAX_REMINDERS):
        moment = later + window * delay
        assert waiting_id in due_at(moment)
        assert interview_reminders.claim_reminder(
            engine=store_engine, team_id=team, interview_id=waiting_id, now=moment, delay=delay
        )
    assert waiting_id not in due_at(later + 10 * delay)  # three reminders is enough


def test_concurrent_claims_send_one_reminder(store_engine: Engine) -> None:
    team = new_team()
    _, interview_id = invited(store_engine, team=team)
    later = utcnow() + timedelta(days=3)
    results: list[object] = []
    barrier = threading.Barrier(4)

    def claim() -> None:
        barrier.wait()
        results.append(
            interview_reminders.claim_reminder(
                engine=store_engine,
                team_id=team,
                interview_id=interview_id,
                now=later,
                delay=timedelta(hours=48),
            )
        )

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r is not None for r in results) == 1


# -- concurrency ---------------------------------------------------------------------------------


def test_the_same_event_delivered_twice_at_once_is_stored_once(store_engine: Engine) -> None:
    dana, _ = invited(store_engine)
    dana.say("go")
    event_id = new_event()
    barrier = threading.Barrier(2)
    turns: list[interviews.Turn] = []

    def deliver() -> None:
        barrier.wait()
        turns.append(
            interviews.handle_message(
                engine=store_engine, team_id=dana.team, user_id=dana.user, text="Fintech", event_id=event_id
            )
        )

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(t.action for t in turns) == ["ask", "duplicate"]
    assert dana.answers() == ["Fintech"]
    assert sum(t.document is not None for t in turns) == 1


def test_two_quick_messages_answer_two_questions(store_engine: Engine) -> None:
    dana, _ = invited(store_engine)
    dana.say("go")
    barrier = threading.Barrier(2)
    turns: list[interviews.Turn] = []

    def send(text: str) -> None:
        barrier.wait()
        turns.append(
            interviews.handle_message(
                engine=store_engine, team_id=dana.team, user_id=dana.user, text=text, event_id=new_event()
            )
        )

    threads = [threading.Thread(target=send, args=(text,)) for text in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(t.number for t in turns) == [2, 3]  # applied one after the other, never both at 1
    assert sorted(dana.answers()) == ["one", "two"]


# -- the state machine against a model -----------------------------------------------------------


@dataclass
class Model:
    """The intended behaviour in a few lines: what the SQL-backed machine must agree with."""

    total: int
    state: str = "pending"
    index: int = 0
    answered: set[int] = field(default_factory=set)

    def apply(self, text: str) -> str:
        command = interviews.parse_command(text)
        if self.state == "completed":
            return "ignored"
        if command == "help":
            return "help"
        if command == "done":
            self.state = "completed"
            return "completed"
        if command == "pause":
            self.state = "paused"
            return "paused"
        if self.state in ("pending", "paused"):
            self.state = "in_progress"
            return "ask"
        if command == "resume":
            return "ask"
        if command == "back":
            self.index = max(0, self.index - 1)
            return "ask"
        if command != "skip":
            self.answered.add(self.index)
        if self.index + 1 >= self.total:
            self.state = "completed"
            return "completed"
        self.index += 1
        return "ask"


MESSAGES = st.sampled_from(["skip", "back", "pause", "done", "help", "resume", "an answer", "another answer"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(MESSAGES, st.booleans()), min_size=1, max_size=12))
def test_machine_agrees_with_the_model(store_engine: Engine, steps: list[tuple[str, bool]]) -> None:
    person, _ = invited(store_engine, role=GtmRole.other)
    model = Model(total=len(OTHER))
    expected_answers: list[str] = []
    for text, redeliver_after in steps:
        if model.state == "in_progress" and interviews.parse_command(text) is None:
            expected_answers.append(text)
        expected = model.apply(text)
        turn = person.say(text)
        assert turn.action == expected, (text, turn)
        if expected == "ask":
            asks(turn, model.index + 1, OTHER)
        if expected in ("ask", "completed"):
            assert turn.answered == len(model.answered)
        if redeliver_after and expected not in ("ignored", "help"):
            # a redelivery changes nothing: seen before, or the interview is over
            assert person.redeliver().action == ("ignored" if model.state == "completed" else "duplicate")
    assert person.answers() == expected_answers
