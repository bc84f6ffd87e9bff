"""The delivery ledger's table: one row per Slack delivery key claimed, on whichever replica.

Operational bookkeeping, not product data, so it is kept out of the alembic models on purpose:
``create_ledger`` makes the table when a process starts (idempotent, safe for replicas starting
together). Each statement is its own short transaction: a claim must be visible to the other
replicas at once. The Slack side (which key, the in-memory cache) is ``bot.slack.delivery``.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

KEY_LENGTH = 255

_metadata = sa.MetaData()
receipts = sa.Table(
    "slack_delivery_receipt",
    _metadata,
    sa.Column("delivery_key", sa.String(KEY_LENGTH), primary_key=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, index=True),
)


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
