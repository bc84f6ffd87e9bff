"""The scheduler's background thread inside ``icp serve``: a pass every poll interval, until stopped.

The poll interval is real time (``threading.Event.wait``, so ``stop`` interrupts it at once);
what counts as "now" for the reminders comes from the injected clock. A failing pass is logged
and the loop goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.scheduler.runner import TickReport, run_due
from bot.store.claims import worker_id

if TYPE_CHECKING:
    from bot.metrics import Metrics
    from bot.scheduler.clients import ClientFor
    from bot.scheduler.crm_syncs import CrmSyncLoop
    from bot.settings import Settings
    from bot.slack.context import AppContext
    from bot.store.db import Engine

log = logging.getLogger(__name__)


class SchedulerLoop:
    """Runs ``run_due`` every ``poll_seconds`` on a daemon thread; ``stop()`` ends it cleanly."""

    def __init__(
        self,
        ctx: AppContext,
        clients: ClientFor,
        *,
        poll_seconds: float,
        clock: Callable[[], datetime] | None = None,
        worker: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.clients = clients
        self.poll_seconds = poll_seconds
        self.clock = clock or ctx.clock
        self.worker = worker or worker_id()
        self.ticks = 0
        self.totals = {"sent": 0, "failed": 0, "skipped": 0}  # review reminders, since start
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.crm_syncs: CrmSyncLoop | None = None  # scheduled CRM syncs, on their own thread

    def tick(self) -> TickReport | None:
        """One pass now (also what tests call); None if it failed (logged)."""
        try:
            report = run_due(self.ctx, clients=self.clients, worker=self.worker, now=self.clock())
        except Exception:
            log.exception("scheduler pass failed; next try in %.0f s", self.poll_seconds)
            return None
        finally:
            self.ticks += 1
        self.totals["sent"] += report.reviews_sent
        self.totals["failed"] += report.reviews_failed
        self.totals["skipped"] += report.reviews_skipped
        if report.reviews_sent or report.reviews_failed or (report.interviews and report.interviews.sent):
            log.info("scheduler pass: %s", report)
        return report

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.poll_seconds)

    def start(self) -> SchedulerLoop:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="icp-scheduler", daemon=True)
            self._thread.start()
            log.info("reminder scheduler started (every %.0f s, worker %s)", self.poll_seconds, self.worker)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to end and wait for the pass in progress (if any) to finish."""
        if self.crm_syncs is not None:
            self.crm_syncs.stop(timeout)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def start_in_server(
    settings: Settings, engine: Engine, metrics: Metrics | None = None
) -> SchedulerLoop | None:
    """The loop ``icp serve`` runs next to the Slack endpoint (None when SCHEDULER_ENABLED=false);
    it counts reminders in the server's ``metrics``."""
    from bot.metrics import Metrics
    from bot.scheduler.clients import client_factory
    from bot.slack.context import AppContext

    if not settings.scheduler_enabled:
        log.info(
            "reminder scheduler disabled (SCHEDULER_ENABLED=false): run `icp reminders run-due` from cron"
        )
        return None
    from bot.slack.on_install import default_for_token_mode

    ctx = AppContext(settings=settings, engine=engine, metrics=metrics or Metrics())
    clients = client_factory(settings, engine)
    if not settings.oauth_enabled and settings.slack_bot_token is not None:
        client = clients("")
        if client is not None:
            try:
                default_for_token_mode(settings, engine, client)
            except Exception:  # the bot must start even if the default cannot be written now
                log.exception("could not set the default review reminder")
    loop = SchedulerLoop(ctx, clients, poll_seconds=settings.scheduler_poll_seconds)
    from bot.scheduler.crm_syncs import CrmSyncLoop

    loop.crm_syncs = CrmSyncLoop(settings, engine, clients, clock=loop.clock, worker=loop.worker).start()
    return loop.start()
