"""`icp llm status`: shows where LLM calls go (never the key) and, with --check, whether one works."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from tests.support.llm.fault_server import FaultLlmServer, ok_text, refused

KEY = "sk-proj-cli-secret-987654"


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str, **env: str):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("OPENAI_API_KEY", "LLM_BASE_URL", "LLM_PROVIDER", "OPENAI_BASE_URL", "LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner().invoke(app, ["llm", "status", *args], env=env)


def test_offline_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(tmp_path, monkeypatch, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["provider"] == "offline"


def test_check_against_a_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault_llm_server: FaultLlmServer
) -> None:
    fault_llm_server.script(ok_text("OK"))
    result = run(tmp_path, monkeypatch, "--check", LLM_BASE_URL=fault_llm_server.base_url, OPENAI_API_KEY=KEY)
    assert result.exit_code == 0, result.output
    assert "openai-compatible" in result.stdout and "API key: set" in result.stdout
    assert "check: answered" in result.stdout
    assert "cli-secret" not in result.output
    assert fault_llm_server.chat_requests[0].body["max_completion_tokens"] == 8  # type: ignore[index]


def test_a_failing_check_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault_llm_server: FaultLlmServer
) -> None:
    fault_llm_server.script(refused(401, f"Incorrect API key provided: {KEY}"))
    result = run(tmp_path, monkeypatch, "--check", LLM_BASE_URL=fault_llm_server.base_url, OPENAI_API_KEY=KEY)
    assert result.exit_code == 1
    assert "check failed" in result.output and "HTTP 401" in result.output
    assert "cli-secret" not in result.output
    assert "Traceback" not in result.output


def test_incomplete_settings_are_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(tmp_path, monkeypatch, LLM_PROVIDER="openai")
    assert result.exit_code == 1
    assert "needs OPENAI_API_KEY" in result.output
