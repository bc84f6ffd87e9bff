"""The delivery ledger on real SQLite and PostgreSQL: a key is claimed once, even in a race."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from bot.slack.delivery import KEEP_FOR, DeliveryLedger, delivery_key
from bot.store import make_engine


def test_a_key_is_claimed_once_and_old_keys_are_pruned(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        ledger = DeliveryLedger(engine)
        DeliveryLedger(engine)  # a second replica starting: the table is already there
        long_ago = datetime.now(UTC) - KEEP_FOR - timedelta(hours=1)
        assert ledger.claim("event:Ev1", now=long_ago) is True
        assert ledger.claim("event:Ev1") is False
        assert ledger.claim("event:Ev2") is True
        assert ledger.prune() == 1
        assert ledger.claim("event:Ev2") is False
    finally:
        engine.dispose()


def test_racing_replicas_claim_a_key_exactly_once(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        ledgers = [DeliveryLedger(engine) for _ in range(6)]
        results: list[bool] = []
        barrier = threading.Barrier(len(ledgers))

        def claim(ledger: DeliveryLedger) -> None:
            barrier.wait()
            results.append(ledger.claim("trigger:123.abc"))

        threads = [threading.Thread(target=claim, args=(ledger,)) for ledger in ledgers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False] * 5 + [True]
    finally:
        engine.dispose()


def test_delivery_keys() -> None:
    assert delivery_key({"event_id": "Ev1", "trigger_id": "t"}) == "event:Ev1"
    assert delivery_key({"trigger_id": "1.2"}) == "trigger:1.2"
    assert delivery_key({"event_id": 5}) is None
    assert delivery_key({}) is None
