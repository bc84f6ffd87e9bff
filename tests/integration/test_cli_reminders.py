"""``icp reminders run-due`` and ``icp reminders list`` against a SQLite file and the stand-in Slack."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.store import make_engine, session_scope, upgrade
from bot.store.models import ReminderCreate
from bot.store.repo.reminders import create_reminder
from bot.store.repo.workspaces import get_or_create_workspace
from bot.store.types import utcnow
from tests.support.harness import StandInSlack


def test_run_due_sends_once_and_list_shows_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stand_in: StandInSlack
) -> None:
    url = f"sqlite:///{tmp_path / 'icp.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        wid = get_or_create_workspace(session=session, slack_team_id="TCLI").id
        assert wid is not None
        past = utcnow() - timedelta(days=3)
        create_reminder(
            session=session,
            workspace_id=wid,
            data=ReminderCreate(channel_id="CCLI", next_run_at=past, anchor_at=past),
        )
    engine.dispose()
    monkeypatch.chdir(tmp_path)
    for key, value in {
        "DATABASE_URL": url,
        "SLACK_API_URL": stand_in.api_url,
        "SLACK_BOT_TOKEN": "xoxb-cli",
        "SLACK_CLIENT_ID": "",
        "SLACK_CLIENT_SECRET": "",
    }.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()

    first = runner.invoke(app, ["reminders", "run-due", "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["reviews_sent"] == 1
    second = runner.invoke(app, ["reminders", "run-due"])
    assert second.exit_code == 0, second.output
    assert "review reminders: 0 sent" in second.output
    assert [c.params.get("channel") for c in stand_in.calls_to("chat.postMessage")] == ["CCLI"]

    listed = runner.invoke(app, ["reminders", "list", "--json"])
    (item,) = json.loads(listed.output)
    assert item["workspace"] == "TCLI" and item["cadence"] == "quarterly"
    assert item["next_run_at"] > utcnow().isoformat()
