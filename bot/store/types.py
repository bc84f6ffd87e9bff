"""Column types shared by every table.

SQLite has no time-zone-aware timestamps and PostgreSQL returns them in the session's zone, so
``UTCDateTime`` makes both behave the same: it refuses naive datetimes on write (a naive value is
a bug: whose clock was it?) and always hands back aware UTC datetimes on read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (the only kind the store accepts)."""
    return datetime.now(UTC)


class NaiveDatetimeError(ValueError):
    """A datetime without tzinfo was about to be stored."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC datetime."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(
                f"naive datetime {value.isoformat()} cannot be stored: pass an aware datetime (UTC)"
            )
        value = value.astimezone(UTC)
        # SQLite keeps the text as given: store naive UTC so that text order is time order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value  # the DateTime impl has already parsed the column into a datetime
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


def enum_column(enum_cls: type[StrEnum]) -> sa.Enum:
    """A portable enum column: VARCHAR holding the member values (no PostgreSQL ENUM type to migrate)."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
