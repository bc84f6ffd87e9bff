"""The commands' way to the store: the configured database at this version's schema, who is acting,
and the statistic summaries regenerated after a write.

Light on purpose (SQLAlchemy and the knowledge store are imported when a command calls in): the
CRM commands use it too, and `icp connect status` should not pay for pandas.
"""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

from bot.cli.errors import fail

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.store.db import Engine


def cli_user() -> str:
    """The operating-system user running the command (``cli`` when there is none)."""
    try:
        return getpass.getuser() or "cli"
    except (OSError, KeyError):
        return "cli"


def open_store(settings: Settings) -> Engine:
    """The configured store; SQLite upgrades itself, PostgreSQL must already be at head."""
    from bot.store.db import HEAD_REVISION, connect, stored_revision

    engine = connect(settings.resolved_database_url)
    current, head = stored_revision(engine), HEAD_REVISION
    if current != head:
        engine.dispose()
        fail(
            f"the database schema is at {current or 'nothing'}, this version needs {head}: run `icp db upgrade`"
        )
    return engine


def refresh_statistics(settings: Settings, engine: Engine, workspace: str) -> int | str:
    """Regenerate the workspace's statistic summaries after a write: how many, or why not."""
    from bot.knowledge.store import knowledge_store_from
    from bot.services.knowledge.sync import refresh_statistics as refresh

    return refresh(engine=engine, knowledge=lambda: knowledge_store_from(settings), workspace=workspace)
