"""benchmarks/slack_load.py runs end to end at a tiny scale: store set up, both apps served in their
own processes, every request acked and answered, the report printed. Timings are not checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "slack_load.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--rate", "5", "--seconds", "1", "--accounts", "200", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def row(output: str, case: str) -> list[str]:
    """The cells of the results table's row for ``case``."""
    (line,) = [line for line in output.splitlines() if line.startswith("│ " + case)]
    return [cell.strip() for cell in line.strip("│").split("│")]


def check_report(done: subprocess.CompletedProcess[str], db: str) -> None:
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    bare = row(out, "bare Bolt app (ack only)")
    bot = row(out, f"icp bot, /icp score ({db})")
    assert bare[1:3] == ["5", "0"] and bot[1:3] == ["5", "0"], out  # requests, errors
    assert bare[5] == bare[6] == "—", "the bare app answers nothing, so has no end-to-end latency"
    assert all(cell != "—" for cell in bot[3:7]), out  # ack and e2e percentiles measured
    replies = re.search(r"replies: (.*)\.$", out, re.MULTILINE)
    assert replies is not None, out
    assert re.fullmatch(r"(card|chooser) \d+(, (card|chooser) \d+)*", replies.group(1)), out
    for target in ("ack p99 vs the bare app", "e2e p99 of /icp score", "errors (both apps)"):
        assert target in out
    assert "Traceback" not in done.stderr


def test_the_benchmark_runs_on_sqlite() -> None:
    check_report(run(), "sqlite")


@pytest.mark.postgres
def test_the_benchmark_runs_on_postgresql(postgres_admin_url: str) -> None:
    check_report(run("--db", "postgresql"), "postgresql")


def test_bad_arguments_get_a_one_line_error() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--rate", "0"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "--rate and --seconds must be positive" in done.stderr
    assert "Traceback" not in done.stderr
