"""A pre-imported parent that forks real ``icp`` processes on request, for the crash trials.

Starting ``icp serve --http`` from scratch costs seconds of imports; a hundred kills and restarts
would cost minutes. This process imports the bot once, then for each request forks a child that
runs the real CLI entry point (``bot.cli.main.app``) with the given arguments and environment, exactly
what the ``icp`` script runs. Each child is a separate process the tests kill with SIGKILL.

Protocol (one JSON object per line): the test writes ``{"args": [...], "env": {...}, "log": path,
"rc": path}`` on stdin; this process answers ``{"pid": N}``. The child writes its exit code to
``rc`` when it ends by itself (a killed child writes nothing). ``{"cpu": true}`` asks for the CPU
seconds its ended children used. EOF on stdin kills every child still running and exits.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from typing import Any


def preload() -> None:
    """Import what every child needs, once: a throwaway app is built (its listeners import their
    modules) and uvicorn loads its protocol classes. Nothing here starts a thread."""
    import uvicorn
    from sqlalchemy import create_engine

    import bot.cli.main
    import bot.services.imports.service
    from bot.settings import Settings
    from bot.slack.app import build_app
    from bot.slack.server import build_asgi

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        slack_bot_token="xoxb-preload",
        slack_signing_secret="preload",
        slack_api_url="http://127.0.0.1:9/api/",
    )
    engine = create_engine("sqlite://")
    asgi = build_asgi(build_app(settings, engine=engine), engine=engine, signing_secret="preload")
    uvicorn.Config(asgi, lifespan="off").load()
    engine.dispose()
    del bot


def run_child(request: dict[str, Any]) -> None:
    """In the forked child: become ``icp <args>`` and never return."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    code = 1
    try:
        os.environ.update({str(k): str(v) for k, v in request.get("env", {}).items()})
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        sys.stdin.close()
        from bot.cli.main import app

        try:
            app(list(request["args"]), prog_name="icp")  # standalone: always ends in SystemExit
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException as exc:  # the exit code file says it failed; the log says why
            print(f"child failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            code = 1
        rc_path = request.get("rc")
        if rc_path:
            with open(rc_path, "w") as handle:
                handle.write(str(code))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


_cpu = [0.0]  # CPU seconds of the children reaped so far


def _reap(_signum: int, _frame: Any) -> None:
    """Reap ended children at once (a zombie would still look alive) and add up their CPU time."""
    while True:
        try:
            pid, _status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _cpu[0] += usage.ru_utime + usage.ru_stime


def main() -> None:
    preload()
    signal.signal(signal.SIGCHLD, _reap)
    children: list[int] = []
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        if request.get("cpu"):
            print(json.dumps({"cpu": _cpu[0]}), flush=True)
            continue
        pid = os.fork()
        if pid == 0:
            run_child(request)
        children.append(pid)
        print(json.dumps({"pid": pid}), flush=True)
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
