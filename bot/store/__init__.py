"""The SQL store: sqlmodel tables, keyword-only repositories and Alembic migrations.

Embedded SQLite by default (``DATABASE_URL`` unset), PostgreSQL at scale; see ``db`` for engines
and units of work, ``models`` for the tables and ``repo`` for the functions that read and write.
The only package that imports sqlalchemy or sqlmodel: other layers take ``Engine`` and ``Session``
from here (or from ``bot.store.db``).
"""

from bot.store.db import (
    DEFAULT_URL,
    Engine,
    Session,
    SQLAlchemyError,
    StoreConfigError,
    connect,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    read_scope,
    session_scope,
    upgrade,
)

__all__ = [
    "DEFAULT_URL",
    "Engine",
    "SQLAlchemyError",
    "Session",
    "StoreConfigError",
    "connect",
    "current_revision",
    "downgrade",
    "head_revision",
    "make_engine",
    "read_scope",
    "session_scope",
    "upgrade",
]
