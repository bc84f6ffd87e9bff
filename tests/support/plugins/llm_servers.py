"""Fixtures for the language model stand-ins of ``tests.support.llm``.

``fault_llm_server`` is a fresh scripted OpenAI-compatible server per test; ``local_llm`` is one
real SmolLM2 server per session and xdist worker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bot.llm.local_server import LocalModelNotFound, default_gguf_path, xllamacpp_installed
from tests.support.llm.fault_server import FaultLlmServer
from tests.support.llm.local_model import LocalModelServer


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
