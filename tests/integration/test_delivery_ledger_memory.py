"""The ledger's memory of recent keys: a quick, local answer that never overrides the store."""

from __future__ import annotations

from bot.slack.delivery import DeliveryLedger
from bot.store import make_engine


def test_a_claimed_key_is_known_here_and_refused_by_other_replicas(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        here, there = DeliveryLedger(engine), DeliveryLedger(engine)
        assert here.seen_here("trigger:1.a") is False
        assert here.claim("trigger:1.a") is True
        assert here.seen_here("trigger:1.a") is True
        assert there.seen_here("trigger:1.a") is False  # another replica's memory
        assert there.claim("trigger:1.a") is False  # ...but the store knows
        assert there.seen_here("trigger:1.a") is True  # and now it remembers the refusal too
        assert here.claim("trigger:1.a") is False
    finally:
        engine.dispose()


def test_keys_forgotten_by_memory_are_still_refused_by_the_store(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        ledger = DeliveryLedger(engine, remember=2)
        for key in ("event:E1", "event:E2", "event:E3"):
            assert ledger.claim(key) is True
        assert ledger.seen_here("event:E1") is False  # the oldest was dropped from memory
        assert ledger.seen_here("event:E3") is True
        assert ledger.claim("event:E1") is False
    finally:
        engine.dispose()
