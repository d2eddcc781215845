"""Open intervals of a schedule, in UTC, for one time zone and holiday country.

Local windows become UTC intervals day by day. The conversion is exact across
DST: a window edge in a skipped hour moves to the moment the clocks jump; a
repeated hour counts only at its first occurrence, so a window is never open
for longer than its wall-clock length and no local time is doubled. Intervals
are cached per local day, which is what makes simulating millions of touches
cheap.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sequencer.definition.model import Schedule
from sequencer.timing.calendar import HolidayCalendar

Interval = tuple[int, int]  # [start, end) in POSIX seconds
MAX_DAYS_AHEAD = 800  # a schedule that stays closed longer than this is broken
OFFSET_BUCKET = 900
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class Timetable:
    """The open intervals of ``schedule`` for a zone and a holiday country."""

    __slots__ = ("_business", "_cache", "_midnights", "_offsets", "calendar", "country",
                 "schedule", "zone")

    def __init__(
        self, schedule: Schedule, zone: ZoneInfo, country: str | None, calendar: HolidayCalendar
    ) -> None:
        self.schedule = schedule
        self.zone = zone
        self.country = country
        self.calendar = calendar
        self._cache: dict[int, tuple[Interval, ...]] = {}
        self._business: dict[tuple[int, int], int] = {}
        self._midnights: dict[int, int] = {}
        self._offsets: dict[int, int] = {}

    def is_holiday(self, day: date) -> bool:
        return self.country is not None and self.calendar.is_holiday(self.country, day)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.schedule.business_days and not self.is_holiday(day)

    def business_days_after(self, ordinal: int, count: int) -> int:
        """The local day ``count`` business days after day ``ordinal`` (cached)."""
        key = (ordinal, count)
        found = self._business.get(key)
        if found is None:
            current = date.fromordinal(ordinal)
            while count > 0:
                current += timedelta(days=1)
                if self.is_business_day(current):
                    count -= 1
            found = self._business[key] = current.toordinal()
        return found

    def start_of_day(self, ordinal: int) -> int:
        """The first instant of a local day (midnight may not exist on a DST day)."""
        found = self._midnights.get(ordinal)
        if found is None:
            day = date.fromordinal(ordinal)
            midnight = datetime(day.year, day.month, day.day)  # noqa: DTZ001 - wall time
            found = self._midnights[ordinal] = self._first_at_or_after(midnight)
        return found

    def local_date(self, instant: int) -> date:
        return date.fromordinal(self.local_ordinal(instant))

    def local_ordinal(self, instant: int) -> int:
        """The proleptic ordinal of the local date of ``instant``.

        UTC offsets are cached per quarter hour of UTC time: every zone changes
        offset on a quarter-hour boundary (historical LMT oddities aside).
        """
        bucket = instant // OFFSET_BUCKET
        offset = self._offsets.get(bucket)
        if offset is None:
            offset = self._offsets[bucket] = self._offset(bucket * OFFSET_BUCKET)
        return (instant + offset) // 86400 + EPOCH_ORDINAL

    def intervals(self, ordinal: int) -> tuple[Interval, ...]:
        """The open intervals of the windows that open on local day ``ordinal``."""
        found = self._cache.get(ordinal)
        if found is None:
            found = self._cache[ordinal] = self._compute(date.fromordinal(ordinal))
        return found

    def first_open(self, instant: int) -> Interval:
        """The first open interval that ends after ``instant``, clipped to start at it.

        Raises:
            LookupError: nothing opens within MAX_DAYS_AHEAD days.
        """
        ordinal = self.local_ordinal(instant) - 1  # yesterday's window may cross midnight
        for offset in range(MAX_DAYS_AHEAD):
            for start, end in self.intervals(ordinal + offset):
                if end > instant:
                    return (max(start, instant), end)
        raise LookupError(f"no window opens within {MAX_DAYS_AHEAD} days")

    def _compute(self, day: date) -> tuple[Interval, ...]:
        windows = self.schedule.windows[day.weekday()]
        if not windows or self.is_holiday(day):
            return ()
        out: list[Interval] = []
        for window in windows:
            out.extend(self._window(day, window.start, window.end))
        return tuple(out)

    def _window(self, day: date, start: int, end: int) -> list[Interval]:
        wall_start = datetime(day.year, day.month, day.day) + timedelta(minutes=start)  # noqa: DTZ001 - wall time
        wall_end = datetime(day.year, day.month, day.day) + timedelta(minutes=end)  # noqa: DTZ001 - wall time
        s, e = self._first_at_or_after(wall_start), self._first_at_or_after(wall_end)
        if e <= s:
            return []  # the whole window lies in an hour the clocks skipped
        before, after = self._offset(s), self._offset(e - 1)
        if before <= after:  # same offset, or clocks jumped forward: wall time is monotonic
            return [(s, e)]
        # Clocks went back inside the window: the wall times just after the jump were
        # already open once, before it. Only their first occurrence counts, so the
        # window is open for exactly its wall-clock length and nothing is doubled.
        jump = self._transition(s, e)
        pieces = [(s, jump)]
        resume = jump + (before - after)
        if resume < e:
            pieces.append((resume, e))
        return pieces

    def _offset(self, instant: int) -> int:
        offset = datetime.fromtimestamp(instant, self.zone).utcoffset()
        assert offset is not None
        return int(offset.total_seconds())

    def _first_at_or_after(self, wall: datetime) -> int:
        """The first instant whose local wall-clock time is at or after ``wall``."""
        instant = int(wall.replace(tzinfo=self.zone).timestamp())  # fold=0: first occurrence
        if datetime.fromtimestamp(instant, self.zone).replace(tzinfo=None) == wall:
            return instant
        # ``wall`` falls in a gap (clocks jumped forward): the answer is the jump itself.
        gap = self._offset(instant) - self._offset(instant - 86400)
        return self._transition(instant - abs(gap) - 1, instant)

    def _transition(self, low: int, high: int) -> int:
        """The first instant in (low, high] whose UTC offset differs from low's."""
        base = self._offset(low)
        while high - low > 1:
            mid = (low + high) // 2
            if self._offset(mid) == base:
                low = mid
            else:
                high = mid
        return high


def to_instant(moment: datetime) -> int:
    """POSIX seconds of an aware datetime, rounded up to the whole second."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: sequencer needs timezone-aware times")
    seconds = moment.timestamp()
    whole = int(seconds)
    return whole if whole == seconds else whole + 1


def from_instant(instant: int) -> datetime:
    return datetime.fromtimestamp(instant, UTC)
