"""A clock that moves only when the code under test sleeps: retry waits tested without waiting."""

from __future__ import annotations


class FakeTime:
    """``clock`` and ``sleep`` for a ``RetryPolicy``; ``sleeps`` records every wait asked for."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
