"""The PostgreSQL server the tests use (127.0.0.1:5432, trust auth): reachable or not, required or
not, and throwaway databases on it.

Shared by ``tests/integration/conftest.py`` and the reliability suites: a test that needs the
server skips with the reason when it is missing, except where PostgreSQL is required
(``ICP_REQUIRE_POSTGRES=1``, or ``CI`` set): there a missing server is a failure.
"""

from __future__ import annotations

import os
import socket
import uuid

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get("ICP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def postgres_required() -> bool:
    return _truthy(os.environ.get("ICP_REQUIRE_POSTGRES", os.environ.get("CI")))


def libpq_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url)
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def unreachable_reason(url: str) -> str | None:
    """Why the server at ``url`` cannot be used, or None when it can."""
    parsed = make_url(url)
    host, port = parsed.host or "127.0.0.1", parsed.port or 5432
    try:
        with socket.create_connection((host, port), timeout=1.0):
            pass
    except OSError as exc:
        return f"PostgreSQL not reachable at {host}:{port}: {exc}"
    try:
        with psycopg.connect(libpq_dsn(url), connect_timeout=3):
            pass
    except psycopg.Error as exc:
        return f"PostgreSQL at {host}:{port} refused the test login: {exc}".strip()
    return None


def create_database(admin_url: str) -> str:
    """A new, empty, uniquely named database; its SQLAlchemy URL."""
    name = f"icp_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_dsn(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_databases(admin_url: str, urls: list[str]) -> None:
    """Drop the databases ``create_database`` made (connections still open are cut)."""
    with psycopg.connect(libpq_dsn(admin_url), autocommit=True) as conn:
        for url in urls:
            name = str(make_url(url).database)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
