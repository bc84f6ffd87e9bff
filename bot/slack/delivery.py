"""Slack redelivers (``X-Slack-Retry-Num``) when it thinks we missed a request: do things once.

Each request's delivery key (the event id for Events API callbacks, the ``trigger_id`` for slash
commands and interactivity) is claimed in a small table (``bot.store.ledger``); a second claim of
the same key fails, so a redelivery is acknowledged and dropped, on whichever replica it lands.

The keys this process claimed most recently are also remembered in memory, so a redelivery to
the same replica is recognised without a SQL round trip (and without the write lock).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.store.db import Engine
from bot.store.ledger import (
    KEY_LENGTH,
    create_ledger,
    delete_deliveries_before,
    ledger_engine,
    record_delivery,
)

log = logging.getLogger(__name__)

CLAIM_DELIVERY = "claim_delivery"  # Bolt context key: the deferred claim of a slash command

KEEP_FOR = timedelta(days=2)  # Slack retries within minutes; two days is ample
PRUNE_EVERY = 500  # claims between clean-ups of old keys
REMEMBER = 10_000  # recently claimed keys kept in memory (minutes of traffic at 100 requests/s)


def delivery_key(body: Mapping[str, Any]) -> str | None:
    """What identifies one delivery of this request body, or None when nothing does."""
    event_id = body.get("event_id")
    if isinstance(event_id, str) and event_id:
        return f"event:{event_id}"
    trigger_id = body.get("trigger_id")
    if isinstance(trigger_id, str) and trigger_id:
        return f"trigger:{trigger_id}"
    return None


class DeliveryLedger:
    """Claims delivery keys in the SQL store; ``claim`` is True only the first time."""

    def __init__(self, engine: Engine, *, remember: int = REMEMBER) -> None:
        self.engine = ledger_engine(engine)  # an SQLite store's ledger has a file of its own
        create_ledger(self.engine)
        self._claims = 0
        self._remember = remember
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def seen_here(self, key: str) -> bool:
        """Whether this ledger already claimed (or refused) ``key`` recently: a sure redelivery."""
        with self._lock:
            return key[:KEY_LENGTH] in self._recent

    def _note(self, key: str) -> None:
        with self._lock:
            self._recent[key] = None
            self._recent.move_to_end(key)
            while len(self._recent) > self._remember:
                self._recent.popitem(last=False)

    def claim(self, key: str, *, now: datetime | None = None) -> bool:
        key = key[:KEY_LENGTH]
        if self.seen_here(key):
            return False
        now = now or datetime.now(UTC)
        created = record_delivery(self.engine, key=key, received_at=now)
        self._note(key)
        self._claims += 1
        if self._claims % PRUNE_EVERY == 0:
            self.prune(now=now)
        return created

    def prune(self, *, now: datetime | None = None) -> int:
        """Drop keys older than ``KEEP_FOR`` (a redelivery that late is not coming)."""
        cutoff = (now or datetime.now(UTC)) - KEEP_FOR
        return delete_deliveries_before(self.engine, cutoff=cutoff)


def claim_once(ledger: DeliveryLedger, key: str) -> bool:
    """Claim ``key`` in the ledger; False (and a log line) when it was handled already."""
    if ledger.claim(key):
        return True
    log.info("ignoring a redelivery of %s", key)
    return False
