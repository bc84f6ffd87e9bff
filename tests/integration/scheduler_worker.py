"""One scheduler replica for the multi-process test: the real SchedulerLoop on a fast clock.

Run as ``python scheduler_worker.py DATABASE_URL SLACK_API_URL GO_FILE SIM_START SIM_END SPEED``.
Prints ``ready``, waits for GO_FILE (which holds the wall-clock start), then runs the loop with a
clock that maps wall time to simulated time (``SPEED`` simulated seconds per second, clamped to
[SIM_START, SIM_END]) until the simulated end has passed for a while, and prints its totals.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from bot.context import AppContext
from bot.scheduler import SchedulerLoop
from bot.scheduler.clients import client_factory
from bot.settings import Settings
from bot.store import make_engine

POLL_SECONDS = 0.02
AFTER_END_SECONDS = 0.6  # keep polling this long after the simulated end: the last slots fire


def main(argv: list[str]) -> int:
    database_url, api_url, go_file, start_text, end_text, speed_text = argv
    sim_start, sim_end, speed = (
        datetime.fromisoformat(start_text),
        datetime.fromisoformat(end_text),
        float(speed_text),
    )
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        slack_api_url=api_url,
        slack_bot_token="xoxb-scheduler-test",
        # Claims are held in simulated time, where a real millisecond is about 20 minutes: hold
        # them longer than the whole run, as 5 real minutes are much longer than a send.
        scheduler_claim_seconds=100 * 86400,
    )
    engine = make_engine(settings.resolved_database_url)
    ctx = AppContext(settings=settings, engine=engine)
    print("ready", flush=True)
    go = Path(go_file)
    while not go.exists():
        time.sleep(0.01)
    t0 = float(go.read_text())

    def clock() -> datetime:
        simulated = sim_start + timedelta(seconds=(time.time() - t0) * speed)
        return min(max(simulated, sim_start), sim_end)

    loop = SchedulerLoop(
        ctx, client_factory(settings, engine), poll_seconds=POLL_SECONDS, clock=clock
    ).start()
    duration = (sim_end - sim_start).total_seconds() / speed
    while time.time() < t0 + duration + AFTER_END_SECONDS:
        time.sleep(0.05)
    loop.stop()
    engine.dispose()
    print(json.dumps({"worker": loop.worker, "ticks": loop.ticks, **loop.totals}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
