"""Upload claims on real SQLite and PostgreSQL: one importer per shared file, and a crashed one
(its lease lapsed, nobody renewing it) never blocks the file."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from bot.slack.delivery import KEEP_FOR, DeliveryLedger
from bot.slack.messaging.upload_claims import UploadClaim, claim_file
from bot.store import make_engine
from bot.store.ledger import (
    claim_upload,
    delete_deliveries_before,
    finish_upload,
    release_upload,
    renew_upload,
)

KEY = "file-import:T1:F1"
LEASE = timedelta(seconds=60)


def test_a_lapsed_lease_is_taken_over_and_a_live_or_finished_one_is_not(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        ledger = DeliveryLedger(engine).engine
        t0 = datetime.now(UTC)

        def claim(holder: str, at: datetime) -> bool:
            return claim_upload(
                ledger, key=KEY, holder=holder, now=at, lease_until=at + LEASE, stale_before=at - KEEP_FOR
            )

        assert claim("replica-a", t0)
        assert not claim("replica-b", t0 + timedelta(seconds=1))  # the second event of one upload
        assert renew_upload(ledger, key=KEY, holder="replica-a", lease_until=t0 + 2 * LEASE)
        assert not claim("replica-b", t0 + LEASE + timedelta(seconds=1))  # renewed: still live
        # replica-a dies: nobody renews, and once the lease has lapsed the next share takes over
        assert claim("replica-b", t0 + 2 * LEASE + timedelta(seconds=1))
        assert not renew_upload(ledger, key=KEY, holder="replica-a", lease_until=t0 + 9 * LEASE)
        assert not finish_upload(ledger, key=KEY, holder="replica-a")  # a late zombie changes nothing
        assert finish_upload(ledger, key=KEY, holder="replica-b")
        later = t0 + 10 * LEASE
        assert not claim("replica-c", later)  # finished: a late event for the same upload does nothing
        assert not release_upload(ledger, key=KEY, holder="replica-b")  # finished claims stay
        assert claim("replica-c", later + KEEP_FOR)  # ... for two days, like the delivery keys
        assert release_upload(ledger, key=KEY, holder="replica-c")  # a failed import gives it up
        assert claim("replica-d", later + KEEP_FOR)
        assert delete_deliveries_before(ledger, cutoff=later + 3 * KEEP_FOR) == 1
    finally:
        engine.dispose()


def test_racing_replicas_claim_a_file_exactly_once(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        ledgers = [DeliveryLedger(engine) for _ in range(6)]
        won: list[UploadClaim | None] = []
        barrier = threading.Barrier(len(ledgers))

        def race(ledger: DeliveryLedger) -> None:
            barrier.wait()
            won.append(claim_file(ledger, team_id="T1", file_id="F1", lease_seconds=60))

        threads = [threading.Thread(target=race, args=(ledger,)) for ledger in ledgers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len([c for c in won if c is not None]) == 1
    finally:
        engine.dispose()


def test_a_kept_claim_stays_held_and_lapses_once_nobody_renews_it(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        ledger = DeliveryLedger(engine)
        lease = 1.5
        claim = claim_file(ledger, team_id="T1", file_id="F2", lease_seconds=lease)
        assert claim is not None
        with claim.kept(engine):
            time.sleep(3 * lease)  # three leases long: only the renewals keep it
            assert claim_file(ledger, team_id="T1", file_id="F2", lease_seconds=lease) is None
        # the holder is gone (as after a crash): the same file is free once the lease lapses
        deadline = time.monotonic() + 30
        while (again := claim_file(ledger, team_id="T1", file_id="F2", lease_seconds=lease)) is None:
            assert time.monotonic() < deadline, "the lapsed claim was never taken over"
            time.sleep(0.1)
        assert again.holder != claim.holder
        assert not claim.renew(engine)
    finally:
        engine.dispose()
