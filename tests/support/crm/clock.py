"""The clock a CRM stand-in stamps its records with: fixed and moved by the test, or the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class StandInClock:
    """``now`` stays where the test put it (``advance`` or assignment) unless ``live_clock`` is set,
    as a benchmark sets it to spread its writes in time."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self.live_clock = False

    @property
    def now(self) -> datetime:
        return datetime.now(UTC) if self.live_clock else self._now

    @now.setter
    def now(self, moment: datetime) -> None:
        self._now = moment

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
