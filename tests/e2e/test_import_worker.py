"""A CSV shared in Slack is imported in a worker process: the server keeps acking and handling.

The import is held in the middle by stopping its worker process (SIGSTOP, the operating system's
pause; nothing of ours is patched): an event sent meanwhile must be acked and handled while the
import is still unfinished, and the server process's garbage collector must never be switched
off (``gc.disable`` is watched from the moment the upload is shared).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess

import pytest

from icp_engine.sample import generate, write_csv
from tests.support.harness import ADMIN_ID, SlackEnv

ADMIN_DM = f"D{ADMIN_ID[1:]}"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGSTOP pauses the worker")


def _import_worker(timeout: float = 30.0) -> BaseProcess:
    """The import worker process the server spawned (a child of this process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in multiprocessing.active_children():
            if child.name == "icp-import-worker":
                return child
        time.sleep(0.005)
    raise AssertionError("no import worker process was started")


def _imported(env: SlackEnv) -> bool:
    return any(
        c.params.get("channel") == ADMIN_DM and "Imported accounts.csv" in c.all_text()
        for c in env.stand_in.calls_to("chat.postMessage")
    )


def test_an_event_is_acked_and_handled_while_an_import_runs(
    slack_env: SlackEnv, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    disabled: list[str] = []
    real_disable: Callable[[], None] = gc.disable

    def watched_disable() -> None:  # the stdlib's switch, watched: our code is left as it is
        disabled.append("gc.disable")
        real_disable()

    monkeypatch.setattr(gc, "disable", watched_disable)
    paths = write_csv(generate(seed=5, n_accounts=2_000), tmp_path_factory.mktemp("big"))
    stored = slack_env.stand_in.add_file("accounts.csv", paths["accounts"].read_bytes())

    assert slack_env.driver.file_shared(stored).status == 200
    worker = _import_worker()
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGSTOP)  # the import is now held half-way (or before it began)
    try:
        assert not _imported(slack_env)
        # An event while the import is unfinished: acked, and handled (the Home tab is published).
        assert slack_env.driver.app_home_opened(user=ADMIN_ID).status == 200
        slack_env.stand_in.wait_for("views.publish", lambda c: c.params.get("user_id") == ADMIN_ID)
        assert worker.is_alive() and not _imported(slack_env)
        assert gc.isenabled()
    finally:
        os.kill(worker.pid, signal.SIGCONT)

    slack_env.stand_in.wait_for(
        "chat.postMessage",
        lambda c: c.params.get("channel") == ADMIN_DM and "Imported accounts.csv" in c.all_text(),
        timeout=60,
    )
    assert disabled == []  # the server process never paused its collector
    assert gc.isenabled()


def test_a_worker_that_dies_gets_the_apology(
    slack_env: SlackEnv, tmp_path_factory: pytest.TempPathFactory
) -> None:
    paths = write_csv(generate(seed=6, n_accounts=200), tmp_path_factory.mktemp("killed"))
    stored = slack_env.stand_in.add_file("accounts.csv", paths["accounts"].read_bytes())
    assert slack_env.driver.file_shared(stored).status == 200
    worker = _import_worker()
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGKILL)
    apology = slack_env.stand_in.wait_for(
        "chat.postMessage",
        lambda c: (
            c.params.get("channel") == ADMIN_DM and "something went wrong with that import" in c.all_text()
        ),
        timeout=30,
    )
    assert apology and not _imported(slack_env)
