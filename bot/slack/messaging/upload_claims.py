"""Who imports a shared file: a claim with a lease, so a crashed replica never blocks the file.

Slack sends two events per upload (``message``/``file_share`` and ``file_shared``) and may
redeliver either, to any replica: the first to claim the file imports it, the others do nothing.
Whoever is importing renews the claim's lease (the server's thread, and the worker process, which
may outlive its server); a replica killed mid-import stops renewing, and once the lease has lapsed
sharing the same file again imports it. A finished claim stays two days (like the delivery keys),
so a late second event changes nothing; a failed import releases its claim, so the "try again"
the person is told works with the same file. The SQL is ``bot.store.ledger``'s.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.store.ledger import claim_upload as claim_upload_row
from bot.store.ledger import finish_upload, ledger_engine, release_upload, renew_upload

if TYPE_CHECKING:
    from bot.slack.delivery import DeliveryLedger
    from bot.store.db import Engine

log = logging.getLogger(__name__)

KEEP_DONE = timedelta(days=2)  # a finished claim blocks a repeat of the same file this long


@dataclass(frozen=True, slots=True)
class UploadClaim:
    """One claim on a shared file: plain values, so a worker process can renew it too."""

    key: str
    holder: str
    lease_seconds: float

    def _until(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.lease_seconds)

    def renew(self, engine: Engine) -> bool:
        """Push the lease on; False if the claim lapsed and someone else took the file."""
        return renew_upload(
            ledger_engine(engine), key=self.key, holder=self.holder, lease_until=self._until()
        )

    def finish(self, engine: Engine) -> None:
        """The file was handled: later events for it do nothing."""
        finish_upload(ledger_engine(engine), key=self.key, holder=self.holder)

    def release(self, engine: Engine) -> None:
        """The import failed: sharing the file again retries it."""
        release_upload(ledger_engine(engine), key=self.key, holder=self.holder)

    def settle(self, engine: Engine, *, outcome: str) -> None:
        """After the file was handled: released when it ``failed`` (the person is told to try
        again), finished otherwise."""
        if outcome == "failed":
            self.release(engine)
        else:
            self.finish(engine)

    @contextmanager
    def kept(self, engine: Engine) -> Iterator[None]:
        """Renew the lease every third of its length until the block ends (a daemon thread)."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.lease_seconds / 3):
                try:
                    if not self.renew(engine):
                        log.warning("the claim on %s lapsed before it was renewed", self.key)
                except Exception as exc:  # a missed beat is retried; the lease has room for two
                    log.warning("could not renew the claim on %s: %s", self.key, exc)

        thread = threading.Thread(target=beat, name="icp-upload-lease", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(5.0)


def claim_file(
    ledger: DeliveryLedger, *, team_id: str, file_id: str, lease_seconds: float
) -> UploadClaim | None:
    """The claim on ``file_id`` of ``team_id`` for this process, or None when another holds it."""
    holder = f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    claim = UploadClaim(f"file-import:{team_id}:{file_id}", holder, lease_seconds)
    now = datetime.now(UTC)
    taken = claim_upload_row(
        ledger.engine,  # the ledger's own engine, whose tables the ledger created
        key=claim.key,
        holder=claim.holder,
        now=now,
        lease_until=now + timedelta(seconds=lease_seconds),
        stale_before=now - KEEP_DONE,
    )
    return claim if taken else None
