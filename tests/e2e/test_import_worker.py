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

from bot.services.imports.service import ImportSummary
from bot.slack.client import make_client
from bot.slack.delivery import DeliveryLedger
from bot.slack.messaging.files import file_info
from bot.slack.messaging.import_worker import ImportOrder, import_in_worker, shareable_url
from bot.slack.messaging.upload_claims import UploadClaim, claim_file
from icp_engine.sample import generate, write_csv
from tests.support.harness import ADMIN_ID, BOT_TOKEN, TEAM_ID, SlackEnv, StoredFile

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


def test_the_same_file_shared_again_after_its_worker_died_is_imported(
    slack_env: SlackEnv, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The apology says "try again": sharing the *same* Slack file again must import it (the failed
    import released its claim on the file instead of holding it for two days)."""
    paths = write_csv(generate(seed=7, n_accounts=200), tmp_path_factory.mktemp("again"))
    stored = slack_env.stand_in.add_file("accounts.csv", paths["accounts"].read_bytes())
    assert slack_env.driver.file_shared(stored, event_id="EvAGAIN1").status == 200
    worker = _import_worker()
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGKILL)
    slack_env.stand_in.wait_for(
        "chat.postMessage", lambda c: "something went wrong with that import" in c.all_text(), timeout=30
    )
    assert slack_env.driver.file_shared(stored, event_id="EvAGAIN2").status == 200
    slack_env.stand_in.wait_for(
        "chat.postMessage", lambda c: "Imported accounts.csv" in c.all_text(), timeout=60
    )


def _order(env: SlackEnv, stored: StoredFile, claim: UploadClaim) -> ImportOrder:
    url = shareable_url(env.engine)
    assert url is not None
    client = make_client(env.settings, BOT_TOKEN)
    return ImportOrder(
        env.settings, url, BOT_TOKEN, TEAM_ID, ADMIN_ID, file_info(client, stored.id), "accounts", False,
        channel_id=ADMIN_DM, thread_ts="1700000002.000100", claim=claim,
    )  # fmt: skip


@pytest.mark.parametrize("server", ["dies after the answer", "announces"])
def test_a_worker_whose_server_is_gone_posts_the_summary_itself_once(
    slack_env: SlackEnv, tmp_path_factory: pytest.TempPathFactory, server: str
) -> None:
    """The server's end of the pipe closing without its word (what a SIGKILLed replica's does) makes
    the worker post the summary and finish the file's claim; a server that says it posts leaves
    the worker silent. Either way the summary is posted by exactly one of them."""
    paths = write_csv(generate(seed=8, n_accounts=100), tmp_path_factory.mktemp("orphan"))
    stored = slack_env.stand_in.add_file("accounts.csv", paths["accounts"].read_bytes())
    ledger = DeliveryLedger(slack_env.engine)
    claim = claim_file(ledger, team_id=TEAM_ID, file_id=stored.id, lease_seconds=60)
    assert claim is not None
    answer = import_in_worker(_order(slack_env, stored, claim))
    assert isinstance(answer.summary, ImportSummary) and answer.summary.status == "imported"
    if server == "announces":
        answer.announcing()  # the server posts; it joins the worker, which has ended
        assert not answer.process.is_alive()
        assert not _imported(slack_env)
        return
    answer.pipe.close()  # the server died right after reading the answer
    posted = slack_env.stand_in.wait_for(
        "chat.postMessage", lambda c: "Imported accounts.csv" in c.all_text()
    )
    answer.process.join(30)
    assert posted[0].params.get("channel") == ADMIN_DM
    assert posted[0].params.get("thread_ts") == "1700000002.000100"
    assert f"icp reindex --workspace {TEAM_ID}" in posted[0].all_text()  # statistics: how to rebuild them
    assert (
        len([c for c in slack_env.stand_in.calls_to("chat.postMessage") if "Imported" in c.all_text()]) == 1
    )
    # the worker finished the claim: a late event for the same upload imports nothing
    assert claim_file(ledger, team_id=TEAM_ID, file_id=stored.id, lease_seconds=60) is None
    assert not claim.renew(slack_env.engine)
