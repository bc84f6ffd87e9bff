"""A provider whose package is not installed, or settings that do not add up, are one line and the
usual exit code: 1 for a command (`icp llm status`, `icp draft`), 2 for `icp serve` at start."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cli.main import app
from bot.cli.serve import serve

ANTHROPIC = {
    "LLM_MODEL": "anthropic:claude-3-5-haiku-latest",
    "ANTHROPIC_API_KEY": "sk-ant-cli-secret-123456",
}


@pytest.fixture
def clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for key in list(os.environ):
        if key.upper().startswith(("SLACK_", "ICP_", "LLM_", "OPENAI_", "ANTHROPIC_", "DATABASE_URL")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setitem(sys.modules, "langchain_anthropic", None)  # as if the extra were not installed


@pytest.mark.usefixtures("clean")
def test_llm_status_check_names_the_extra() -> None:
    result = CliRunner().invoke(app, ["llm", "status", "--check"], env=ANTHROPIC)
    assert result.exit_code == 1
    assert "pip install 'icp-assistant[anthropic]'" in result.output
    assert "Traceback" not in result.output and "cli-secret" not in result.output
    assert len(result.output.strip().splitlines()) <= 3  # the status lines before it, then one error


@pytest.mark.usefixtures("clean")
def test_serve_refuses_to_start_with_exit_2() -> None:
    cli = typer.Typer()
    cli.command()(serve)
    env = {**ANTHROPIC, "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s" * 32}
    result = CliRunner().invoke(cli, ["--http"], env=env)
    assert result.exit_code == 2
    assert "icp serve: LLM_PROVIDER=anthropic needs the langchain-anthropic package" in result.output
    assert "pip install 'icp-assistant[anthropic]'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.usefixtures("clean")
def test_serve_refuses_contradictory_llm_settings() -> None:
    cli = typer.Typer()
    cli.command()(serve)
    env = {
        "LLM_PROVIDER": "anthropic",
        "LLM_MODEL": "claude-x",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s" * 32,
    }
    result = CliRunner().invoke(cli, ["--http"], env=env)
    assert result.exit_code == 2
    assert "needs ANTHROPIC_API_KEY" in result.output
