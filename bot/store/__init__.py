"""The SQL store: sqlmodel tables, keyword-only repositories and Alembic migrations.

Embedded SQLite by default (``DATABASE_URL`` unset), PostgreSQL at scale; see ``db`` for engines
and units of work, ``models`` for the tables and ``repo`` for the functions that read and write.
"""

from bot.store.db import (
    DEFAULT_URL,
    StoreConfigError,
    connect,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    session_scope,
    upgrade,
)

__all__ = [
    "DEFAULT_URL",
    "StoreConfigError",
    "connect",
    "current_revision",
    "downgrade",
    "head_revision",
    "make_engine",
    "session_scope",
    "upgrade",
]
