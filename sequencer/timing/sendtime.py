"""The one question timing answers: when may this step land?

``due_after_wait`` turns the previous touch and a wait into the earliest moment;
``next_send_time`` turns the earliest moment into the first admissible instant,
plus seeded jitter. Both are pure.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sequencer.definition.model import Schedule, Wait, WaitUnit
from sequencer.errors import TimingError
from sequencer.timing.calendar import HolidayCalendar
from sequencer.timing.timetable import Timetable, from_instant, to_instant

MASK64 = (1 << 64) - 1


@lru_cache(maxsize=8192)
def timetable_for(
    schedule: Schedule, zone: str, country: str | None, calendar: HolidayCalendar
) -> Timetable:
    """The (cached) timetable of a schedule for a prospect's zone and country.

    ``country`` is the prospect's; the schedule's ``holidays`` setting decides
    whether that country, a fixed one, or none applies.
    """
    if schedule.holidays is None:
        holiday_country = None
    elif schedule.holidays == "prospect_country":
        holiday_country = country or schedule.default_country
    else:
        holiday_country = schedule.holidays
    return Timetable(schedule, ZoneInfo(zone), holiday_country, calendar)


def mix(*values: int) -> int:
    """A fast, stable 64-bit hash of integers (splitmix64 steps); not for security."""
    h = 0x9E3779B97F4A7C15
    for value in values:
        h = (h ^ (value & MASK64)) * 0xBF58476D1CE4E5B9 & MASK64
        h = (h ^ (h >> 31)) * 0x94D049BB133111EB & MASK64
        h ^= h >> 29
    return h


def start_of_day(day: date, timetable: Timetable) -> datetime:
    """The first instant of a local day (midnight may not exist on a DST day)."""
    midnight = datetime(day.year, day.month, day.day)
    return from_instant(timetable._first_at_or_after(midnight))


def add_business_days(day: date, count: int, timetable: Timetable) -> date:
    """The local date ``count`` business days after ``day`` in the prospect's calendar."""
    if not timetable.schedule.business_days:
        raise TimingError("business-day wait with no business days in the schedule")
    while count > 0:
        day += timedelta(days=1)
        if timetable.is_business_day(day):
            count -= 1
    return day


def due_after_wait(previous: datetime, wait: Wait, timetable: Timetable) -> datetime:
    """The earliest moment a step may run, ``wait`` after the previous touch."""
    if wait.amount == 0:
        return previous
    if wait.is_absolute:
        return previous + wait.as_timedelta()
    local_day = timetable.local_date(to_instant(previous))
    if wait.unit is WaitUnit.BUSINESS_DAYS:
        target = add_business_days(local_day, wait.amount, timetable)
    else:
        days = wait.amount * (7 if wait.unit is WaitUnit.WEEKS else 1)
        target = local_day + timedelta(days=days)
    return start_of_day(target, timetable)


def next_send_time(earliest: datetime, timetable: Timetable, *, seed: int = 0) -> datetime:
    """The first admissible instant at or after ``earliest``, plus seeded jitter.

    Jitter moves the time later by up to the schedule's jitter, never past the
    end of the window it falls in.

    Raises:
        TimingError: the schedule never opens (validation catches this earlier).
    """
    try:
        start, end = timetable.first_open(to_instant(earliest))
    except LookupError as exc:
        raise TimingError(str(exc)) from exc
    jitter = min(timetable.schedule.jitter_seconds, end - start - 1)
    if jitter > 0:
        start += mix(seed) % (jitter + 1)
    return from_instant(start)
