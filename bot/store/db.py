"""Engines, units of work and schema upgrades for the SQL store.

One place decides how the store connects: ``DATABASE_URL`` unset means an embedded SQLite file
under ./data (WAL, foreign keys on, writers wait instead of failing); a PostgreSQL URL means the
shared server for several replicas. Work that only reads (scoring, lookups) uses ``read_scope``
or ``read_only``: on SQLite its transactions take no write lock, so readers never queue behind
writers, nor writers behind them, as they would with ``BEGIN IMMEDIATE``. Alembic runs from code
here (no alembic.ini to ship or find), so the embedded default can upgrade itself on start and
``icp db upgrade`` is one call.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlmodel import Session

if TYPE_CHECKING:
    from alembic.config import Config

# The types other layers name (they import them from here, never from sqlalchemy or sqlmodel).
__all__ = [
    "DEFAULT_URL",
    "HEAD_REVISION",
    "Engine",
    "SQLAlchemyError",
    "Session",
    "StoreConfigError",
    "connect",
    "current_revision",
    "display_url",
    "downgrade",
    "driver_message",
    "head_revision",
    "make_engine",
    "ping",
    "read_only",
    "read_scope",
    "resolve_url",
    "session_scope",
    "stored_revision",
    "upgrade",
]

DEFAULT_URL = "sqlite:///./data/icp.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY_OPTION = "icp_read_only"  # execution option marking connections whose transactions only read
# Any constant works; it only has to be the same for every replica that migrates the database.
_PG_MIGRATION_LOCK = 0x1C9_5703E


class StoreConfigError(ValueError):
    """The database URL cannot be used."""


def resolve_url(url: str | None = None) -> str:
    """The URL to use: the argument, else ``DATABASE_URL``, else the embedded SQLite file.

    ``postgresql://`` and ``postgres://`` are mapped to the installed psycopg 3 driver.
    """
    chosen = url or os.environ.get("DATABASE_URL") or DEFAULT_URL
    for prefix in ("postgres://", "postgresql://"):
        if chosen.startswith(prefix):
            return "postgresql+psycopg://" + chosen[len(prefix) :]
    return chosen


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Build an engine for ``url`` (see ``resolve_url``); creates the SQLite file's folder.

    Statement parameters are left out of SQLAlchemy's error messages: they hold what people
    wrote (interview answers), and those messages end up in logs."""
    kwargs.setdefault("hide_parameters", True)
    resolved = resolve_url(url)
    try:
        parsed = make_url(resolved)
    except ArgumentError as exc:
        raise StoreConfigError(f"DATABASE_URL {resolved!r} is not a database URL: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _make_sqlite_engine(resolved, parsed.database, **kwargs)
    if backend == "postgresql":
        return create_engine(resolved, pool_pre_ping=True, **kwargs)
    raise StoreConfigError(f"DATABASE_URL {resolved!r}: only sqlite and postgresql are supported")


def _private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (0600) before SQLite opens it, whatever
    the umask; SQLite gives its -wal and -shm files the database file's mode. Files left 0644 by
    older versions are tightened too."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    except OSError:  # a folder, no write access...: SQLite's own error names the problem better
        return
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if each.exists() and each.stat().st_mode & 0o077:
                each.chmod(0o600)
        except OSError:  # not ours to change (another user's file): SQLite reports real problems
            pass


def _make_sqlite_engine(url: str, database: str | None, **kwargs: Any) -> Engine:
    in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
    if database and not in_memory and not database.startswith("file:"):
        _private_file(Path(database).expanduser())
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    connect_args.update(kwargs.pop("connect_args", {}))
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (savepoints work).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: a writer that read first can never fail with
        # "database is locked" on upgrade; it waits (busy_timeout) for the other writer instead.
        # A read-only transaction needs no lock: under WAL a plain (deferred) BEGIN reads a
        # snapshot without waiting for the writer, and the writer does not wait for it.
        read_only = conn.get_execution_options().get(READ_ONLY_OPTION, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit when the block ends, roll everything back if it raises."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def read_only(engine: Engine) -> Engine:
    """``engine`` for work that only reads (same pool); on SQLite its transactions are deferred.

    Writing through it is a mistake: on SQLite such a write may fail with "database is locked"
    instead of waiting for the other writer.
    """
    return engine.execution_options(**{READ_ONLY_OPTION: True})


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A session for reading only: it never holds SQLite's write lock and is rolled back at the end."""
    session = Session(read_only(engine), expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()  # closing rolls back: a read-only unit of work has nothing to keep


def ping(engine: Engine) -> None:
    """Ask the database one trivial question (the health probe); raises if it does not answer."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def driver_message(exc: SQLAlchemyError) -> str:
    """The first line of what the database itself said (the driver's error, not SQLAlchemy's wrapper)."""
    cause: object = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


def display_url(url: str) -> str:
    """``url`` as it may be shown to people: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config built in code, pointing at the migrations shipped inside this package."""
    # Alembic is imported where it is used: loading it costs more than the rest of the store,
    # and every module that names the ``Engine`` type imports this one.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if engine is not None:
        url = engine.url.render_as_string(hide_password=False)
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _as_engine(engine_or_url: Engine | str | None) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    return make_engine(engine_or_url), True


def _run(engine_or_url: Engine | str | None, action: str, revision: str) -> None:
    engine, owned = _as_engine(engine_or_url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Replicas starting together migrate one after the other, not on top of each other.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            from alembic import command

            cfg = alembic_config(engine)
            cfg.attributes["connection"] = conn
            getattr(command, action)(cfg, revision)
    finally:
        if owned:
            engine.dispose()


def upgrade(engine_or_url: Engine | str | None = None, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (head by default), in one transaction."""
    _run(engine_or_url, "upgrade", revision)


def downgrade(engine_or_url: Engine | str | None, revision: str = "base") -> None:
    """Take the schema back to ``revision`` (everything dropped at ``base``)."""
    _run(engine_or_url, "downgrade", revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


#: The newest migration's revision. Kept here so that a store at head is recognised without
#: importing Alembic and reading every migration (about a second per command); a test holds it
#: to Alembic's own head.
HEAD_REVISION = "0008"


def stored_revision(engine: Engine) -> str | None:
    """The revision the database records (None when it has none), read with plain SQL."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        versions: list[str] = list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return versions[0] if len(versions) == 1 else None


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def connect(url: str | None = None, *, auto_upgrade: bool | None = None) -> Engine:
    """The engine the application uses; by default the embedded SQLite store upgrades itself.

    PostgreSQL is shared by replicas, so it is upgraded by an explicit ``icp db upgrade`` (or by
    passing ``auto_upgrade=True``), not silently by whichever replica starts first.
    """
    engine = make_engine(url)
    if auto_upgrade is None:
        auto_upgrade = engine.dialect.name == "sqlite"
    if auto_upgrade and stored_revision(engine) != HEAD_REVISION:
        upgrade(engine)
    return engine
