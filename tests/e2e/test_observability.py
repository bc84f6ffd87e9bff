"""Operating the bot: ``/metrics``, ``/healthz`` and JSON logs of the real ``icp serve --http``.

The server runs in a child process against the stand-in Slack, exactly as an operator starts it;
its stderr (the logs) is captured to a file and read after a clean shutdown.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST

from bot.services.interviews import conversation as interviews
from bot.settings import Settings
from bot.slack.server import build_asgi
from bot.store.db import make_engine
from bot.store.models import GtmRole
from tests.support.harness import (
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM_ID,
    AppServer,
    SlackDriver,
    SlackEnv,
    StandInSlack,
    free_port,
    http_request,
)
from tests.support.serve_process import LAUNCH, clean_env

DANA, DANA_DM, ADMIN = "U0DANA", "D0DANA", "U0ADMIN"
ANSWER = "Our champion is usually the VP of RevOps at Quillfeather-Zebra"  # must never reach a log


@dataclass
class Served:
    url: str
    log: Path


@contextmanager
def icp_serve(tmp_path: Path, stand_in: StandInSlack, **env: str) -> Iterator[Served]:
    """``icp serve --http`` in a child process until the block ends (then SIGINT, exit code 0)."""
    port = free_port()
    log = tmp_path / "serve.log"
    settings = {
        "DATA_DIR": str(tmp_path / "data"),
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": stand_in.api_url,
        "SCHEDULER_ENABLED": "false",
        "LLM_PROVIDER": "offline",
    }
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, "--http", "--port", str(port), "--host", "127.0.0.1"],
            cwd=tmp_path,
            env=clean_env(**(settings | env)),
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:  # up once /healthz answers at all (a test may have broken a store on purpose)
                assert proc.poll() is None, log.read_text()
                try:
                    http_request(f"{url}/healthz", timeout=5)
                    break
                except OSError:
                    assert time.monotonic() < deadline, "icp serve --http did not come up"
                    time.sleep(0.1)
            yield Served(url, log)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, log.read_text()


def sample(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when the series is absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in exposition.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if match and match.group(1) == name:
            found = ",".join(sorted((match.group(2) or "").split(","))) if match.group(2) else ""
            if found == wanted:
                return float(match.group(3))
    return 0.0


def scrape(url: str) -> str:
    result = http_request(f"{url}/metrics")
    assert result.status == 200
    assert result.headers["content-type"] == CONTENT_TYPE_LATEST  # Prometheus text format
    return result.text


def test_metrics_count_signed_requests_and_health_sees_both_stores(
    tmp_path: Path, stand_in: StandInSlack
) -> None:
    with icp_serve(tmp_path, stand_in) as served:
        health = http_request(f"{served.url}/healthz")
        assert health.status == 200, health.text
        assert health.json() == {"status": "ok", "db": "ok", "vector_store": "ok"}

        before = scrape(served.url)
        assert sample(before, "icp_slack_requests_total", kind="command") == 0
        driver = SlackDriver(served.url, stand_in)
        assert "/icp show" in driver.slash_reply("help").all_text()
        assert driver.app_home_opened().status == 200
        stand_in.wait_for("views.publish")

        after = scrape(served.url)
        assert sample(after, "icp_slack_requests_total", kind="command") == 1
        assert sample(after, "icp_slack_acks_total", kind="command", status="200") == 1
        assert sample(after, "icp_slack_ack_seconds_count", kind="command") == 1
        assert sample(after, "icp_slack_requests_total", kind="event") == 1
        assert sample(after, "icp_slack_acks_total", kind="event", status="200") == 1
        assert "# TYPE icp_llm_calls_total counter" in after  # declared from the start
        for pool in ("commands", "chat"):  # one gauge per pool, idle once the work is done
            assert f'icp_queue_depth{{queue="{pool}"}} 0.0' in after


def test_health_is_503_naming_an_unreachable_chroma_server(tmp_path: Path, stand_in: StandInSlack) -> None:
    dead = free_port()  # nothing listens there
    with icp_serve(tmp_path, stand_in, CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(dead)) as served:
        health = http_request(f"{served.url}/healthz")
        # The server still serves what SQL does.
        assert "/icp show" in SlackDriver(served.url, stand_in).slash_reply("help").all_text()
    assert health.status == 503
    body = health.json()
    assert body["status"] == "unavailable" and body["db"] == "ok"
    assert f"127.0.0.1:{dead}" in body["vector_store"]


def test_health_names_each_failing_store(slack_env: SlackEnv, tmp_path: Path) -> None:
    """A database that cannot be opened and a Chroma server that is not there: both named."""
    (tmp_path / "a-directory.db").mkdir()
    broken = make_engine(f"sqlite:///{tmp_path / 'a-directory.db'}")
    no_chroma = Settings(_env_file=None, chroma_host="127.0.0.1", chroma_port=free_port())  # type: ignore[call-arg]

    from bot.knowledge.health import ping_vector_store

    asgi = build_asgi(
        slack_env.app,
        engine=broken,
        signing_secret=SIGNING_SECRET,
        vector_store=lambda: ping_vector_store(no_chroma),
    )
    server = AppServer(asgi).start()
    try:
        health = http_request(f"{server.url}/healthz")
    finally:
        server.stop()
        broken.dispose()
    assert health.status == 503
    body = health.json()
    assert body["status"] == "unavailable"
    assert body["db"] != "ok" and body["vector_store"] != "ok"
    assert "OperationalError" in body["db"]


def test_json_logs_name_requests_and_never_hold_secrets_or_answers(
    tmp_path: Path, stand_in: StandInSlack, migrated_sqlite_template: Path
) -> None:
    db = tmp_path / "icp.db"
    shutil.copyfile(migrated_sqlite_template, db)
    engine = make_engine(f"sqlite:///{db}")
    try:
        invitation = interviews.invite(
            engine=engine,
            team_id=TEAM_ID,
            user_id=DANA,
            invited_by=ADMIN,
            role=GtmRole.sales,
            dm_channel_id=DANA_DM,
        )
        interviews.start(engine=engine, team_id=TEAM_ID, user_id=DANA, interview_id=invitation.interview_id)
    finally:
        engine.dispose()

    env = {
        "DATABASE_URL": f"sqlite:///{db}",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "DEBUG",  # the most a deployment can log
        # No vector store: indexing the answer fails and is logged with its traceback, which
        # must not carry the answer either.
        "CHROMA_HOST": "127.0.0.1",
        "CHROMA_PORT": str(free_port()),
    }
    with icp_serve(tmp_path, stand_in, **env) as served:
        driver = SlackDriver(served.url, stand_in)
        assert "/icp show" in driver.slash_reply("help").all_text()
        assert driver.message_im(ANSWER, user=DANA, channel=DANA_DM).status == 200
        stand_in.wait_for(
            "chat.postMessage", lambda c: c.params.get("channel") == DANA_DM and "Question 2" in c.all_text()
        )
    text = served.log.read_text(encoding="utf-8")

    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert records, "no log lines"
    for record in records:
        assert {"time", "level", "logger", "message"} <= record.keys(), record
    answered = [r for r in records if r["message"].startswith("answered ")]
    assert {r["kind"] for r in answered} >= {"command", "event"}
    for record in answered:
        assert record["workspace"] == TEAM_ID
        assert re.fullmatch(r"[0-9a-f]{12}", record["request_id"])
        assert record["latency_ms"] >= 0
    command = next(r for r in answered if r["kind"] == "command")
    assert command["command"] == "/icp"
    # Work done after the ack, on other threads, still names the request it belongs to.
    ids = {r["request_id"] for r in answered}
    assert any(r.get("request_id") in ids and not r["message"].startswith("answered ") for r in records)

    for secret in (SIGNING_SECRET, BOT_TOKEN, ANSWER, "Quillfeather"):
        assert secret not in text
