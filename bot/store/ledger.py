"""The delivery ledger's table: one row per Slack delivery key claimed, on whichever replica.

Operational bookkeeping, not product data, so it is kept out of the alembic models on purpose:
``create_ledger`` makes the table when a process starts (idempotent, safe for replicas starting
together). Each statement is its own short transaction: a claim must be visible to the other
replicas at once. The Slack side (which key, the in-memory cache) is ``bot.slack.delivery``.

On an SQLite file the table lives in a file of its own beside the store (``icp.db`` ->
``icp-ledger.db``): SQLite has one writer per file, and every event claims its key before it is
acked, so a long write to the store (a 60 MB import) would otherwise hold every ack. The keys are
only kept two days against Slack's retries; losing the file loses nothing else.

``slack_upload_claim`` says who is importing a shared file. Its claim has a lease the importer
renews: a replica (or its worker) that dies stops renewing, and once the lease has lapsed the next
share of the same file takes it over. A finished claim has no lease (``lease_until`` NULL) and is
kept as long as the delivery keys, so a late second event for the same upload does nothing.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

KEY_LENGTH = 255
_ENGINES: dict[str, Engine] = {}  # one engine per ledger file, shared by the process's ledgers
_ENGINES_LOCK = threading.Lock()

_metadata = sa.MetaData()
receipts = sa.Table(
    "slack_delivery_receipt",
    _metadata,
    sa.Column("delivery_key", sa.String(KEY_LENGTH), primary_key=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, index=True),
)
uploads = sa.Table(
    "slack_upload_claim",
    _metadata,
    sa.Column("upload_key", sa.String(KEY_LENGTH), primary_key=True),
    sa.Column("holder", sa.String(128), nullable=False),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),  # NULL: finished
)


def ledger_engine(engine: Engine) -> Engine:
    """The engine the ledger uses for the store ``engine``: itself, or its own file's (SQLite)."""
    url = engine.url
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or "mode=memory" in str(url):
        return engine
    path = Path(database)
    own = url.set(database=str(path.with_name(f"{path.stem}-ledger{path.suffix or '.db'}")))
    key = own.render_as_string(hide_password=False)
    with _ENGINES_LOCK:
        found = _ENGINES.get(key)
        if found is None:
            from bot.store.db import make_engine

            found = _ENGINES[key] = make_engine(key)
    return found


def create_ledger(engine: Engine) -> None:
    """Create the ledger's table unless it exists."""
    _metadata.create_all(engine, checkfirst=True)


def record_delivery(engine: Engine, *, key: str, received_at: datetime) -> bool:
    """Insert ``key``; True if this call inserted it, False if it was there already (a redelivery)."""
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(receipts)
        .values(delivery_key=key, received_at=received_at)
        .on_conflict_do_nothing(index_elements=["delivery_key"])
        .returning(receipts.c.delivery_key)
    )
    with engine.begin() as conn:
        return conn.execute(stmt).first() is not None


def delete_deliveries_before(engine: Engine, *, cutoff: datetime) -> int:
    """Drop the keys received (and the upload claims taken and done) before ``cutoff``; how many went."""
    done = sa.or_(uploads.c.lease_until.is_(None), uploads.c.lease_until < cutoff)
    with engine.begin() as conn:
        gone = conn.execute(sa.delete(receipts).where(receipts.c.received_at < cutoff)).rowcount or 0
        return gone + (
            conn.execute(sa.delete(uploads).where(uploads.c.claimed_at < cutoff, done)).rowcount or 0
        )


def claim_upload(
    engine: Engine, *, key: str, holder: str, now: datetime, lease_until: datetime, stale_before: datetime
) -> bool:
    """Take ``key`` for ``holder`` unless a live lease or a recent finished claim holds it.

    One statement (an insert that updates the row only when its lease has lapsed, or when it was
    finished before ``stale_before``): the database serialises concurrent claims on the key, so
    exactly one of them gets the row back.
    """
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    row = insert(uploads).values(upload_key=key, holder=holder, claimed_at=now, lease_until=lease_until)
    lapsed = sa.and_(uploads.c.lease_until.is_not(None), uploads.c.lease_until < now)
    stmt = row.on_conflict_do_update(
        index_elements=["upload_key"],
        set_={"holder": holder, "claimed_at": now, "lease_until": lease_until},
        where=sa.or_(lapsed, sa.and_(uploads.c.lease_until.is_(None), uploads.c.claimed_at < stale_before)),
    ).returning(uploads.c.upload_key)
    with engine.begin() as conn:
        return conn.execute(stmt).first() is not None


def _held(key: str, holder: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        uploads.c.upload_key == key, uploads.c.holder == holder, uploads.c.lease_until.is_not(None)
    )


def renew_upload(engine: Engine, *, key: str, holder: str, lease_until: datetime) -> bool:
    """Extend ``holder``'s live lease on ``key``; False if the claim is no longer theirs."""
    with engine.begin() as conn:
        result = conn.execute(sa.update(uploads).where(_held(key, holder)).values(lease_until=lease_until))
        return bool(result.rowcount)


def finish_upload(engine: Engine, *, key: str, holder: str) -> bool:
    """Mark ``holder``'s claim on ``key`` done: no lease, nobody takes it over."""
    with engine.begin() as conn:
        return bool(
            conn.execute(sa.update(uploads).where(_held(key, holder)).values(lease_until=None)).rowcount
        )


def release_upload(engine: Engine, *, key: str, holder: str) -> bool:
    """Give ``holder``'s claim on ``key`` up, so the next share of the file is imported again."""
    with engine.begin() as conn:
        return bool(conn.execute(sa.delete(uploads).where(_held(key, holder))).rowcount)
