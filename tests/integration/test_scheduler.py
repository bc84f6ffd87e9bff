"""The scheduler on real databases (SQLite and PostgreSQL) against the stand-in Slack Web API.

Time is injected: every pass gets its ``now``; nothing sleeps. Restarts are new workers (and new
engines) reading the same rows.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.scheduler import run_due, worker_id
from bot.services.reviews.cadence import Schedule, next_run
from bot.settings import Settings
from bot.slack.context import AppContext
from bot.store import session_scope
from bot.store.models import ReminderCreate, ReviewReminder
from bot.store.models.ops import Cadence
from bot.store.repo import reminders as reminders_repo
from bot.store.repo.workspaces import get_or_create_workspace
from tests.support.harness import StandInSlack
from tests.support.review_fixtures import LAST_REVIEW, seed_review_workspace

T0 = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Berlin
MINUTE = timedelta(minutes=1)
WEEK = timedelta(days=7)


def make_ctx(engine: Engine, stand_in: StandInSlack) -> AppContext:
    settings = Settings(_env_file=None, slack_api_url=stand_in.api_url, scheduler_claim_seconds=300)  # type: ignore[call-arg]
    return AppContext(settings=settings, engine=engine)


def clients_for(stand_in: StandInSlack):  # type: ignore[no-untyped-def]
    client = WebClient(token="xoxb-test", base_url=stand_in.api_url)
    return lambda _team: client


def add_reminder(
    engine: Engine,
    *,
    channel: str = "CREVIEW",
    anchor: datetime = T0,
    cadence: Cadence = Cadence.weekly,
    team: str | None = None,
    owner: str | None = None,
) -> tuple[str, int]:
    team = team or f"T{uuid.uuid4().hex[:10]}"
    with session_scope(engine) as session:
        wid = get_or_create_workspace(session=session, slack_team_id=team).id
        assert wid is not None
        row = reminders_repo.create_reminder(
            session=session,
            workspace_id=wid,
            data=ReminderCreate(
                cadence=cadence,
                channel_id=channel,
                owner=owner,
                timezone="Europe/Berlin",
                anchor_at=anchor,
                next_run_at=anchor,
            ),
        )
        assert row.id is not None
        return team, row.id


def reminder(engine: Engine, reminder_id: int) -> ReviewReminder:
    with session_scope(engine) as session:
        row = session.get(ReviewReminder, reminder_id)
        assert row is not None
        return row


def posts_to(stand_in: StandInSlack, channel: str) -> int:
    return len([c for c in stand_in.calls_to("chat.postMessage") if c.params.get("channel") == channel])


def test_fires_at_its_time_once_and_schedules_the_next(store_engine: Engine, stand_in: StandInSlack) -> None:
    channel = f"C{uuid.uuid4().hex[:8].upper()}"
    _, rid = add_reminder(store_engine, channel=channel)
    ctx, clients = make_ctx(store_engine, stand_in), clients_for(stand_in)

    run_due(ctx, clients=clients, worker=worker_id(), now=T0 - MINUTE, interviews=False)
    assert posts_to(stand_in, channel) == 0

    due = run_due(ctx, clients=clients, worker=worker_id(), now=T0 + MINUTE, interviews=False)
    assert due.reviews_sent >= 1 and posts_to(stand_in, channel) == 1
    row = reminder(store_engine, rid)
    assert row.next_run_at == T0 + WEEK
    assert row.last_run_at == T0 + MINUTE
    assert row.claimed_by is None and row.claimed_until is None

    # A restarted replica (new worker id) reads the same schedule: nothing more until next week.
    run_due(ctx, clients=clients, worker=worker_id(), now=T0 + 2 * MINUTE, interviews=False)
    assert posts_to(stand_in, channel) == 1
    run_due(ctx, clients=clients, worker=worker_id(), now=T0 + WEEK, interviews=False)
    assert posts_to(stand_in, channel) == 2
    message = next(c for c in stand_in.calls_to("chat.postMessage") if c.params.get("channel") == channel)
    assert "Time to review your ICP" in message.all_text()
    assert {b.get("type") for b in message.blocks} >= {"header", "section", "actions"}


def test_catch_up_after_downtime_fires_once(store_engine: Engine, stand_in: StandInSlack) -> None:
    channel = f"C{uuid.uuid4().hex[:8].upper()}"
    _, rid = add_reminder(store_engine, channel=channel)
    ctx, clients = make_ctx(store_engine, stand_in), clients_for(stand_in)
    back = T0 + 10 * WEEK + timedelta(hours=3)  # ten missed weeks
    run_due(ctx, clients=clients, worker=worker_id(), now=back, interviews=False)
    run_due(ctx, clients=clients, worker=worker_id(), now=back + MINUTE, interviews=False)
    assert posts_to(stand_in, channel) == 1
    assert reminder(store_engine, rid).next_run_at == T0 + 11 * WEEK


def test_monthly_reminder_from_january_31_across_restarts(
    store_engine: Engine, stand_in: StandInSlack
) -> None:
    channel = f"C{uuid.uuid4().hex[:8].upper()}"
    anchor = datetime(2027, 1, 31, 8, 0, tzinfo=UTC)
    _, rid = add_reminder(store_engine, channel=channel, anchor=anchor, cadence=Cadence.monthly)
    ctx, clients = make_ctx(store_engine, stand_in), clients_for(stand_in)
    fired = []
    now = anchor
    for _ in range(4):
        run_due(ctx, clients=clients, worker=worker_id(), now=now, interviews=False)
        fired.append(now)
        now = reminder(store_engine, rid).next_run_at
    berlin = [f.astimezone(Schedule(Cadence.monthly, anchor, "Europe/Berlin").tz) for f in fired]
    assert [(d.month, d.day, d.hour) for d in berlin] == [(1, 31, 9), (2, 28, 9), (3, 31, 9), (4, 30, 9)]
    assert posts_to(stand_in, channel) == 4


def test_the_claim_is_exclusive(store_engine: Engine) -> None:
    _, rid = add_reminder(store_engine)
    now, hold = T0 + MINUTE, timedelta(minutes=5)
    results = []
    for worker in ("a", "b", "c"):
        with session_scope(store_engine) as session:
            results.append(
                reminders_repo.claim_reminder(
                    session=session, reminder_id=rid, worker=worker, now=now, hold=hold
                )
            )
    assert results == [True, False, False]
    with session_scope(store_engine) as session:  # the loser cannot finish the winner's claim
        assert not reminders_repo.finish_reminder(
            session=session, reminder_id=rid, worker="b", ran_at=now, next_run_at=T0 + WEEK
        )
    with session_scope(store_engine) as session:  # an expired claim can be taken over
        assert reminders_repo.claim_reminder(
            session=session, reminder_id=rid, worker="d", now=now + hold + MINUTE, hold=hold
        )


def test_a_failed_send_is_retried_later_not_at_once(store_engine: Engine, stand_in: StandInSlack) -> None:
    channel = f"C{uuid.uuid4().hex[:8].upper()}"
    _, rid = add_reminder(store_engine, channel=channel)
    ctx, clients = make_ctx(store_engine, stand_in), clients_for(stand_in)
    stand_in.respond_with(
        "chat.postMessage",
        lambda call: (
            {"ok": False, "error": "channel_not_found"}
            if call.params.get("channel") == channel
            else {"ok": True, "channel": call.params.get("channel"), "ts": "1.000001"}
        ),
    )
    failed = run_due(ctx, clients=clients, worker=worker_id(), now=T0 + MINUTE, interviews=False)
    assert failed.reviews_failed == 1
    stand_in.responders.pop("chat.postMessage")
    run_due(ctx, clients=clients, worker=worker_id(), now=T0 + 5 * MINUTE, interviews=False)
    assert posts_to(stand_in, channel) == 1  # backing off: not retried yet
    run_due(ctx, clients=clients, worker=worker_id(), now=T0 + 20 * MINUTE, interviews=False)
    assert posts_to(stand_in, channel) == 2  # one refused, one delivered
    assert reminder(store_engine, rid).next_run_at == T0 + WEEK


def test_review_kit_with_chart_upload_and_dm_to_the_owner(
    store_engine: Engine, stand_in: StandInSlack
) -> None:
    team = f"T{uuid.uuid4().hex[:10]}"
    seed_review_workspace(store_engine, team)
    _, rid = add_reminder(store_engine, channel="UOWNER", team=team)
    with session_scope(store_engine) as session:
        row = session.get(ReviewReminder, rid)
        assert row is not None
        row.last_reviewed_at = LAST_REVIEW
        session.add(row)
    ctx, clients = make_ctx(store_engine, stand_in), clients_for(stand_in)
    run_due(ctx, clients=clients, worker=worker_id(), now=T0, interviews=False)
    (post,) = [c for c in stand_in.calls_to("chat.postMessage") if c.params.get("channel") == "DOWNER"]
    text = post.all_text()
    assert "2 won, 1 lost, win rate 67%" in text  # tier A
    assert "1 won, 2 lost, win rate 33%" in text  # tier C
    assert "Company A4" in text and "Company A6" in text
    assert "AUC 0.80" in text and "0.67" in text
    assert "*New interviews*: 2" in text
    (upload,) = [u for u in stand_in.uploads.values() if u.completed and u.channel == "DOWNER"]
    assert upload.filename == "icp-review.png" and upload.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert upload.thread_ts is not None  # the chart sits in the kit's thread
    assert (
        next_run(Schedule(Cadence.weekly, T0, "Europe/Berlin"), T0) == reminder(store_engine, rid).next_run_at
    )


def test_the_same_pass_sends_interview_nudges_once(store_engine: Engine, stand_in: StandInSlack) -> None:
    from bot.services.interviews import conversation as interviews
    from bot.store.models import GtmRole
    from bot.store.types import utcnow

    team, user = f"T{uuid.uuid4().hex[:10]}", f"U{uuid.uuid4().hex[:8].upper()}"
    interviews.invite(
        engine=store_engine,
        team_id=team,
        user_id=user,
        invited_by="UBOSS",
        role=GtmRole.sales,
        dm_channel_id=f"D{user[1:]}",
        display_name="Dana",
    )
    ctx, clients = make_ctx(store_engine, stand_in), clients_for(stand_in)
    quiet = utcnow() + timedelta(hours=49)  # past the 48 h delay
    for worker in ("a", "b"):  # two replicas in the same window
        run_due(ctx, clients=clients, worker=worker, now=quiet)
    nudges = [c for c in stand_in.calls_to("chat.postMessage") if c.params.get("channel") == f"D{user[1:]}"]
    assert len(nudges) == 1 and "gentle reminder" in nudges[0].all_text()


def test_a_restarted_process_reads_the_schedule_from_the_database(
    store_engine: Engine, stand_in: StandInSlack
) -> None:
    from bot.store import make_engine

    channel = f"C{uuid.uuid4().hex[:8].upper()}"
    _, rid = add_reminder(store_engine, channel=channel)
    first = make_engine(store_engine.url.render_as_string(hide_password=False))
    run_due(
        make_ctx(first, stand_in), clients=clients_for(stand_in), worker=worker_id(), now=T0, interviews=False
    )
    first.dispose()  # the process goes away
    second = make_engine(store_engine.url.render_as_string(hide_password=False))
    try:
        ctx = make_ctx(second, stand_in)
        run_due(ctx, clients=clients_for(stand_in), worker=worker_id(), now=T0 + MINUTE, interviews=False)
        assert posts_to(stand_in, channel) == 1  # not again after the restart
        run_due(ctx, clients=clients_for(stand_in), worker=worker_id(), now=T0 + WEEK, interviews=False)
        assert posts_to(stand_in, channel) == 2  # but on time next week
    finally:
        second.dispose()
    assert reminder(store_engine, rid).next_run_at == T0 + 2 * WEEK


def test_the_loop_thread_polls_and_stops_cleanly(store_engine: Engine, stand_in: StandInSlack) -> None:
    import threading

    from bot.scheduler import SchedulerLoop

    channel = f"C{uuid.uuid4().hex[:8].upper()}"
    add_reminder(store_engine, channel=channel)
    polled = threading.Event()
    seen: list[datetime] = []

    def clock() -> datetime:
        seen.append(T0 + MINUTE)
        if len(seen) >= 3:
            polled.set()
        return T0 + MINUTE

    loop = SchedulerLoop(
        make_ctx(store_engine, stand_in), clients_for(stand_in), poll_seconds=0.01, clock=clock
    )
    loop.start()
    try:
        assert polled.wait(timeout=60)
    finally:
        loop.stop()
    assert not loop.running
    assert posts_to(stand_in, channel) == 1  # three passes, one review kit
    assert loop.totals["failed"] == 0


def test_a_channel_the_bot_is_not_in_sends_the_kit_to_the_owner(
    store_engine: Engine, stand_in: StandInSlack
) -> None:
    channel, owner = f"C{uuid.uuid4().hex[:8].upper()}", f"U{uuid.uuid4().hex[:8].upper()}"
    _, rid = add_reminder(store_engine, channel=channel, owner=owner)
    stand_in.respond_with(
        "chat.postMessage",
        lambda call: (
            {"ok": False, "error": "not_in_channel"}
            if call.params.get("channel") == channel
            else {"ok": True, "channel": call.params.get("channel"), "ts": "1.000002"}
        ),
    )
    ctx, clients = make_ctx(store_engine, stand_in), clients_for(stand_in)
    run_due(ctx, clients=clients, worker=worker_id(), now=T0 + MINUTE, interviews=False)
    (dm,) = [c for c in stand_in.calls_to("chat.postMessage") if c.params.get("channel") == f"D{owner[1:]}"]
    assert f"couldn't post this review kit in <#{channel}> (not_in_channel)" in dm.all_text()
    assert "Time to review your ICP" in dm.all_text()
    assert reminder(store_engine, rid).next_run_at == T0 + WEEK  # delivered: on to the next slot
