"""One scheduler replica for the multi-process test: the real SchedulerLoop on a stepped clock.

Run as ``python -m tests.support.scheduler_worker DATABASE_URL SLACK_API_URL CLOCK_FILE
ACK_FILE``. The test owns the simulated time: it writes ``<step> <iso time>`` to CLOCK_FILE; this
replica's clock reads it, and after a pass that started at step k has finished, the replica writes
k to ACK_FILE. The test moves to the next step only when every replica has acknowledged this one,
so no slot can be skipped however slow a pass is. ``<step> stop`` ends the run; the replica prints
its totals as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from bot.scheduler import SchedulerLoop
from bot.scheduler.clients import client_factory
from bot.settings import Settings
from bot.slack.context import AppContext
from bot.store import make_engine

POLL_SECONDS = 0.01


def read_clock(path: Path) -> tuple[int, str]:
    step, value = path.read_text().split(" ", 1)
    return int(step), value.strip()


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def main(argv: list[str]) -> int:
    database_url, api_url, clock_file, ack_file = argv
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        slack_api_url=api_url,
        slack_bot_token="xoxb-scheduler-test",
        # Simulated time jumps days per step: hold claims longer than the whole run (in real
        # time, 5 minutes are much longer than a send).
        scheduler_claim_seconds=100 * 86400,
    )
    engine = make_engine(settings.resolved_database_url)
    ctx = AppContext(settings=settings, engine=engine)
    clock_path, ack_path = Path(clock_file), Path(ack_file)
    serving = {"step": -1, "ticks_before": 0}

    def clock() -> datetime:
        step, value = read_clock(clock_path)
        serving["step"], serving["ticks_before"] = step, loop.ticks
        return datetime.fromisoformat(value)

    loop = SchedulerLoop(ctx, client_factory(settings, engine), poll_seconds=POLL_SECONDS, clock=clock)
    print("ready", flush=True)
    loop.start()
    acked = -1
    while True:
        _, value = read_clock(clock_path)
        if value == "stop":
            break
        served = serving["step"]
        if served > acked and loop.ticks > serving["ticks_before"]:
            acked = served
            write_atomically(ack_path, str(acked))
        time.sleep(0.002)
    loop.stop()
    engine.dispose()
    print(json.dumps({"worker": loop.worker, "ticks": loop.ticks, **loop.totals}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
