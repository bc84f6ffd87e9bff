"""``icp serve --http`` runs the reminder scheduler beside the endpoint and stops it on SIGINT."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from bot.store import make_engine, session_scope, upgrade
from bot.store.models import ReminderCreate
from bot.store.repo.reminders import create_reminder
from bot.store.repo.workspaces import get_or_create_workspace
from bot.store.types import utcnow
from tests.support.harness import BOT_TOKEN, SIGNING_SECRET, StandInSlack, free_port
from tests.support.serve_process import LAUNCH, clean_env


def test_serve_sends_a_due_review_reminder_and_shuts_down_cleanly(
    tmp_path: Path, stand_in: StandInSlack
) -> None:
    data = tmp_path / "data"
    engine = make_engine(f"sqlite:///{data / 'icp.db'}")
    upgrade(engine)
    with session_scope(engine) as session:
        wid = get_or_create_workspace(session=session, slack_team_id="T0E2E").id
        assert wid is not None
        overdue = utcnow() - timedelta(days=1)
        create_reminder(
            session=session,
            workspace_id=wid,
            data=ReminderCreate(channel_id="CSERVE", next_run_at=overdue, anchor_at=overdue),
        )
    engine.dispose()
    env = clean_env(
        DATA_DIR=str(data),
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=stand_in.api_url,
        SCHEDULER_POLL_SECONDS="0.2",
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "--http", "--port", str(port), "--host", "127.0.0.1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        (post,) = stand_in.wait_for(
            "chat.postMessage", lambda c: c.params.get("channel") == "CSERVE", timeout=60
        )
        assert "Time to review your ICP" in post.all_text()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == 0, stderr
    assert "reminder scheduler started" in stderr
    assert len([c for c in stand_in.calls_to("chat.postMessage") if c.params.get("channel") == "CSERVE"]) == 1
