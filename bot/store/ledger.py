"""The delivery ledger's table: one row per Slack delivery key claimed, on whichever replica.

Operational bookkeeping, not product data, so it is kept out of the alembic models on purpose:
``create_ledger`` makes the table when a process starts (idempotent, safe for replicas starting
together). Each statement is its own short transaction: a claim must be visible to the other
replicas at once. The Slack side (which key, the in-memory cache) is ``bot.slack.delivery``.

On an SQLite file the table lives in a file of its own beside the store (``icp.db`` ->
``icp-ledger.db``): SQLite has one writer per file, and every event claims its key before it is
acked, so a long write to the store (a 60 MB import) would otherwise hold every ack. The keys are
only kept two days against Slack's retries; losing the file loses nothing else.
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
    """Drop the keys received before ``cutoff``; how many went."""
    with engine.begin() as conn:
        return conn.execute(sa.delete(receipts).where(receipts.c.received_at < cutoff)).rowcount or 0
