"""``/icp score`` in worker processes, so scoring never holds the GIL that an ack waits for.

Why: Python runs one thread at a time in a process. Answering ``/icp score`` (lookup, engine,
card, reply) costs several ms of CPU; the ack a fraction of that. On threads, an ack waits for
whichever score holds the GIL (and, on a busy machine, for that thread to be scheduled again),
so under load acks slow down many times over (benchmarks/slack_load.py). In a worker process
the score runs beside the server, and the operating system, which favours the mostly idle
serving process, lets each ack through at once.

Each worker reads requests from its own pipe (the server writes to them in turn, no thread of
its own involved) and runs them on a few threads, as the server would, so one request's wait
for SQL or Slack does not hold up the next. It builds its own engine (the app's database URL),
Web API clients and reply pool from the app's Settings, indexes the workspaces' accounts before
reading its pipe, and claims each delivery itself: the ledger is SQL, shared by every process
and replica, so a redelivery is still answered once. A worker that dies is replaced; requests it
had taken are lost with it, as with a killed server, and a request that cannot be handed to a
worker runs on the server's threads. Workers end when the server's end of their pipe closes.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.settings import Settings
    from bot.slack.context import AppContext
    from bot.slack.delivery import DeliveryLedger

log = logging.getLogger(__name__)

_SPAWN = multiprocessing.get_context("spawn")  # never fork a threaded server
RESPAWN_PAUSE_S = 5.0  # a worker that dies sooner than this after starting is restarted this late


@dataclass
class _Slot:
    process: BaseProcess
    pipe: Connection
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = field(default_factory=time.monotonic)


class ScoreProcesses:
    """``workers`` processes running ``/icp score`` for one app."""

    def __init__(self, settings: Settings, *, database_url: str, workers: int) -> None:
        self._settings = settings
        self._database_url = database_url
        self._slots = [self._spawn() for _ in range(workers)]
        self._turn = itertools.count()
        self._closed = False
        self._lock = threading.Lock()  # shutdown vs replacing a dead worker
        threading.Thread(target=self._replace_dead, name="score-workers-watch", daemon=True).start()
        atexit.register(self.shutdown, 5.0)  # before multiprocessing's own exit hook terminates them

    def _spawn(self) -> _Slot:
        reader, writer = _SPAWN.Pipe(duplex=False)
        process = _SPAWN.Process(
            target=_worker_main,
            args=(self._settings, self._database_url, reader),
            name="icp-score-worker",
            daemon=True,
        )
        process.start()
        reader.close()
        return _Slot(process, writer)

    def submit(self, body: dict[str, Any], *, token: str | None, fallback: Callable[[], object]) -> None:
        """Hand the slash command ``body`` to the next worker; ``fallback`` if none can take it."""
        slot = self._slots[next(self._turn) % len(self._slots)]
        try:
            with slot.lock:
                slot.pipe.send((body, token))
        except (OSError, ValueError):  # the worker is gone; the watcher replaces it
            log.warning("a score worker could not take a request; running it on a thread")
            fallback()

    def _replace_dead(self) -> None:
        while not self._closed:
            wait([slot.process.sentinel for slot in self._slots], timeout=1.0)
            for i, slot in enumerate(self._slots):
                if not self._closed and not slot.process.is_alive():
                    log.error(
                        "score worker %s ended (exit code %s); starting another", i, slot.process.exitcode
                    )
                    if time.monotonic() - slot.started < RESPAWN_PAUSE_S:  # failing at start: no spawn storm
                        time.sleep(RESPAWN_PAUSE_S)
                    slot.pipe.close()  # requests sent meanwhile went to threads (see submit)
                    with self._lock:
                        if self._closed:  # shut down meanwhile: no new worker
                            return
                        self._slots[i] = self._spawn()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Close the pipes (workers finish what they took, then end) and wait for them."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        atexit.unregister(self.shutdown)
        for slot in self._slots:
            with slot.lock:
                slot.pipe.close()
        for slot in self._slots:
            slot.process.join(timeout)


# --- in the worker ----------------------------------------------------------------------------


@dataclass
class _Worker:
    ctx: AppContext
    ledger: DeliveryLedger
    clients: dict[str | None, WebClient] = field(default_factory=dict)

    def client(self, token: str | None) -> WebClient:
        found = self.clients.get(token)
        if found is None:
            from bot.slack.client import make_client

            found = self.clients[token] = make_client(self.ctx.settings, token)
        return found


def _worker_main(settings: Settings, database_url: str, pipe: Connection) -> None:
    from bot.services.scoring.account_lookup import warm_up
    from bot.slack.context import AppContext
    from bot.slack.delivery import DeliveryLedger
    from bot.slack.listeners.commands.icp.dispatch import load_all
    from bot.store.db import make_engine

    load_all()
    engine = make_engine(database_url)
    worker = _Worker(ctx=AppContext(settings=settings, engine=engine), ledger=DeliveryLedger(engine))
    try:  # before traffic: a lookup would otherwise wait ~1 s per 100,000 accounts
        warm_up(engine)
    except Exception:  # an empty or unmigrated store: the first lookup indexes it instead
        log.exception("could not index accounts ahead of traffic")
    while True:
        try:
            body, token = pipe.recv()
        except (EOFError, OSError):  # the server closed its end, or ended
            break
        _start(worker, body, token)
    worker.ctx.work.shutdown(wait=True)
    engine.dispose()


def _start(worker: _Worker, body: dict[str, Any], token: str | None) -> None:
    from bot.slack.delivery import claim_once, delivery_key
    from bot.slack.listeners.commands.icp.dispatch import submit_once

    key = delivery_key(body)
    claim = partial(claim_once, worker.ledger, key) if key is not None else None
    respond = worker.ctx.replies.respond_to(body.get("response_url"))
    submit_once(claim, body, ctx=worker.ctx, client=worker.client(token), respond=respond)
