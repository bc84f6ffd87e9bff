"""``icp serve``: the real entry point in a subprocess (HTTP), and its configuration errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cli.serve import serve
from tests.support.harness import (
    BOT_TOKEN,
    SIGNING_SECRET,
    SlackDriver,
    StandInSlack,
    free_port,
    http_request,
)
from tests.support.serve_process import LAUNCH, clean_env


def test_serve_http_answers_health_and_signed_commands(tmp_path: Path, stand_in: StandInSlack) -> None:
    port = free_port()
    env = clean_env(
        DATA_DIR=str(tmp_path / "data"),
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=stand_in.api_url,
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "--http", "--port", str(port), "--host", "127.0.0.1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "server exited"
            try:
                health = http_request(f"{url}/healthz", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "icp serve --http did not come up"
                time.sleep(0.1)
        assert health.status == 200 and health.json()["db"] == "ok"
        reply = SlackDriver(url, stand_in).slash_reply("help")
        assert "/icp show" in reply.all_text()
        assert (tmp_path / "data" / "icp.db").exists()  # the embedded store was created and migrated
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == 0


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ([], {}, "choose one of --socket or --http"),
        (["--socket", "--http"], {}, "choose one of --socket or --http"),
        (["--http"], {"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_SIGNING_SECRET is not set"),
        (["--http"], {"SLACK_SIGNING_SECRET": SIGNING_SECRET}, "set SLACK_BOT_TOKEN"),
        (["--socket"], {"SLACK_BOT_TOKEN": BOT_TOKEN}, "Socket Mode needs SLACK_APP_TOKEN"),
    ],
)
def test_serve_refuses_incomplete_settings_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for key in list(os.environ):
        if key.upper().startswith(("SLACK_", "ICP_", "DATABASE_URL")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    app = typer.Typer()
    app.command()(serve)
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
