"""The one question timing answers: when may this step land?

``due_after_wait`` turns the previous touch and a wait into the earliest moment;
``next_send_time`` turns the earliest moment into the first admissible instant,
plus seeded jitter. Both are pure.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sequencer.definition.model import Schedule, Wait, WaitUnit
from sequencer.errors import TimingError
from sequencer.timing.calendar import HolidayCalendar
from sequencer.timing.timetable import Timetable, from_instant, to_instant

MASK64 = (1 << 64) - 1


_TIMETABLES: dict[tuple[int, str, str | None, int], Timetable] = {}
_MAX_TIMETABLES = 8192


def timetable_for(
    schedule: Schedule, zone: str, country: str | None, calendar: HolidayCalendar
) -> Timetable:
    """The (cached) timetable of a schedule for a prospect's zone and country.

    ``country`` is the prospect's; the schedule's ``holidays`` setting decides
    whether that country, a fixed one, or none applies. The cache is keyed by
    identity (hashing a whole schedule on every step was a hot spot) and checks
    that identity still holds, so a recycled ``id`` can never return a stranger.
    """
    key = (id(schedule), zone, country, id(calendar))
    found = _TIMETABLES.get(key)
    if found is not None and found.schedule is schedule and found.calendar is calendar:
        return found
    if len(_TIMETABLES) >= _MAX_TIMETABLES:
        _TIMETABLES.clear()
    found = _TIMETABLES[key] = _build(schedule, zone, country, calendar)
    return found


def _build(
    schedule: Schedule, zone: str, country: str | None, calendar: HolidayCalendar
) -> Timetable:
    if schedule.holidays is None:
        holiday_country = None
    elif schedule.holidays == "prospect_country":
        holiday_country = country or schedule.default_country
    else:
        holiday_country = schedule.holidays
    return Timetable(schedule, ZoneInfo(zone), holiday_country, calendar)


def mix(a: int, b: int = 0, c: int = 0, d: int = 0) -> int:
    """A fast, stable 64-bit hash of up to four integers; not for security.

    The values are folded with odd constants, then one splitmix64 finaliser
    spreads the bits (stable across runs, platforms and Python versions).
    """
    h = ((a & MASK64) * 0x9E3779B97F4A7C15 ^ (b & MASK64) * 0xC2B2AE3D27D4EB4F
         ^ (c & MASK64) * 0x165667B19E3779F9 ^ (d & MASK64) * 0xD6E8FEB86659FD93) & MASK64
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9 & MASK64
    h = (h ^ (h >> 27)) * 0x94D049BB133111EB & MASK64
    return h ^ (h >> 31)


def start_of_day(day: date, timetable: Timetable) -> datetime:
    """The first instant of a local day (midnight may not exist on a DST day)."""
    return from_instant(timetable.start_of_day(day.toordinal()))


def add_business_days(day: date, count: int, timetable: Timetable) -> date:
    """The local date ``count`` business days after ``day`` in the prospect's calendar."""
    _require_business_days(timetable)
    return date.fromordinal(timetable.business_days_after(day.toordinal(), count))


def _require_business_days(timetable: Timetable) -> None:
    if not timetable.schedule.business_days:
        raise TimingError("business-day wait with no business days in the schedule")


def due_after_wait(previous: datetime, wait: Wait, timetable: Timetable) -> datetime:
    """The earliest moment a step may run, ``wait`` after the previous touch."""
    return from_instant(wait_until(to_instant(previous), wait, timetable))


def wait_until(previous: int, wait: Wait, timetable: Timetable) -> int:
    """``due_after_wait`` in POSIX seconds, for the engine's hot path."""
    if wait.amount == 0:
        return previous
    if wait.unit is WaitUnit.MINUTES:
        return previous + 60 * wait.amount
    if wait.unit is WaitUnit.HOURS:
        return previous + 3600 * wait.amount
    local_day = timetable.local_ordinal(previous)
    if wait.unit is WaitUnit.BUSINESS_DAYS:
        _require_business_days(timetable)
        target = timetable.business_days_after(local_day, wait.amount)
    else:
        target = local_day + wait.amount * (7 if wait.unit is WaitUnit.WEEKS else 1)
    return timetable.start_of_day(target)


def next_send_time(earliest: datetime, timetable: Timetable, *, seed: int = 0) -> datetime:
    """The first admissible instant at or after ``earliest``, plus seeded jitter.

    Jitter moves the time later by up to the schedule's jitter, never past the
    end of the window it falls in.

    Raises:
        TimingError: the schedule never opens (validation catches this earlier).
    """
    return from_instant(next_send_instant(to_instant(earliest), timetable, seed=seed))


def next_send_instant(earliest: int, timetable: Timetable, *, seed: int = 0) -> int:
    """``next_send_time`` in POSIX seconds."""
    try:
        start, end = timetable.first_open(earliest)
    except LookupError as exc:
        raise TimingError(str(exc)) from exc
    jitter = min(timetable.schedule.jitter_seconds, end - start - 1)
    if jitter > 0:
        start += mix(seed) % (jitter + 1)
    return start
