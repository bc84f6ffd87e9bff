"""LangSmith tracing is off unless LLM_TRACING=true, whatever LANGSMITH_TRACING or
LANGCHAIN_TRACING_V2 say: `icp llm status --check` runs a real model call (against the stand-in
model server) in a fresh process, with a LangSmith stand-in as LANGSMITH_ENDPOINT recording
whether anything arrived. With the setting on, the same run does send a trace (the control that
shows the stand-in would see one)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.llm.fault_server import FaultLlmServer, ok_text
from tests.support.llm.langsmith_server import LangSmithStandIn

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def langsmith() -> Iterator[LangSmithStandIn]:
    server = LangSmithStandIn().start()
    try:
        yield server
    finally:
        server.stop()


def check_with_tracing_env(
    tmp_path: Path, model: FaultLlmServer, langsmith: LangSmithStandIn, **extra: str
) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LLM_", "OPENAI_", "LANGSMITH_", "LANGCHAIN_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        LLM_BASE_URL=model.base_url,
        LANGSMITH_TRACING="true",
        LANGCHAIN_TRACING_V2="true",
        LANGSMITH_ENDPOINT=langsmith.url,
        LANGCHAIN_ENDPOINT=langsmith.url,
        LANGSMITH_API_KEY="lsv2-stand-in-key",
        **extra,
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "llm", "status", "--check"],
        cwd=tmp_path,  # no stray .env
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "check: answered" in done.stdout
    assert len(model.chat_requests) == 1


def test_tracing_env_alone_sends_nothing(
    tmp_path: Path, fault_llm_server: FaultLlmServer, langsmith: LangSmithStandIn
) -> None:
    fault_llm_server.default = ok_text("OK")
    check_with_tracing_env(tmp_path, fault_llm_server, langsmith)
    assert langsmith.requests == []


def test_the_setting_turns_tracing_on(
    tmp_path: Path, fault_llm_server: FaultLlmServer, langsmith: LangSmithStandIn
) -> None:
    fault_llm_server.default = ok_text("OK")
    check_with_tracing_env(tmp_path, fault_llm_server, langsmith, LLM_TRACING="true")
    posted = [path for method, path, _ in langsmith.requests if method == "POST"]
    assert any(path.startswith("/runs") for path in posted), langsmith.requests
