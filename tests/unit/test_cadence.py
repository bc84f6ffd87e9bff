"""Cadence arithmetic: month ends, DST, cron, catch-up; properties over many anchors and times."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.reviews.cadence import (
    CadenceError,
    Schedule,
    add_months,
    first_anchor,
    next_run,
    parse_cadence,
    slot,
    slot_index_after,
)
from bot.store.models.ops import Cadence

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
CALENDAR = [Cadence.weekly, Cadence.monthly, Cadence.quarterly, Cadence.semiannual, Cadence.yearly]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]


def local(year: int, month: int, day: int, hour: int = 9, minute: int = 0, tz: ZoneInfo = BERLIN) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


# -- month ends ----------------------------------------------------------------------------------


def test_monthly_from_january_31_clamps_then_comes_back() -> None:
    s = Schedule(Cadence.monthly, local(2027, 1, 31), "Europe/Berlin")
    days = [slot(s, k).astimezone(BERLIN).date() for k in range(5)]
    assert days == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
        date(2027, 5, 31),
    ]


def test_leap_year_february() -> None:
    s = Schedule(Cadence.monthly, local(2028, 1, 30), "Europe/Berlin")
    assert slot(s, 1).astimezone(BERLIN).date() == date(2028, 2, 29)


def test_quarterly_and_semiannual_from_a_month_end() -> None:
    q = Schedule(Cadence.quarterly, local(2026, 11, 30), "Europe/Berlin")
    assert [slot(q, k).astimezone(BERLIN).date() for k in range(3)] == [
        date(2026, 11, 30),
        date(2027, 2, 28),
        date(2027, 5, 30),
    ]
    h = Schedule(Cadence.semiannual, local(2026, 8, 31), "Europe/Berlin")
    assert slot(h, 1).astimezone(BERLIN).date() == date(2027, 2, 28)


def test_add_months_crosses_years_both_ways() -> None:
    assert add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)


# -- DST -----------------------------------------------------------------------------------------


def test_weekly_keeps_local_time_across_spring_and_autumn_changes() -> None:
    s = Schedule(Cadence.weekly, local(2027, 3, 22), "Europe/Berlin")  # Monday before the change
    first, second = slot(s, 0), slot(s, 1)
    assert first.hour == 8 and second.hour == 7  # UTC: 09:00 CET, then 09:00 CEST
    assert second.astimezone(BERLIN).time() == time(9, 0)
    autumn = Schedule(Cadence.weekly, local(2027, 10, 25), "Europe/Berlin")
    assert [slot(autumn, k).astimezone(BERLIN).time() for k in range(2)] == [time(9, 0)] * 2
    assert slot(autumn, 1) - slot(autumn, 0) == timedelta(days=7, hours=1)  # the week has 169 hours


def test_wall_time_in_the_spring_gap_fires_an_hour_later_once() -> None:
    # 2027-03-28 02:30 does not exist in Berlin: it fires at 03:30 CEST (the same instant as 02:30 CET).
    s = Schedule(Cadence.monthly, local(2027, 2, 28, 2, 30), "Europe/Berlin")
    fired = slot(s, 1)
    assert fired.astimezone(BERLIN) == local(2027, 3, 28, 3, 30)
    assert slot(s, 2).astimezone(BERLIN) == local(2027, 4, 28, 2, 30)


def test_repeated_wall_time_in_autumn_fires_at_the_first_occurrence() -> None:
    # 2027-10-31 02:30 happens twice in Berlin.
    oct_slot = Schedule(Cadence.weekly, local(2027, 10, 24, 2, 30), "Europe/Berlin")
    fired = slot(oct_slot, 1)
    assert fired == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 CEST, not 02:30 CET
    assert next_run(oct_slot, fired) == slot(oct_slot, 2)  # not 02:30 CET an hour later


def test_new_york_daylight_saving() -> None:
    s = Schedule(Cadence.monthly, datetime(2027, 2, 14, 9, 0, tzinfo=NEW_YORK), "America/New_York")
    assert slot(s, 0).hour == 14 and slot(s, 1).hour == 13  # EST then EDT, 09:00 local both times


# -- cron ----------------------------------------------------------------------------------------


def test_cron_evaluated_in_the_schedule_zone() -> None:
    s = Schedule(Cadence.cron, local(2027, 1, 1), "Europe/Berlin", cron="0 9 1 */3 *")
    after = local(2027, 2, 15)
    fired = next_run(s, after)
    assert fired.astimezone(BERLIN) == local(2027, 4, 1, 9, 0)
    assert fired.tzinfo == UTC


def test_cron_repeated_autumn_hour_fires_once() -> None:
    s = Schedule(Cadence.cron, local(2027, 1, 1), "Europe/Berlin", cron="30 2 * * *")
    first = next_run(s, local(2027, 10, 30, 12, 0))
    second = next_run(s, first)
    third = next_run(s, second)
    assert first == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 CEST
    assert second == datetime(2027, 11, 1, 1, 30, tzinfo=UTC)  # next day 02:30 CET, not 02:30 CET on the 31st
    assert third - second == timedelta(days=1)


def test_cron_spring_gap_still_fires_that_day() -> None:
    s = Schedule(Cadence.cron, local(2027, 1, 1), "Europe/Berlin", cron="30 2 * * *")
    fired = next_run(s, local(2027, 3, 27, 12, 0))
    assert fired.astimezone(BERLIN).date() == date(2027, 3, 28)


@pytest.mark.parametrize("spec", ["0 9 * *", "61 9 * * *", "0 9 * * * *", "every day"])
def test_bad_cron_specs_are_refused_with_the_reason(spec: str) -> None:
    with pytest.raises(CadenceError, match=r"cron|cadence"):
        parse_cadence(["cron", *spec.split()])


@pytest.mark.parametrize(
    "spec", ["0 9 30 2 *", "0 9 31 2 *", "0 9 31 4 *", "0 9 31 4,6,9,11 *", "0 9 30,31 2 *"]
)
def test_cron_specs_that_can_never_fire_are_refused_when_set(spec: str) -> None:
    with pytest.raises(CadenceError, match="never fires"):
        parse_cadence(["cron", *spec.split()])


@pytest.mark.parametrize("spec", ["0 9 29 2 *", "0 9 30 2 1", "0 9 31 */2 *", "0 9 31 1-12 *"])
def test_rare_but_possible_cron_specs_are_kept(spec: str) -> None:
    cadence, cron = parse_cadence(["cron", *spec.split()])
    assert (cadence, cron) == (Cadence.cron, spec)


# -- parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["quarterly"], (Cadence.quarterly, None)),
        (["Semiannually"], (Cadence.semiannual, None)),
        (["weekly"], (Cadence.weekly, None)),
        (["monthly"], (Cadence.monthly, None)),
        (["0 9 * * 1"], (Cadence.cron, "0 9 * * 1")),
        (["cron", "0", "9", "1", "*/3", "*"], (Cadence.cron, "0 9 1 */3 *")),
        (["0", "9", "*", "*", "MON"], (Cadence.cron, "0 9 * * MON")),
    ],
)
def test_parse_cadence(words: list[str], expected: tuple[Cadence, str | None]) -> None:
    assert parse_cadence(words) == expected


def test_parse_refuses_unknown_words() -> None:
    with pytest.raises(CadenceError, match="'fortnightly' is not a cadence"):
        parse_cadence(["fortnightly"])


def test_unknown_time_zone_is_named() -> None:
    with pytest.raises(CadenceError, match="Mars/Olympus"):
        Schedule(Cadence.weekly, local(2027, 1, 1), "Mars/Olympus")


def test_first_anchor_is_one_period_ahead_at_nine_local() -> None:
    now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    anchor = first_anchor(Cadence.quarterly, now=now, timezone="Europe/Berlin")
    assert anchor.astimezone(BERLIN) == local(2027, 2, 28, 9, 0)


# -- catch-up ------------------------------------------------------------------------------------


def test_catch_up_after_long_downtime_jumps_to_the_first_future_slot() -> None:
    s = Schedule(Cadence.weekly, local(2026, 1, 5), "Europe/Berlin")
    back_online = local(2026, 11, 30, 12, 0)  # 47 weeks later
    nxt = next_run(s, back_online)
    assert nxt.astimezone(BERLIN) == local(2026, 12, 7, 9, 0)
    assert next_run(s, nxt - timedelta(microseconds=1)) == nxt


# -- properties ----------------------------------------------------------------------------------

anchors = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2060, 12, 31), timezones=st.just(UTC)
)
offsets = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=365 * 30))


@settings(max_examples=300, deadline=None)
@given(cadence=st.sampled_from(CALENDAR), tz=st.sampled_from(ZONES), anchor=anchors, offset=offsets)
def test_next_run_is_the_first_slot_strictly_after(
    cadence: Cadence, tz: str, anchor: datetime, offset: timedelta
) -> None:
    s = Schedule(cadence, anchor, tz)
    after = anchor + offset - timedelta(days=3)
    k = slot_index_after(s, after)
    nxt = next_run(s, after)
    assert nxt == slot(s, k) > after
    assert k == 0 or slot(s, k - 1) <= after
    assert next_run(s, nxt) > nxt  # fires once per slot


def _exists(naive: datetime, zone: ZoneInfo) -> bool:
    """False for a wall time inside a DST gap (it does not survive a round trip through UTC)."""
    return naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


@settings(max_examples=200, deadline=None)
@given(cadence=st.sampled_from(CALENDAR), tz=st.sampled_from(ZONES), anchor=anchors, k=st.integers(0, 400))
def test_slots_increase_and_keep_the_day_and_wall_time(
    cadence: Cadence, tz: str, anchor: datetime, k: int
) -> None:
    s = Schedule(cadence, anchor, tz)
    zone = ZoneInfo(tz)
    here, following = slot(s, k), slot(s, k + 1)
    assert here < following
    wall = anchor.astimezone(zone).replace(tzinfo=None)
    if cadence == Cadence.weekly:
        expected = wall + k * timedelta(days=7)
    else:
        months = {Cadence.monthly: 1, Cadence.quarterly: 3, Cadence.semiannual: 6, Cadence.yearly: 12}[
            cadence
        ]
        index = wall.year * 12 + wall.month - 1 + k * months
        year, month = index // 12, index % 12 + 1
        day = min(wall.day, calendar.monthrange(year, month)[1])
        expected = wall.replace(year=year, month=month, day=day)
    got = here.astimezone(zone).replace(tzinfo=None)
    if _exists(expected, zone):
        assert got == expected
    else:  # in a spring-forward gap: shifted forward by the gap, same instant as the old offset
        assert timedelta(0) < got - expected <= timedelta(hours=1)


@settings(max_examples=100, deadline=None)
@given(tz=st.sampled_from(ZONES), start=anchors, hours=st.integers(1, 24 * 60))
def test_cron_next_is_after_and_matches_the_spec(tz: str, start: datetime, hours: int) -> None:
    s = Schedule(Cadence.cron, start, tz, cron="15 9 * * 1-5")
    after = start + timedelta(hours=hours)
    nxt = next_run(s, after)
    assert nxt > after
    got = nxt.astimezone(ZoneInfo(tz))
    assert got.weekday() < 5
    assert next_run(s, nxt) > nxt
