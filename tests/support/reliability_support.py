"""What the reliability suites share: real ``icp`` processes to kill, and row counts to compare.

:class:`Zygote` runs ``tests.support.bot_zygote`` (the bot imported once) and forks real ``icp``
processes from it: :meth:`Zygote.serve` starts ``icp serve --http`` against a SQLite file and the
stand-in Slack and waits for ``/healthz``; :meth:`Zygote.cli` starts any other ``icp`` command.
Each is a :class:`Child` the tests SIGKILL at will.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, inspect, select, table

from tests.support.harness import BOT_TOKEN, SIGNING_SECRET, free_port

ZYGOTE = "tests.support.bot_zygote"  # run with -m, the repository root on PYTHONPATH
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Child:
    """One forked ``icp`` process."""

    pid: int
    log: Path
    rc_file: Path
    url: str = ""

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill(self) -> None:
        """SIGKILL, then wait until the process is gone (the zygote reaps it)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.wait(timeout=10)

    def wait(self, *, timeout: float) -> int | None:
        """Wait for the process to end; its exit code, or None when it was killed."""
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() > deadline:
                raise TimeoutError(f"pid {self.pid} still running after {timeout:.0f}s; log: {self.tail()}")
            time.sleep(0.01)
        return int(self.rc_file.read_text()) if self.rc_file.exists() else None

    def tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


class Zygote:
    """The pre-imported parent process; ``close()`` kills every child it still has."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._count = 0
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "ANONYMIZED_TELEMETRY": "False",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        }
        self._process = subprocess.Popen(
            [sys.executable, "-m", ZYGOTE],
            cwd=workdir,  # no .env there: settings come only from the environment given
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        ready = self._read()
        if not ready.get("ready"):
            raise RuntimeError(f"the zygote did not start: {ready}")

    def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the zygote exited")
        return dict(json.loads(line))

    def spawn(self, args: list[str], env: dict[str, str]) -> Child:
        self._count += 1
        log = self.workdir / f"child-{self._count}.log"
        rc_file = self.workdir / f"child-{self._count}.rc"
        assert self._process.stdin is not None
        request = {"args": args, "env": env, "log": str(log), "rc": str(rc_file)}
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        return Child(pid=int(self._read()["pid"]), log=log, rc_file=rc_file)

    def serve(
        self, db_path: Path, data_dir: Path, api_url: str, *, need_vector_store: bool = True, **extra_env: str
    ) -> Child:
        """``icp serve --http`` on a free port; returns once ``/healthz`` answers 200, or (without
        ``need_vector_store``) once it answers at all with the database ok: a server deliberately
        given no vector store reports 503 for it, yet serves everything SQL does."""
        port = free_port()
        env = bot_env(db_path, data_dir, api_url) | extra_env
        child = self.spawn(["serve", "--http", "--host", "127.0.0.1", "--port", str(port)], env)
        child.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{child.url}/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return child
            except urllib.error.HTTPError as exc:
                if not need_vector_store and exc.code == 503 and json.loads(exc.read()).get("db") == "ok":
                    return child
            except (OSError, urllib.error.URLError):
                pass
            if not child.alive() or time.monotonic() > deadline:
                child.kill()
                raise RuntimeError(f"icp serve did not come up: {child.tail()}")
            time.sleep(0.02)

    def cli(self, args: list[str], db_path: Path, data_dir: Path, **extra_env: str) -> Child:
        return self.spawn(args, bot_env(db_path, data_dir, "http://127.0.0.1:9/api/") | extra_env)

    def children_cpu(self) -> float:
        """CPU seconds used by the children that have ended (killed ones included)."""
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"cpu": True}) + "\n")
        self._process.stdin.flush()
        return float(self._read()["cpu"])

    def close(self) -> None:
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()


def bot_env(db_path: Path, data_dir: Path, api_url: str) -> dict[str, str]:
    """The environment an operator would set for one workspace on SQLite, against ``api_url``."""
    return {
        "DATABASE_URL": f"sqlite:///{db_path}",
        "DATA_DIR": str(data_dir),
        "CHROMA_PATH": str(data_dir / "chroma"),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "LLM_PROVIDER": "offline",
        "SCHEDULER_ENABLED": "false",
    }


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every product table (the delivery ledger is bookkeeping, left out)."""
    names = [
        n
        for n in inspect(engine).get_table_names()
        if n not in ("alembic_version", "slack_delivery_receipt", "slack_upload_claim")
    ]
    with engine.connect() as conn:
        return {n: int(conn.execute(select(func.count()).select_from(table(n))).scalar_one()) for n in names}
