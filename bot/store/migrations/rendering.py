"""How autogenerate writes column types into new revisions.

Kept apart from env.py (which only runs inside Alembic) so that it can be imported and tested.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from alembic.autogenerate.api import AutogenContext
from sqlmodel.sql.sqltypes import AutoString

from bot.store.types import UTCDateTime


def render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render model-only types as the plain SQLAlchemy types they create, so revisions stay
    self-contained (no imports from the application that may change later)."""
    if kind != "type":
        return False
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, sa.Enum) and not obj.native_enum:
        return f"sa.String(length={obj.length})"
    return False


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Autogenerate compares only our models' tables.

    slack_sdk's installation and OAuth-state stores and the redelivery ledger create their own
    tables in the same database; a revision must never offer to drop them.
    """
    return not (type_ == "table" and reflected and compare_to is None)
