"""The connectors' one retry policy: Retry-After honoured, 5xx backed off, tokens never retried."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.connectors.errors import CrmAuthError, CrmRateLimited, CrmRequestError, CrmUnavailable
from bot.connectors.retry import Attempt, Outcome, RetryPolicy, call
from bot.retry_after import retry_after_seconds
from tests.support.fake_time import FakeTime


class Flaky:
    """Fails with the queued attempts' classifications, then returns 'ok'."""

    def __init__(self, *failures: Attempt) -> None:
        self.failures = list(failures)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise _Failed(self.failures.pop(0))
        return "ok"


class _Failed(Exception):
    def __init__(self, attempt: Attempt) -> None:
        super().__init__(attempt.message)
        self.attempt = attempt


def _classify(exc: BaseException) -> Attempt | None:
    return exc.attempt if isinstance(exc, _Failed) else None


def _policy(clock: FakeTime, deadline: float = 60.0) -> RetryPolicy:
    return RetryPolicy(
        deadline_s=deadline, first_backoff_s=0.5, max_backoff_s=4.0, clock=clock.clock, sleep=clock.sleep
    )


def _call(fn: Flaky, clock: FakeTime, deadline: float = 60.0) -> str:
    return call(
        fn, provider="HubSpot", what="list companies", classify=_classify, policy=_policy(clock, deadline)
    )


def test_a_rate_limit_waits_what_retry_after_says_then_succeeds() -> None:
    clock = FakeTime()
    fn = Flaky(
        Attempt(Outcome.rate_limited, "429", retry_after=7.0), Attempt(Outcome.rate_limited, "429", 2.5)
    )
    assert _call(fn, clock) == "ok"
    assert clock.sleeps == [7.0, 2.5]
    assert fn.calls == 3


def test_server_errors_back_off_exponentially_up_to_the_cap() -> None:
    clock = FakeTime()
    fn = Flaky(*[Attempt(Outcome.transient, "503")] * 6)
    assert _call(fn, clock) == "ok"
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_an_expired_token_fails_at_once_without_a_retry() -> None:
    clock = FakeTime()
    fn = Flaky(Attempt(Outcome.auth, "token expired"))
    with pytest.raises(CrmAuthError) as caught:
        _call(fn, clock)
    assert fn.calls == 1 and clock.sleeps == []
    assert str(caught.value) == "HubSpot: list companies: token expired"


def test_a_refused_request_is_not_retried() -> None:
    clock = FakeTime()
    fn = Flaky(Attempt(Outcome.refused, "property 'x' does not exist"))
    with pytest.raises(CrmRequestError, match="property 'x' does not exist"):
        _call(fn, clock)
    assert fn.calls == 1


def test_the_deadline_ends_the_retries_with_the_last_reason() -> None:
    clock = FakeTime()
    fn = Flaky(*[Attempt(Outcome.transient, "502 Bad Gateway")] * 100)
    with pytest.raises(CrmUnavailable) as caught:
        _call(fn, clock, deadline=5.0)
    assert clock.now <= 5.0
    assert "502 Bad Gateway" in str(caught.value) and "gave up" in str(caught.value)


def test_a_retry_after_beyond_the_deadline_is_not_waited_for() -> None:
    clock = FakeTime()
    fn = Flaky(Attempt(Outcome.rate_limited, "daily limit", retry_after=3600.0))
    with pytest.raises(CrmRateLimited) as caught:
        _call(fn, clock, deadline=60.0)
    assert clock.sleeps == [] and caught.value.retry_after == 3600.0


def test_an_exception_that_is_not_the_apis_is_raised_as_it_is() -> None:
    def broken() -> str:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        call(broken, provider="HubSpot", what="x", classify=_classify, policy=_policy(FakeTime()))


@given(st.lists(st.sampled_from([Outcome.transient, Outcome.rate_limited]), max_size=12), st.floats(1, 120))
def test_never_sleeps_past_the_deadline(outcomes: list[Outcome], deadline: float) -> None:
    clock = FakeTime()
    fn = Flaky(
        *[Attempt(o, "busy", retry_after=3.0 if o is Outcome.rate_limited else None) for o in outcomes]
    )
    with contextlib.suppress(CrmUnavailable, CrmRateLimited):
        _call(fn, clock, deadline=deadline)
    assert clock.now <= deadline


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("10", 10.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        ("soon", None),
        (None, None),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
    ],
)
def test_retry_after_values(value: str | None, seconds: float | None) -> None:
    # the HTTP date is read against a clock 10 s before it
    assert retry_after_seconds(value, now=1445412480.0) == seconds
