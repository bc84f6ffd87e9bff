"""Alembic environment: runs the store's migrations on the connection ``bot.store.db`` hands in.

``bot.store.db.upgrade`` passes an open connection in ``config.attributes["connection"]``; when
Alembic is run some other way, the URL comes from the config or ``DATABASE_URL`` (SQLite default).

A new revision, after changing the models (then review it by hand)::

    from alembic import command
    from bot.store.db import alembic_config, make_engine, upgrade
    engine = make_engine("sqlite:///./data/scratch.db"); upgrade(engine)
    command.revision(alembic_config(engine), message="what changed", autogenerate=True, rev_id="0002")
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bot.store.db import make_engine
from bot.store.migrations.rendering import include_object, render_item
from bot.store.models import metadata

config = context.config


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """Emit SQL instead of running it (``alembic upgrade --sql``)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or make_engine().url,
        target_metadata=metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.begin() as conn:
            _configure_and_run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
