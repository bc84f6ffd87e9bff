"""Figures the reliability suites collect, and the table printed at the end of the test run.

Tests call :func:`record` (``record("crash", trials=1, kills=1)``); figures are summed per suite.
Under pytest-xdist each worker appends to its own file in a folder the controller created and
handed to the workers, and the controller prints the table in ``pytest_terminal_summary``;
without xdist the one process does both. The hooks that call these functions are the plugin
``tests.support.plugins.reliability_report``.

The "security" line is counted by the controller itself (:func:`security_outcome`, from every
test report): each test marked ``security`` that ran is an attack tried, each that failed one
that got through.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

INPUT_KEY = "reliability_stats_dir"
SUITE_ORDER = ("crash", "redelivery", "tenancy", "bad input", "llm faults", "load", "replicas", "security")

_state: dict[str, Any] = {"dir": None, "owner": False, "file": None, "security": None}


def record(suite: str, **figures: int) -> None:
    """Add ``figures`` (non-negative counts) to ``suite``'s row of the summary."""
    folder = _state["dir"]
    if folder is None:  # not under pytest's hooks (e.g. a module run by hand): nothing to report
        return
    line = json.dumps({"suite": suite, "figures": {k: int(v) for k, v in figures.items()}})
    with open(_state["file"], "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and workerinput.get(INPUT_KEY):
        folder = Path(workerinput[INPUT_KEY])
        name = str(workerinput.get("workerid", "worker"))
    else:
        folder = Path(tempfile.mkdtemp(prefix="icp-reliability-"))
        name = "main"
        _state["owner"] = True
        _state["security"] = {"attacks tried": 0, "got through": 0}
    _state["dir"] = folder
    _state["file"] = folder / f"{name}-{os.getpid()}.jsonl"


def configure_node(node: Any) -> None:
    """xdist: tell a worker where to write its figures."""
    if _state["dir"] is not None:
        node.workerinput[INPUT_KEY] = str(_state["dir"])


def totals(folder: Path) -> dict[str, dict[str, int]]:
    """Figures summed per suite over every worker's file."""
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                for key, value in item["figures"].items():
                    sums[item["suite"]][key] += value
    return {suite: dict(figures) for suite, figures in sums.items()}


def security_outcome(ran: bool, failed: bool) -> None:
    """Controller only: one test marked ``security`` reported its call phase."""
    counts = _state["security"]
    if counts is not None and ran:
        counts["attacks tried"] += 1
        counts["got through"] += int(failed)


def _replicas_line(f: dict[str, int]) -> str:
    replicas = f.get("replicas", 0) // max(f.get("clusters", 1), 1)
    not_once = f.get("reminders not exactly once", 0)
    reminders = "reminders exactly once" if not not_once else f"{not_once:,} reminders NOT exactly once"
    # the documented at-least-once window: a replica killed after Slack accepted the post
    resent = f.get("reminders re-sent after a kill", 0)
    again = (
        f" and {resent:,} re-sent by design after a kill between Slack's ok and the record" if resent else ""
    )
    summaries = f.get("import summaries not exactly once", 0)
    imports = (
        "import summaries exactly once"
        if not summaries
        else f"{summaries:,} import summaries NOT exactly once"
    )
    return (
        f"{replicas} replicas on PostgreSQL + Chroma server: {f.get('requests', 0):,} requests, "
        f"{f.get('answered twice', 0):,} answered twice, {f.get('lost', 0):,} lost, "
        f"{reminders} ({f.get('reminders', 0):,} sent){again}, {imports}, {f.get('kills', 0):,} kills"
    )


def _security_line(f: dict[str, int]) -> str:
    return f"attacks tried: {f.get('attacks tried', 0):,}, got through: {f.get('got through', 0):,}"


# Suites whose figures read better as a sentence than as ``name=value`` pairs.
SENTENCES = {"replicas": _replicas_line, "security": _security_line}


def _pairs(f: dict[str, int]) -> str:
    return "  ".join(f"{k}={v:,}" for k, v in f.items())


def table(sums: dict[str, dict[str, int]]) -> list[str]:
    """One line per suite: its figures as ``name=value`` (in the order they were first recorded),
    or the suite's sentence."""
    order = [s for s in SUITE_ORDER if s in sums] + sorted(s for s in sums if s not in SUITE_ORDER)
    width = max(len(s) for s in order)
    return [f"{suite.ljust(width)}  " + SENTENCES.get(suite, _pairs)(sums[suite]) for suite in order]


def terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or _state["dir"] is None:
        return
    sums = totals(_state["dir"])
    if _state["security"] and _state["security"]["attacks tried"]:
        sums["security"] = dict(_state["security"])
    if not sums:
        return
    terminalreporter.write_sep("=", "reliability summary")
    for line in table(sums):
        terminalreporter.write_line(line)


def unconfigure(config: pytest.Config) -> None:
    if _state["owner"] and _state["dir"] is not None:
        shutil.rmtree(_state["dir"], ignore_errors=True)
    _state.update(dir=None, owner=False, file=None, security=None)
