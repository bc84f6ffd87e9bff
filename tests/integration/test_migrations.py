"""The migrations and the models agree, and autogenerate leaves other libraries' tables alone."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.store.db import make_engine, upgrade
from bot.store.migrations.rendering import include_object
from bot.store.models import metadata


def _differences(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_object": include_object, "compare_type": True}
            )
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_upgraded_schema_matches_the_models_and_ignores_foreign_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'icp.db'}"
    upgrade(url)
    assert _differences(url) == []

    engine = make_engine(url)
    with engine.begin() as conn:  # what slack_sdk's SQLAlchemy stores create beside ours
        conn.execute(sa.text("CREATE TABLE slack_installations (id INTEGER PRIMARY KEY, team_id TEXT)"))
    engine.dispose()
    assert _differences(url) == []


def test_a_table_missing_from_the_database_is_still_reported(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'icp.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE audit_log"))
    engine.dispose()
    added = [diff for diff in _differences(url) if isinstance(diff, tuple) and diff[0] == "add_table"]
    assert [diff[1].name for diff in added] == ["audit_log"]
