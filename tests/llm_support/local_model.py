"""The real local model for integration tests: SmolLM2-135M served by xllamacpp in its own process.

:class:`LocalModelServer` runs ``python -m bot.llm.local_server`` on a free 127.0.0.1 port (one
thread, 4096-token context), waits for its ``READY`` line and ``/health``, and stops it by PID.
Under pytest-xdist each worker starts its own server: about 300 MB resident each (the model is
memory-mapped; measured), which the machines afford, and it keeps workers independent (no shared
lock, no server outliving the worker that started it). Closing stdin ends the server, so it also
dies with its parent if the test run is killed.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO

from bot.llm.local_server import READY_PREFIX

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60.0


class LocalModelServer:
    """One llama.cpp server process; ``base_url`` ends in ``/v1``."""

    def __init__(self, log_path: Path, *, ctx: int = 4096, threads: int = 1) -> None:
        self.log_path = log_path
        self.ctx = ctx
        self.threads = threads
        self.base_url = ""
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> LocalModelServer:
        self._log = self.log_path.open("w", encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "bot.llm.local_server",
            "--ctx",
            str(self.ctx),
            "--threads",
            str(self.threads),
        ]
        self._process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        line = self._first_line(START_TIMEOUT_SECONDS)
        if not line.startswith(READY_PREFIX):
            self.stop()
            raise RuntimeError(f"local model server did not start (log: {self.log_path}): {line!r}")
        self.base_url = line[len(READY_PREFIX) :].strip()
        self._wait_healthy(START_TIMEOUT_SECONDS)
        return self

    def _first_line(self, timeout: float) -> str:
        assert self._process is not None and self._process.stdout is not None
        lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        stdout = self._process.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            return lines.get(timeout=timeout)
        except queue.Empty:
            return ""

    def _wait_healthy(self, timeout: float) -> None:
        health = self.base_url.removesuffix("/v1") + "/health"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(health, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"local model server never became healthy at {health} (log: {self.log_path})")

    def stop(self) -> None:
        """Close stdin (the server exits), then SIGTERM and SIGKILL by PID if it lingers."""
        process, self._process = self._process, None
        if process is not None:
            try:
                if process.stdin:
                    process.stdin.close()
                process.wait(timeout=10)
            except (subprocess.TimeoutExpired, OSError):
                for sig in (signal.SIGTERM, signal.SIGKILL):
                    try:
                        os.kill(process.pid, sig)
                        process.wait(timeout=5)
                        break
                    except (subprocess.TimeoutExpired, ProcessLookupError):
                        continue
            if process.stdout:
                process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None
