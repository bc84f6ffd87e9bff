"""Bounded pools for the work after an ack, and per-person limits in front of them.

Chat answers (a language model call can take 45 s) and commands run on separate pools, so a
burst of questions never delays anyone's ``/icp score``. Each pool refuses work rather than
queueing without end (``PoolFull``), and each person has a token bucket per pool
(``token_bucket.py``), so one person's burst is refused before it fills the queue. A refused
request gets ``busy_text``: politer than silence, and it says when to try again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from bot.logs import ContextExecutor
from bot.slack import token_bucket
from bot.slack.token_bucket import Bucket, Rate

T = TypeVar("T")

MAX_TRACKED_PEOPLE = 10_000  # beyond this, buckets that have refilled are forgotten


class PoolFull(RuntimeError):
    """The pool's threads are busy and its queue is at its bound."""


def busy_text(seconds: int) -> str:
    """What a refused person reads (ephemeral for commands, in the thread for chat)."""
    return f"I'm busy with your earlier requests; try again in {seconds} s."


class BoundedExecutor(ContextExecutor):
    """A context-carrying thread pool that holds at most ``threads + queue`` tasks at once;
    ``submit`` raises ``PoolFull`` instead of queueing more."""

    def __init__(self, *, threads: int, queue: int, name: str) -> None:
        super().__init__(max_workers=threads, thread_name_prefix=f"icp-{name}")
        self.name = name
        self._slots = threading.BoundedSemaphore(threads + queue)

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        if not self._slots.acquire(blocking=False):
            raise PoolFull(f"the {self.name} pool is full")
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _done: self._slots.release())
        return future

    def waiting(self) -> int:
        """Tasks queued for a thread (the ``icp_queue_depth`` gauge)."""
        return self._work_queue.qsize()


class UserLimiter:
    """One token bucket per (workspace, person), safe to share between threads."""

    def __init__(self, rate: Rate, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._lock = threading.Lock()

    def take(self, team_id: str, user_id: str) -> float:
        """0.0 when the person may go ahead (a token is taken), else seconds until they may."""
        now = self._clock()
        key = (team_id, user_id)
        with self._lock:
            bucket = self._buckets.get(key) or token_bucket.full(self.rate, now)
            bucket, wait = token_bucket.take(bucket, self.rate, now)
            self._buckets[key] = bucket
            if len(self._buckets) > MAX_TRACKED_PEOPLE:
                self._forget_refilled(now)
        return wait

    def give_back(self, team_id: str, user_id: str) -> None:
        """Return the token of a request the pool could not take."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get((team_id, user_id))
            if bucket is not None:
                self._buckets[(team_id, user_id)] = token_bucket.give_back(bucket, self.rate, now)

    def _forget_refilled(self, now: float) -> None:
        for key in [k for k, b in self._buckets.items() if token_bucket.is_full(b, self.rate, now)]:
            del self._buckets[key]


class Pool:
    """A bounded pool with its per-person limiter: ``admit`` then ``submit``."""

    def __init__(self, executor: BoundedExecutor, limiter: UserLimiter) -> None:
        self.executor = executor
        self.limiter = limiter

    @property
    def name(self) -> str:
        return self.executor.name

    def admit(self, team_id: str, user_id: str) -> int | None:
        """None when the person may go ahead, else the seconds to tell them to wait."""
        wait = self.limiter.take(team_id, user_id)
        return token_bucket.retry_after(wait) if wait > 0 else None

    def full_retry_after(self) -> int:
        """The wait to quote when the queue itself is full: one token's worth."""
        return token_bucket.retry_after(self.limiter.rate.seconds_per_token)
