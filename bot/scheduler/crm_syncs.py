"""Scheduled CRM syncs: each due workspace synced once (claimed), a refused token told once.

A sync can take minutes for a big CRM, so it runs on its own thread (``CrmSyncLoop``) and never
holds up the review reminders. Which workspaces are due, and who runs each, is decided in SQL
(``next_sync_at`` and the connection's claim, see ``bot.store.repo.sync``), so several replicas
run each sync once. When the CRM refuses the stored token the sync stops for that workspace
(until someone connects again) and whoever connected it gets one DM saying so.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.services.crm_sync.schedule import claim_auth_report, due_workspaces
from bot.services.crm_sync.sync import SyncContext, SyncRequest, SyncSummary, run_sync
from bot.slack.views.blocks_text import escape

if TYPE_CHECKING:
    from bot.scheduler.clients import ClientFor
    from bot.settings import Settings
    from bot.store.db import Engine

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncPass:
    """What one pass did: syncs run, failed, and refused tokens reported."""

    synced: int = 0
    failed: int = 0
    reported: int = 0


def _refresh(settings: Settings, engine: Engine) -> Callable[[str], object]:
    def refresh(workspace: str) -> object:
        from bot.knowledge.store import knowledge_store_from
        from bot.services.knowledge.sync import refresh_statistics

        return refresh_statistics(
            engine=engine, knowledge=lambda: knowledge_store_from(settings), workspace=workspace
        )

    return refresh


def run_due_syncs(
    settings: Settings, engine: Engine, *, clients: ClientFor, now: datetime, worker: str
) -> SyncPass:
    """Sync every workspace whose scheduled sync is due (none when CRM_SYNC_HOURS is 0)."""
    if settings.crm_sync_hours <= 0:
        return SyncPass()
    synced = failed = reported = 0
    ctx = SyncContext(
        engine=engine, settings=settings, refresh_statistics=_refresh(settings, engine), worker=worker
    )
    for team_id in due_workspaces(engine=engine, now=now):
        summary = run_sync(ctx, SyncRequest(workspace=team_id, actor="system", trigger="schedule"))
        if summary.ok:
            synced += 1
            continue
        if summary.status != "busy":
            failed += 1
            log.warning("scheduled CRM sync of %s: %s", team_id, summary.status)
        if summary.status == "auth_failed" and _tell_once(engine, clients, team_id, summary, now):
            reported += 1
    return SyncPass(synced=synced, failed=failed, reported=reported)


def _tell_once(engine: Engine, clients: ClientFor, team_id: str, summary: SyncSummary, now: datetime) -> bool:
    """DM whoever connected the CRM that its token was refused, exactly once per refusal."""
    recipient = claim_auth_report(engine=engine, workspace=team_id, at=now)
    if recipient is None:
        return False
    client = clients(team_id)
    if client is None or not recipient.startswith(("U", "W")):
        log.warning("CRM token of %s refused; nobody in Slack to tell (connected by %s)", team_id, recipient)
        return False
    text = (
        f":warning: {escape(summary.message)}\nScheduled syncs are paused until the CRM is connected again."
    )
    try:
        client.chat_postMessage(channel=recipient, text=text)
    except Exception as exc:  # told once means once: a failed DM is logged, not retried every pass
        log.warning("could not DM %s about the refused CRM token of %s: %s", recipient, team_id, exc)
        return False
    return True


class CrmSyncLoop:
    """``run_due_syncs`` every ``poll_seconds`` on its own daemon thread, beside the reminders."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        clients: ClientFor,
        *,
        clock: Callable[[], datetime],
        worker: str,
    ) -> None:
        self.settings, self.engine, self.clients = settings, engine, clients
        self.clock, self.worker = clock, worker
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> SyncPass | None:
        try:
            return run_due_syncs(
                self.settings, self.engine, clients=self.clients, now=self.clock(), worker=self.worker
            )
        except Exception:
            log.exception("CRM sync pass failed; next try in %.0f s", self.settings.scheduler_poll_seconds)
            return None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.settings.scheduler_poll_seconds)

    def start(self) -> CrmSyncLoop:
        if self._thread is None and self.settings.crm_sync_hours > 0:
            self._thread = threading.Thread(target=self._run, name="icp-crm-sync", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
