"""Fixtures and hooks for the whole test run.

* The LLM stand-ins from ``tests/llm_support``: ``fault_llm_server`` (a fresh scripted
  OpenAI-compatible server per test) and ``local_llm`` (one SmolLM2 server per session and
  xdist worker).
* The reliability summary printed at the end of the run. Its hooks live here, not in
  ``tests/reliability/conftest.py``, because under pytest-xdist the controller process collects
  nothing and so never loads that conftest; this one it loads.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "reliability"))

import reliability_summary
from llm_support.fault_server import FaultLlmServer
from llm_support.local_model import LocalModelServer

from bot.llm.local_server import LocalModelNotFound, default_gguf_path, xllamacpp_installed


def _local_model_missing() -> str | None:
    """Why the local model cannot run here, or None when it can."""
    if not xllamacpp_installed():
        return "xllamacpp is not installed (make installs it with the [dev] extra)"
    try:
        default_gguf_path()
    except LocalModelNotFound as exc:
        return str(exc)
    return None


@pytest.fixture
def fault_llm_server() -> Iterator[FaultLlmServer]:
    """A scripted OpenAI-compatible stand-in on 127.0.0.1, fresh for each test."""
    server = FaultLlmServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def local_llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalModelServer]:
    """The real local model (SmolLM2-135M over llama.cpp), one server per session and worker.

    Skipped with the reason on a machine without it; under CI (or ICP_REQUIRE_LOCAL_LLM=1),
    where `make` installs it, a missing model fails instead."""
    missing = _local_model_missing()
    if missing:
        if os.environ.get("CI") or os.environ.get("ICP_REQUIRE_LOCAL_LLM"):
            pytest.fail(f"the local model is required here: {missing}")
        pytest.skip(f"no local model: {missing}")
    server = LocalModelServer(tmp_path_factory.mktemp("local-llm") / "server.log").start()
    try:
        yield server
    finally:
        server.stop()


def pytest_configure(config: pytest.Config) -> None:
    reliability_summary.configure(config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    reliability_summary.configure_node(node)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    reliability_summary.terminal_summary(terminalreporter, config)


def pytest_unconfigure(config: pytest.Config) -> None:
    reliability_summary.unconfigure(config)
