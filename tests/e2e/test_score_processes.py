"""``/icp score`` answered by a worker process (SCORE_PROCESSES=1), end to end over HTTP.

The worker builds its own engine, client and reply pool from the app's settings: the card,
a shared card (chat.postMessage with the bot token) and the redelivery rule (the worker claims
the delivery in the shared SQL ledger) must behave exactly as on the server's threads.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from bot.slack.listeners.commands.icp.score_workers import ScoreProcesses
from bot.slack.views.score_card import WHY_BUTTON
from bot.store.ledger import ledger_engine
from tests.support.harness import BOT_TOKEN, MEMBER_ID, SlackEnv, assert_valid_blocks
from tests.support.score_world import seed

FIRST_REPLY_S = 90.0  # the worker imports the bot before its first request


@pytest.fixture(autouse=True)
def stop_new_score_workers() -> Iterator[None]:
    """The apps' worker pools started by a test are shut down after it (the e2e world only stops
    the server); they would otherwise wait, idle, for the test process to end."""
    before = {id(o) for o in gc.get_objects() if isinstance(o, ScoreProcesses)}
    yield
    for pool in [o for o in gc.get_objects() if isinstance(o, ScoreProcesses) and id(o) not in before]:
        pool.shutdown()


def test_score_runs_in_a_worker_process_with_the_same_answers(
    make_slack_env: Callable[..., SlackEnv],
) -> None:
    env = make_slack_env(score_processes=1)
    seed(env)
    reply = env.driver.slash_reply("score Acme Inc", timeout=FIRST_REPLY_S)
    assert reply.params["response_type"] == "ephemeral"
    assert_valid_blocks(reply.blocks)
    assert "Acme, Inc.: 88.9/100 · Tier A" in reply.all_text()  # +60 points -> 100·sigmoid(60·ln2/20)
    assert WHY_BUTTON in str(reply.blocks)

    chooser = env.driver.slash_reply("score Umbrella Group")  # two accounts share the name
    assert "Several accounts match" in chooser.all_text()

    assert env.driver.slash("score acme.com --share", channel_id="C0SALES").status == 200
    (post,) = env.stand_in.wait_for("chat.postMessage", timeout=30)
    assert post.params["channel"] == "C0SALES"
    assert post.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    assert f"<@{MEMBER_ID}> shared: Acme, Inc.: 88.9/100, tier A" in post.text  # +60 points

    assert "/icp score" in env.driver.slash_reply("help").all_text()  # other subcommands: threads


def test_a_repeated_score_is_answered_once_by_the_worker(make_slack_env: Callable[..., SlackEnv]) -> None:
    env = make_slack_env(score_processes=1)
    seed(env)
    env.driver.slash_reply("score acme.com", timeout=FIRST_REPLY_S)  # the worker is up
    fields = env.driver.slash_fields("score Acme Inc")
    path = urlsplit(fields["response_url"]).path
    with ThreadPoolExecutor(max_workers=3) as pool:
        sent = list(pool.map(lambda n: env.driver.post_form(fields, retry_num=n or None), range(3)))
    assert [r.status for r in sent] == [200] * 3
    env.stand_in.wait_for("response_url", lambda c: c.path == path, timeout=30)
    env.driver.slash_reply("score umbrella.de")  # later work: the repeats were dealt with by then
    assert len([c for c in env.stand_in.calls_to("response_url") if c.path == path]) == 1
    with ledger_engine(env.engine).connect() as conn:  # an SQLite store keeps it in its own file
        keys: set[str] = set(
            conn.execute(sa.text("SELECT delivery_key FROM slack_delivery_receipt")).scalars()
        )
    assert f"trigger:{fields['trigger_id']}" in keys


def score_workers() -> set[multiprocessing.process.BaseProcess]:
    return {p for p in multiprocessing.active_children() if p.name.startswith("icp-score")}


def test_a_killed_worker_is_replaced_and_scores_still_get_answers(
    make_slack_env: Callable[..., SlackEnv],
) -> None:
    before = score_workers()  # other tests' apps may still have theirs
    env = make_slack_env(score_processes=1)
    seed(env)
    env.driver.slash_reply("score acme.com", timeout=FIRST_REPLY_S)
    (worker,) = score_workers() - before
    os.kill(worker.pid or 0, signal.SIGKILL)
    worker.join(10)
    answer = env.driver.slash_reply("score Acme Inc", timeout=FIRST_REPLY_S)  # a thread, or the new worker
    assert "Acme, Inc.: 88.9/100 · Tier A" in answer.all_text()  # +60 points -> 88.9
    deadline = time.monotonic() + FIRST_REPLY_S
    while not (score_workers() - before - {worker}):
        assert time.monotonic() < deadline, "no new score worker"
        time.sleep(0.2)
    assert "Tier A" in env.driver.slash_reply("score acme.com", timeout=FIRST_REPLY_S).all_text()
