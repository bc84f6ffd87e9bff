"""A token bucket, as pure functions of explicit time: how often one person may ask for work.

Each (workspace, person) has a bucket per pool: a full bucket holds ``burst`` tokens, each request
takes one, and tokens come back at ``per_minute``. When none is left the request is refused with
how long until the next token, so the busy reply can say "try again in N s". No clock and no
locks here (``work_pools.UserLimiter`` keeps the buckets), so the arithmetic is property-tested.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """How many requests a person may make at once (``burst``) and how fast that comes back."""

    burst: int
    per_minute: float

    def __post_init__(self) -> None:
        if self.burst < 1 or not self.per_minute > 0 or not math.isfinite(self.per_minute):
            raise ValueError(f"a rate needs burst >= 1 and per_minute > 0, got {self}")

    @property
    def seconds_per_token(self) -> float:
        return 60.0 / self.per_minute


@dataclass(frozen=True)
class Bucket:
    """``tokens`` left as of ``at`` (seconds on a monotonic clock)."""

    tokens: float
    at: float


def full(rate: Rate, now: float) -> Bucket:
    """A bucket nobody has drawn from yet."""
    return Bucket(tokens=float(rate.burst), at=now)


def refill(bucket: Bucket, rate: Rate, now: float) -> Bucket:
    """The bucket at ``now``: tokens added since ``at``, never above ``burst``. A clock that went
    backwards adds nothing (and does not move ``at`` back, so no token is counted twice)."""
    elapsed = max(0.0, now - bucket.at)
    tokens = min(float(rate.burst), bucket.tokens + elapsed / rate.seconds_per_token)
    return Bucket(tokens=tokens, at=max(bucket.at, now))


def take(bucket: Bucket, rate: Rate, now: float) -> tuple[Bucket, float]:
    """Take one token: ``(bucket after, 0.0)`` when there was one, else ``(bucket, seconds until
    there will be one)``; a refused request takes nothing."""
    current = refill(bucket, rate, now)
    if current.tokens >= 1.0:
        return Bucket(tokens=current.tokens - 1.0, at=current.at), 0.0
    return current, (1.0 - current.tokens) * rate.seconds_per_token


def give_back(bucket: Bucket, rate: Rate, now: float) -> Bucket:
    """Return the token of a request that was admitted but could not run (its queue was full)."""
    current = refill(bucket, rate, now)
    return Bucket(tokens=min(float(rate.burst), current.tokens + 1.0), at=current.at)


def is_full(bucket: Bucket, rate: Rate, now: float) -> bool:
    """Whether the bucket is as good as new (so forgetting it changes nothing)."""
    return refill(bucket, rate, now).tokens >= rate.burst


def retry_after(wait_seconds: float) -> int:
    """Whole seconds to tell a person: never 0 (a refused request always waits a little)."""
    return max(1, math.ceil(wait_seconds))
