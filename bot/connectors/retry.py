"""One CRM call, retried the way the APIs ask: Retry-After honoured, 5xx and timeouts backed off.

Each connector classifies its client's exceptions into an :class:`Attempt` (the SDKs differ);
:func:`call` then decides. A 401/403 token problem raises :class:`CrmAuthError` at once (retrying
an expired token would only spend the rate limit); a 429 waits what ``Retry-After`` says; 5xx,
timeouts and refused connections back off exponentially; all within one deadline per call, so a
sync that cannot finish says why instead of hanging. Clock and sleep are injected for tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

from bot.connectors.errors import CrmAuthError, CrmRateLimited, CrmRequestError, CrmUnavailable

__all__ = ["Attempt", "Outcome", "RetryPolicy", "call"]

T = TypeVar("T")


class Outcome(Enum):
    auth = "auth"  # expired/revoked token or missing scope: never retried
    rate_limited = "rate_limited"  # 429 (or the API's own limit answer): wait Retry-After
    transient = "transient"  # 5xx, timeout, connection refused: back off
    refused = "refused"  # any other 4xx: the request is wrong, retrying cannot help
    exhausted = "exhausted"  # a limit no wait within the deadline frees (a daily quota): never retried


@dataclass(frozen=True, slots=True)
class Attempt:
    """How one failed attempt is classified, with the server's words and its Retry-After."""

    outcome: Outcome
    message: str
    retry_after: float | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """How long one call may keep trying, and how it backs off between attempts."""

    deadline_s: float = 120.0
    first_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)


def call(
    fn: Callable[[], T],
    *,
    provider: str,
    what: str,
    classify: Callable[[BaseException], Attempt | None],
    policy: RetryPolicy,
) -> T:
    """``fn()``'s result, retried within ``policy.deadline_s``; ``classify`` returns None for an
    exception that is not the API's (a bug of ours), which is raised as it is."""
    started = policy.clock()
    backoff = policy.first_backoff_s
    attempts = 0
    while True:
        attempts += 1
        try:
            return fn()
        except Exception as exc:
            attempt = classify(exc)
            if attempt is None:
                raise
            if attempt.outcome is Outcome.auth:
                raise CrmAuthError(provider, f"{what}: {attempt.message}") from exc
            if attempt.outcome is Outcome.refused:
                raise CrmRequestError(provider, f"{what}: {attempt.message}") from exc
            if attempt.outcome is Outcome.exhausted:
                raise CrmRateLimited(provider, f"{what}: {attempt.message}") from exc
            if attempt.outcome is Outcome.rate_limited and attempt.retry_after is not None:
                wait = attempt.retry_after
            else:
                wait = backoff
                backoff = min(backoff * 2, policy.max_backoff_s)
            left = policy.deadline_s - (policy.clock() - started)
            if wait > left:
                gave_up = f"{what}: {attempt.message} (gave up after {attempts} attempts in {policy.deadline_s:g} s)"
                if attempt.outcome is Outcome.rate_limited:
                    raise CrmRateLimited(provider, gave_up, retry_after=attempt.retry_after) from exc
                raise CrmUnavailable(provider, gave_up) from exc
            policy.sleep(wait)
