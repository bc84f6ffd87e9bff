"""The per-person token bucket (bot/slack/token_bucket.py) and the limiter and pool around it."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack import token_bucket as tb
from bot.slack.token_bucket import Bucket, Rate
from bot.slack.work_pools import BoundedExecutor, Pool, PoolFull, UserLimiter, busy_text

rates = st.builds(
    Rate,
    burst=st.integers(min_value=1, max_value=50),
    per_minute=st.floats(min_value=0.1, max_value=6000, allow_nan=False, allow_infinity=False),
)
starts = st.floats(min_value=0, max_value=1e6, allow_nan=False)
gaps = st.lists(st.floats(min_value=0, max_value=120, allow_nan=False), max_size=60)


@given(rate=rates, now=starts)
def test_a_full_bucket_admits_exactly_its_burst_at_one_instant(rate: Rate, now: float) -> None:
    bucket = tb.full(rate, now)
    for _ in range(rate.burst):
        bucket, wait = tb.take(bucket, rate, now)
        assert wait == 0.0
    after, wait = tb.take(bucket, rate, now)
    assert wait == pytest.approx(rate.seconds_per_token, rel=1e-6)
    assert after.tokens == pytest.approx(bucket.tokens)  # a refusal takes nothing


@given(rate=rates, start=starts, steps=gaps)
def test_admissions_never_exceed_burst_plus_what_refilled(
    rate: Rate, start: float, steps: list[float]
) -> None:
    bucket, now, admitted = tb.full(rate, start), start, 0
    for gap in steps:
        now += gap
        bucket, wait = tb.take(bucket, rate, now)
        admitted += wait == 0.0
        assert 0.0 <= bucket.tokens <= rate.burst
    assert admitted <= rate.burst + (now - start) / rate.seconds_per_token + 1e-6


@given(rate=rates, start=starts, drained=st.integers(min_value=0, max_value=60))
def test_the_quoted_wait_is_exactly_enough(rate: Rate, start: float, drained: int) -> None:
    bucket = tb.full(rate, start)
    for _ in range(rate.burst + drained):
        bucket, _ = tb.take(bucket, rate, start)
    _, wait = tb.take(bucket, rate, start)
    assert wait > 0
    _, too_early = tb.take(bucket, rate, start + wait * 0.99)
    assert too_early > 0
    _, on_time = tb.take(bucket, rate, start + wait * 1.000001 + 1e-9)
    assert on_time == 0.0
    assert tb.retry_after(wait) >= wait and tb.retry_after(wait) >= 1


@given(rate=rates, now=starts, back=st.floats(min_value=0.001, max_value=1e5))
def test_a_clock_going_backwards_adds_no_tokens(rate: Rate, now: float, back: float) -> None:
    empty = Bucket(tokens=0.0, at=now)
    later = tb.refill(empty, rate, now - back)
    assert later.tokens == 0.0 and later.at == now


@given(rate=rates, now=starts)
def test_giving_back_restores_a_token_but_never_overfills(rate: Rate, now: float) -> None:
    bucket, _ = tb.take(tb.full(rate, now), rate, now)
    assert tb.give_back(bucket, rate, now).tokens == pytest.approx(rate.burst)
    assert tb.give_back(tb.full(rate, now), rate, now).tokens == rate.burst
    assert tb.is_full(tb.give_back(bucket, rate, now), rate, now)


@pytest.mark.parametrize(("burst", "per_minute"), [(0, 1.0), (1, 0.0), (1, -2.0), (1, float("inf"))])
def test_an_impossible_rate_is_refused(burst: int, per_minute: float) -> None:
    with pytest.raises(ValueError, match="burst >= 1 and per_minute > 0"):
        Rate(burst=burst, per_minute=per_minute)


def test_the_limiter_keeps_one_bucket_per_workspace_and_person() -> None:
    now = [100.0]
    limiter = UserLimiter(Rate(burst=2, per_minute=6), clock=lambda: now[0])
    assert limiter.take("T1", "U1") == 0.0 and limiter.take("T1", "U1") == 0.0
    assert limiter.take("T1", "U1") == pytest.approx(10.0)
    assert limiter.take("T1", "U2") == 0.0  # another person
    assert limiter.take("T2", "U1") == 0.0  # the same id in another workspace
    limiter.give_back("T1", "U1")
    assert limiter.take("T1", "U1") == 0.0
    now[0] += 10.0
    assert limiter.take("T1", "U1") == 0.0


def test_the_pool_quotes_whole_seconds_from_the_bucket() -> None:
    pool = Pool(
        BoundedExecutor(threads=1, queue=0, name="t"),
        UserLimiter(Rate(burst=1, per_minute=4), clock=lambda: 0.0),
    )
    try:
        assert pool.admit("T", "U") is None
        assert pool.admit("T", "U") == 15
        assert busy_text(15) == "I'm busy with your earlier requests; try again in 15 s."
        assert pool.full_retry_after() == 15
    finally:
        pool.executor.shutdown(wait=True)


def test_a_full_pool_refuses_instead_of_queueing_and_frees_its_slots() -> None:
    pool = BoundedExecutor(threads=1, queue=1, name="t")
    started, release = threading.Event(), threading.Event()

    def hold() -> bool:
        started.set()
        return release.wait(10)

    try:
        running = pool.submit(hold)
        assert started.wait(10)
        queued = pool.submit(lambda: "queued")
        with pytest.raises(PoolFull, match="the t pool is full"):
            pool.submit(lambda: "refused")
        assert pool.waiting() == 1
        release.set()
        assert running.result(timeout=10) is True and queued.result(timeout=10) == "queued"
        assert pool.submit(lambda: "again").result(timeout=10) == "again"
    finally:
        release.set()
        pool.shutdown(wait=True)
