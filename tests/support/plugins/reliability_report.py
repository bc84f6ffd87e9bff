"""Hooks that print the reliability summary at the end of the run.

Registered from the root ``tests/conftest.py``: under pytest-xdist the controller collects nothing
and so never loads a tier's conftest, but it does load the root one and its plugins.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import reliability_summary


def pytest_configure(config: pytest.Config) -> None:
    reliability_summary.configure(config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    reliability_summary.configure_node(node)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count the attacks: under xdist the controller sees every worker's reports (and the workers'
    own calls of this hook do nothing, as only the controller keeps the counts)."""
    if report.when == "call" and "security" in report.keywords:
        reliability_summary.security_outcome(ran=not report.skipped, failed=report.failed)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    reliability_summary.terminal_summary(terminalreporter, config)


def pytest_unconfigure(config: pytest.Config) -> None:
    reliability_summary.unconfigure(config)
