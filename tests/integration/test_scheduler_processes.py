"""Exactly once across replicas: three OS processes run the scheduler loop on one PostgreSQL
database, on a shared simulated clock that the test steps two days at a time (each step only after
every replica has run a pass at it), and the stand-in Slack counts the review kits it receives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services.reviews.cadence import Schedule, next_run
from bot.store import make_engine, session_scope, upgrade
from bot.store.models import ReminderCreate, ReviewReminder
from bot.store.models.ops import Cadence
from bot.store.repo import reminders as reminders_repo
from bot.store.repo.workspaces import get_or_create_workspace
from tests.support.harness import StandInSlack

WORKER = "tests.support.scheduler_worker"  # run with -m; PYTHONPATH=REPO makes it importable
REPO = Path(__file__).resolve().parents[2]
PROCESSES = 3
SIM_START = datetime(2027, 1, 4, 6, 0, tzinfo=UTC)
SIM_END = SIM_START + timedelta(weeks=6) - timedelta(minutes=1)
STEP = timedelta(
    days=2
)  # the shared clock moves 2 days at a time (less than any period), after every replica ran a pass
REMINDERS = [  # (cadence, hours after the start of the simulation)
    (Cadence.weekly, 2),
    (Cadence.weekly, 30),
    (Cadence.weekly, 200),  # 8 days in: its sixth slot falls after the end
    (Cadence.monthly, 3),
    (Cadence.weekly, 2),
]


def write_clock(path: Path, step: int, value: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{step} {value}")
    tmp.replace(path)


def wait_for_acks(
    acks: list[Path], step: int, procs: list[subprocess.Popen[str]], timeout: float = 60.0
) -> None:
    """Until every replica has finished a pass at ``step`` (a replica that died fails the test)."""
    deadline = time.monotonic() + timeout
    while True:
        done = [ack.exists() and int(ack.read_text() or -1) >= step for ack in acks]
        if all(done):
            return
        for proc in procs:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else "a replica exited"
        assert time.monotonic() < deadline, f"replicas did not finish a pass at step {step}: {done}"
        time.sleep(0.005)


def expected_firings(cadence: Cadence, anchor: datetime) -> int:
    schedule, count, at = Schedule(cadence, anchor, "Europe/Berlin"), 0, anchor
    while at <= SIM_END:
        count += 1
        at = next_run(schedule, at)
    return count


@pytest.mark.postgres
@pytest.mark.slow
def test_three_processes_send_each_due_reminder_exactly_once(
    postgres_database_factory: Callable[[], str], tmp_path: Path
) -> None:
    url = postgres_database_factory()
    engine = make_engine(url)
    upgrade(engine)
    expected: dict[str, int] = {}
    with session_scope(engine) as session:
        for i, (cadence, hours) in enumerate(REMINDERS):
            wid = get_or_create_workspace(session=session, slack_team_id=f"TPROC{i}").id
            assert wid is not None
            anchor = SIM_START + timedelta(hours=hours)
            channel = f"CPROC{i}"
            reminders_repo.create_reminder(
                session=session,
                workspace_id=wid,
                data=ReminderCreate(
                    cadence=cadence,
                    channel_id=channel,
                    timezone="Europe/Berlin",
                    anchor_at=anchor,
                    next_run_at=anchor,
                ),
            )
            expected[channel] = expected_firings(cadence, anchor)
    assert sum(expected.values()) == 6 + 6 + 5 + 2 + 6  # slots inside the six simulated weeks

    stand_in = StandInSlack().start()
    clock = tmp_path / "clock"
    write_clock(clock, 0, SIM_START.isoformat())
    acks = [tmp_path / f"ack{i}" for i in range(PROCESSES)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", WORKER, url, stand_in.api_url, str(clock), str(ack)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        for ack in acks
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            assert line == "ready", (line, proc.stderr.read() if proc.stderr else "")
        steps = int((SIM_END - SIM_START) / STEP)
        for step in range(steps + 1):
            write_clock(clock, step, min(SIM_START + step * STEP, SIM_END).isoformat())
            wait_for_acks(acks, step, procs)
        write_clock(clock, steps + 1, "stop")
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        stand_in.stop()

    received = Counter(str(c.params.get("channel")) for c in stand_in.calls_to("chat.postMessage"))
    print("replicas:", results)
    assert dict(received) == expected  # every due slot exactly once, none missed, none twice
    assert sum(r["sent"] for r in results) == sum(expected.values())
    assert all(r["failed"] == 0 for r in results)
    assert all(r["ticks"] > 10 for r in results)  # each replica really polled
    with session_scope(engine) as session:
        rows = list(session.exec(select(ReviewReminder)).scalars())
    engine.dispose()
    assert len(rows) == len(REMINDERS)
    assert all(row.next_run_at > SIM_END and row.claimed_by is None for row in rows)
