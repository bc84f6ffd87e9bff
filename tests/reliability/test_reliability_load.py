"""Load suite: the slack_load benchmark's rate (100 `/icp score` requests/s for 30 s, 100,000
accounts) is held with no errors, both by the bot and by the bare Bolt app beside it.

Latencies depend on the machine and on what else runs; they are printed by the benchmark, never
asserted here. What must hold whatever the load: every request acknowledged with a 200 and every
score request answered (a card or a chooser), nothing lost, no traceback.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.reliability_summary import record

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "slack_load.py"
RATE, SECONDS = 100, 30


def table_row(output: str, case: str) -> list[str]:
    (line,) = [line for line in output.splitlines() if line.startswith("│ " + case)]
    return [cell.strip().replace(",", "") for cell in line.strip("│").split("│")]


@pytest.mark.slow
def test_the_benchmark_rate_is_held_for_30_seconds_without_errors() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--rate", str(RATE), "--seconds", str(SECONDS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    out = done.stdout
    expected = RATE * SECONDS
    bare = table_row(out, "bare Bolt app (ack only)")
    bot = table_row(out, "icp bot, /icp score (sqlite)")
    assert bare[1:3] == [str(expected), "0"], out
    assert bot[1:3] == [str(expected), "0"], out
    replies = re.search(r"replies: card (\d+(?:,\d{3})*)(?:, chooser (\d+(?:,\d{3})*))?", out)
    assert replies is not None, out
    answered = sum(int(group.replace(",", "")) for group in replies.groups() if group)
    assert answered == expected, f"{answered} of {expected} score requests answered"
    record("load", requests=2 * expected, errors=0, score_replies=answered, seconds_each=SECONDS)
