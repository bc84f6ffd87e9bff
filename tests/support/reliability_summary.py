"""Figures the reliability suites collect, and the table printed at the end of the test run.

Tests call :func:`record` (``record("crash", trials=1, kills=1)``); figures are summed per suite.
Under pytest-xdist each worker appends to its own file in a folder the controller created and
handed to the workers, and the controller prints the table in ``pytest_terminal_summary``;
without xdist the one process does both. The hooks that call these functions are the plugin
``tests.support.plugins.reliability_report``.
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
SUITE_ORDER = ("crash", "redelivery", "tenancy", "bad input", "llm faults", "load")

_state: dict[str, Any] = {"dir": None, "owner": False, "file": None}


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


def table(sums: dict[str, dict[str, int]]) -> list[str]:
    """One line per suite: its figures as ``name=value``, in the order they were first recorded."""
    order = [s for s in SUITE_ORDER if s in sums] + sorted(s for s in sums if s not in SUITE_ORDER)
    width = max(len(s) for s in order)
    return [
        f"{suite.ljust(width)}  " + "  ".join(f"{k}={v:,}" for k, v in sums[suite].items()) for suite in order
    ]


def terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or _state["dir"] is None:
        return
    sums = totals(_state["dir"])
    if not sums:
        return
    terminalreporter.write_sep("=", "reliability summary")
    for line in table(sums):
        terminalreporter.write_line(line)


def unconfigure(config: pytest.Config) -> None:
    if _state["owner"] and _state["dir"] is not None:
        shutil.rmtree(_state["dir"], ignore_errors=True)
    _state.update(dir=None, owner=False, file=None)
