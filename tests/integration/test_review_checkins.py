"""Review check-ins in the real store (SQLite and PostgreSQL, migrated): who is asked once per
round, a DM reply closes the newest open check-in once per event id, rounds end when the review is
closed, counts and answers per round, and erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from bot.services.reviews import checkins, reminders
from bot.services.reviews.checkins import CheckinRound, ReplyAction
from bot.store import session_scope
from bot.store.db import read_scope
from bot.store.models import (
    GtmRole,
    InterviewCreate,
    InterviewState,
    ReviewCheckin,
    StakeholderCreate,
)
from bot.store.models.ops import Cadence
from bot.store.repo import checkins as checkins_repo
from bot.store.repo.interviews import advance_interview, create_interview
from bot.store.repo.stakeholders import get_or_create_stakeholder
from tests.support.knowledge_fixtures import new_workspace

T0 = datetime(2027, 1, 4, 9, tzinfo=UTC)
OWNER = "U0OWNER"


def world(engine: Engine) -> tuple[str, int, int]:
    """A workspace with a reminder and three completed interviews: (team, workspace id, reminder id)."""
    team, wid = new_workspace(engine)
    state = reminders.set_reminder(
        engine,
        team_id=team,
        actor=OWNER,
        cadence=Cadence.quarterly,
        cron=None,
        channel_id="C0REVOPS",
        timezone="UTC",
        now=T0,
    )
    with session_scope(engine) as session:
        for user, name, role in (
            ("U0ANA", "Ana", GtmRole.sales),
            ("U0BEN", None, GtmRole.customer_success),
            ("U0CY", None, GtmRole.other),
        ):
            person = get_or_create_stakeholder(
                session=session,
                workspace_id=wid,
                data=StakeholderCreate(slack_user_id=user, display_name=name, gtm_role=role),
            )
            assert person.id is not None
            interview = create_interview(
                session=session, workspace_id=wid, data=InterviewCreate(stakeholder_id=person.id)
            )
            assert interview.id is not None
            advance_interview(
                session=session, workspace_id=wid, interview_id=interview.id, state=InterviewState.completed
            )
    return team, wid, state.id


def send_all(engine: Engine, team: str, reminder_id: int, now: datetime) -> list[str]:
    people = checkins.people_to_ask(engine, team_id=team, reminder_id=reminder_id)
    for person in people:
        checkins.record_sent(
            engine, team_id=team, reminder_id=reminder_id, slack_user_id=person, asked_by=OWNER, now=now
        )
    return people


def figures(engine: Engine, wid: int) -> CheckinRound:
    with read_scope(engine) as session:
        return checkins.round_figures(session, workspace_id=wid, segment="default")


def test_each_person_is_asked_once_per_round_and_a_closed_review_starts_a_new_round(
    store_engine: Engine,
) -> None:
    team, wid, rid = world(store_engine)
    assert figures(store_engine, wid) == CheckinRound(0, 0)
    assert send_all(store_engine, team, rid, T0) == ["U0ANA", "U0BEN", "U0CY"]
    assert send_all(store_engine, team, rid, T0 + timedelta(minutes=5)) == []  # a second click
    assert checkins.people_to_ask(store_engine, team_id=team, reminder_id=rid + 1000) == []  # unknown
    assert checkins.people_to_ask(store_engine, team_id="T0NOBODY", reminder_id=rid) == []

    reply = checkins.record_reply(
        store_engine, team_id=team, user_id="U0ANA", text=" Fintech wins. ", event_id="Ev1", now=T0
    )
    assert reply == checkins.CheckinReply(ReplyAction.answered, OWNER)
    assert figures(store_engine, wid) == CheckinRound(asked=3, answered=1)

    # The owner closes the review: a new round asks everyone again, old check-ins are closed.
    reminders.mark_reviewed(
        store_engine, team_id=team, reminder_id=rid, actor=OWNER, now=T0 + timedelta(days=1)
    )
    assert figures(store_engine, wid) == CheckinRound(0, 0)
    assert not checkins.awaits_reply(store_engine, team_id=team, user_id="U0BEN", event_id="Ev2")
    late = checkins.record_reply(
        store_engine, team_id=team, user_id="U0BEN", text="late", event_id="Ev2", now=T0 + timedelta(days=1)
    )
    assert late.action is ReplyAction.none
    assert send_all(store_engine, team, rid, T0 + timedelta(days=2)) == ["U0ANA", "U0BEN", "U0CY"]
    assert figures(store_engine, wid) == CheckinRound(asked=3, answered=0)


def test_a_reply_is_stored_once_per_event_and_closes_the_newest_open_check_in(store_engine: Engine) -> None:
    team, wid, rid = world(store_engine)
    send_all(store_engine, team, rid, T0)
    assert checkins.awaits_reply(store_engine, team_id=team, user_id="U0BEN", event_id="EvB1")
    assert not checkins.awaits_reply(store_engine, team_id=team, user_id="U0NOT", event_id="EvB1")

    first = checkins.record_reply(
        store_engine, team_id=team, user_id="U0BEN", text="Retail churns", event_id="EvB1", now=T0
    )
    again = checkins.record_reply(
        store_engine, team_id=team, user_id="U0BEN", text="Retail churns", event_id="EvB1", now=T0
    )
    assert (first.action, again.action) == (ReplyAction.answered, ReplyAction.duplicate)
    # The redelivery still belongs to the check-in (so chat does not take it); a new DM does not.
    assert checkins.awaits_reply(store_engine, team_id=team, user_id="U0BEN", event_id="EvB1")
    assert not checkins.awaits_reply(store_engine, team_id=team, user_id="U0BEN", event_id="EvB2")
    assert (
        checkins.record_reply(
            store_engine, team_id=team, user_id="U0BEN", text="more", event_id="EvB2", now=T0
        ).action
        is ReplyAction.none
    )

    with read_scope(store_engine) as session:
        rows = checkins_repo.round_checkins(session=session, workspace_id=wid, reminder_id=rid)
    ben = [(r.answer, r.slack_event_id, r.answered_at) for r in rows if r.slack_user_id == "U0BEN"]
    assert ben == [("Retail churns", "EvB1", T0)]

    answers = checkins.round_answers(store_engine, team_id=team, reminder_id=rid)
    assert [(a.slack_user_id, a.who, a.answer) for a in answers] == [
        ("U0BEN", "Customer success", "Retail churns"),  # answered first; role when no name
        ("U0ANA", "Ana", None),  # the name when known
        ("U0CY", "", None),  # role "other" says nothing
    ]


def test_the_answer_event_id_is_unique_per_workspace(store_engine: Engine) -> None:
    _, wid, rid = world(store_engine)
    _, other_wid, other_rid = world(store_engine)
    with session_scope(store_engine) as session:  # the same event id in two workspaces is fine
        for w, r in ((wid, rid), (other_wid, other_rid)):
            session.add(
                ReviewCheckin(
                    workspace_id=w, reminder_id=r, slack_user_id="U0ANA", asked_by=OWNER, slack_event_id="EvX"
                )
            )
    with pytest.raises(IntegrityError), session_scope(store_engine) as session:
        session.add(
            ReviewCheckin(
                workspace_id=wid, reminder_id=rid, slack_user_id="U0BEN", asked_by=OWNER, slack_event_id="EvX"
            )
        )
        session.flush()


def test_forgetting_a_person_deletes_only_their_check_ins(store_engine: Engine) -> None:
    team, wid, rid = world(store_engine)
    send_all(store_engine, team, rid, T0)
    checkins.record_reply(store_engine, team_id=team, user_id="U0ANA", text="secret", event_id="EvA", now=T0)
    with session_scope(store_engine) as session:
        assert checkins_repo.forget_checkins(session=session, workspace_id=wid, slack_user_id="U0ANA") == 1
    assert [a.slack_user_id for a in checkins.round_answers(store_engine, team_id=team, reminder_id=rid)] == [
        "U0BEN",
        "U0CY",
    ]
    assert figures(store_engine, wid) == CheckinRound(asked=2, answered=0)


def test_a_check_in_whose_dm_failed_is_withdrawn_and_asked_again(store_engine: Engine) -> None:
    team, wid, rid = world(store_engine)
    checkin = checkins.record_sent(
        store_engine, team_id=team, reminder_id=rid, slack_user_id="U0ANA", asked_by=OWNER, now=T0
    )
    assert checkins.people_to_ask(store_engine, team_id=team, reminder_id=rid) == ["U0BEN", "U0CY"]
    checkins.withdraw(store_engine, team_id=team, checkin_id=checkin)
    assert checkins.people_to_ask(store_engine, team_id=team, reminder_id=rid) == ["U0ANA", "U0BEN", "U0CY"]
    assert not checkins.awaits_reply(store_engine, team_id=team, user_id="U0ANA", event_id="Ev1")
    assert figures(store_engine, wid) == CheckinRound(0, 0)
