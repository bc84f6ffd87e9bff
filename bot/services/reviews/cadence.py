"""When a review reminder fires: pure calendar arithmetic, no database, no clock of its own.

A schedule is a cadence (weekly, monthly, quarterly, semiannual, yearly, or a cron spec) plus
an *anchor*: the first slot, whose local wall time (in the schedule's IANA time zone) every
later slot keeps. Slots are counted from the anchor, never from the previous slot, so a reminder
anchored on 31 January fires on 28/29 February, 31 March, 30 April... (the day is clamped to the
month's length, then comes back) instead of drifting to the 28th for ever.

DST: a slot keeps its wall time across changes of offset (09:00 stays 09:00 in summer). A wall
time that does not exist that day (in the spring-forward gap) fires at the same instant the
clock would have shown it with the old offset (02:30 → 03:30); a wall time that happens twice
(autumn) fires once, at its first occurrence. Cron specs (via ``croniter``) follow the same
rules: evaluated in the schedule's zone, a repeated wall time fires once.

Catch-up after downtime is :func:`next_run` with ``after=now``: the first slot strictly after
now, so however many periods were missed, the reminder fires once and moves to the future.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

from bot.store.models.ops import Cadence

#: Months per period for the calendar cadences (weekly counts days instead).
PERIOD_MONTHS: dict[Cadence, int] = {
    Cadence.monthly: 1,
    Cadence.quarterly: 3,
    Cadence.semiannual: 6,
    Cadence.yearly: 12,
}
WEEK = timedelta(days=7)
#: The local time of day a new reminder fires at (people read a review kit in the morning).
DEFAULT_LOCAL_TIME = time(9, 0)

#: What people type for each cadence.
CADENCE_WORDS: dict[str, Cadence] = {
    "weekly": Cadence.weekly,
    "week": Cadence.weekly,
    "monthly": Cadence.monthly,
    "month": Cadence.monthly,
    "quarterly": Cadence.quarterly,
    "quarter": Cadence.quarterly,
    "semiannually": Cadence.semiannual,
    "semiannual": Cadence.semiannual,
    "semi-annually": Cadence.semiannual,
    "semi-annual": Cadence.semiannual,
    "half-yearly": Cadence.semiannual,
    "biannually": Cadence.semiannual,
    "yearly": Cadence.yearly,
    "annually": Cadence.yearly,
    "annual": Cadence.yearly,
}


class CadenceError(ValueError):
    """A cadence, cron spec or time zone that cannot be used; the message says which and why."""


def zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name`` (e.g. ``Europe/Berlin``), or a CadenceError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CadenceError(f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin") from exc


def check_cron(spec: str) -> str:
    """``spec`` normalised to single spaces if it is a valid 5-field cron spec, else CadenceError."""
    fields = spec.split()
    if len(fields) != 5:
        raise CadenceError(
            f"cron spec {spec!r} needs 5 fields (minute hour day-of-month month day-of-week), "
            f"e.g. '0 9 1 */3 *' for 09:00 on the first day of every third month"
        )
    normalised = " ".join(fields)
    if not croniter.is_valid(normalised):
        raise CadenceError(f"cron spec {spec!r} is not valid (e.g. '0 9 * * 1' is Mondays at 09:00)")
    if not _can_fire(normalised):
        raise CadenceError(
            f"cron spec {spec!r} never fires: no month has that day (e.g. 30 February), "
            f"so no reminder would ever be sent; pick a day every chosen month has"
        )
    return normalised


def _can_fire(spec: str) -> bool:
    """Whether ``spec`` matches some moment; 9 years cover every leap-day pattern (the 4-year
    cycle plus a skipped century year), so a spec silent that long is silent for ever."""
    try:
        croniter(spec, datetime(2000, 1, 1), max_years_between_matches=9).get_next(datetime)
    except CroniterBadDateError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Schedule:
    """A cadence anchored at its first slot, in a time zone; ``cron`` only for Cadence.cron."""

    cadence: Cadence
    anchor: datetime
    timezone: str = "UTC"
    cron: str | None = None

    def __post_init__(self) -> None:
        if self.anchor.tzinfo is None or self.anchor.utcoffset() is None:
            raise CadenceError("a schedule's anchor must be an aware datetime")
        zone(self.timezone)
        if self.cadence == Cadence.cron:
            if not self.cron:
                raise CadenceError("a cron cadence needs a cron spec")
            object.__setattr__(self, "cron", check_cron(self.cron))
        elif self.cron is not None:
            raise CadenceError(f"a {self.cadence.value} cadence takes no cron spec")

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    @property
    def wall(self) -> datetime:
        """The anchor's local wall time (naive), which every slot keeps."""
        return self.anchor.astimezone(self.tz).replace(tzinfo=None)


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, the day clamped to the target month's length."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def localize(wall: datetime, tz: ZoneInfo) -> datetime:
    """A naive local wall time as an aware UTC instant: the first occurrence of a repeated time,
    the old offset for a time inside a gap (so 02:30 in a spring-forward gap is 03:30 new time)."""
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def slot(schedule: Schedule, k: int) -> datetime:
    """The ``k``-th slot (0 = the anchor) of a calendar cadence, as aware UTC."""
    if k < 0:
        raise ValueError("slot index must be >= 0")
    if schedule.cadence == Cadence.cron:
        raise CadenceError("cron schedules have no numbered slots; use next_run")
    wall = schedule.wall
    if schedule.cadence == Cadence.weekly:
        moved = wall + k * WEEK
    else:
        day = add_months(wall.date(), k * PERIOD_MONTHS[schedule.cadence])
        moved = datetime.combine(day, wall.time())
    return localize(moved, schedule.tz)


def _estimate(schedule: Schedule, after: datetime) -> int:
    """A slot index near the first one after ``after`` (exact up to a step either way)."""
    local = after.astimezone(schedule.tz).replace(tzinfo=None)
    wall = schedule.wall
    if schedule.cadence == Cadence.weekly:
        return max(0, (local - wall).days // 7)
    months = (local.year - wall.year) * 12 + (local.month - wall.month)
    return max(0, months // PERIOD_MONTHS[schedule.cadence])


def slot_index_after(schedule: Schedule, after: datetime) -> int:
    """The index of the first calendar slot strictly after ``after``."""
    k = _estimate(schedule, after)
    while slot(schedule, k) <= after:
        k += 1
    while k > 0 and slot(schedule, k - 1) > after:
        k -= 1
    return k


def _cron_next(schedule: Schedule, after: datetime) -> datetime:
    tz = schedule.tz
    start = after.astimezone(tz)
    spec = cast(str, schedule.cron)  # __post_init__ requires a spec of every cron schedule
    it = croniter(spec, start)
    for _ in range(1000):  # only repeated wall times are skipped; a few at most
        candidate: datetime = it.get_next(datetime)
        naive = candidate.replace(tzinfo=None)
        first = localize(naive, tz)
        at = candidate.astimezone(UTC)
        if first < at:  # the second occurrence of a repeated wall time: it fired at ``first``
            if first > after:
                return first
            continue
        if at > after:
            return at
    raise CadenceError(f"cron spec {schedule.cron!r} never fires")  # pragma: no cover


def next_run(schedule: Schedule, after: datetime) -> datetime:
    """The first slot strictly after ``after`` (aware UTC): catch-up jumps straight to the future."""
    if after.tzinfo is None:
        raise CadenceError("next_run needs an aware datetime")
    if schedule.cadence == Cadence.cron:
        return _cron_next(schedule, after)
    return slot(schedule, slot_index_after(schedule, after))


def first_anchor(
    cadence: Cadence, *, now: datetime, timezone: str, at: time = DEFAULT_LOCAL_TIME
) -> datetime:
    """Where a new reminder starts: one period from today, at ``at`` local time (aware UTC).

    (A cron cadence ignores its anchor; it gets ``now``.)
    """
    if cadence == Cadence.cron:
        return now.astimezone(UTC)
    tz = zone(timezone)
    today = now.astimezone(tz).date()
    day = today + WEEK if cadence == Cadence.weekly else add_months(today, PERIOD_MONTHS[cadence])
    return localize(datetime.combine(day, at), tz)


def parse_cadence(words: list[str]) -> tuple[Cadence, str | None]:
    """A cadence from what was typed: a word (``quarterly``...), or ``cron <5 fields>``, or
    5 fields that look like cron (``"0 9 * * 1"`` quoted as one word, or unquoted)."""
    if not words:
        raise CadenceError("say how often: weekly, monthly, quarterly, semiannually, yearly, or a cron spec")
    head = words[0].lower()
    if head in CADENCE_WORDS and len(words) == 1:
        return CADENCE_WORDS[head], None
    rest = words[1:] if head == "cron" else words
    spec = " ".join(rest)
    if len(spec.split()) == 5 and all(_cronish(f) for f in spec.split()):
        return Cadence.cron, check_cron(spec)
    if head == "cron":
        check_cron(spec)  # raises with the reason
    raise CadenceError(
        f"{' '.join(words)!r} is not a cadence: use weekly, monthly, quarterly, semiannually, "
        "yearly, or a cron spec such as cron 0 9 1 */3 *"
    )


def _cronish(field: str) -> bool:
    return bool(field) and all(c.isalnum() or c in "*/,-?LW#" for c in field)


def describe(cadence: Cadence, cron: str | None = None) -> str:
    """How the cadence reads in a sentence ("quarterly", "on cron `0 9 * * 1`")."""
    if cadence == Cadence.cron:
        return f"on cron `{cron}`"
    return "semiannually" if cadence == Cadence.semiannual else cadence.value
