"""Properties of the send time, checked against an independent brute-force oracle.

The oracle knows nothing of ``Timetable``: it converts a UTC instant to local
wall time with ``zoneinfo``, finds the day whose window contains that wall time
(the same local day, or the day before for a window crossing midnight), and
consults the ``holidays`` package directly. A wall-clock time lived twice (the
second pass of a repeated hour, ``fold=1``) counts once, at its first pass.

Scenarios are drawn in three kinds: anywhere in 2026-2028; around a local
midnight, where windows crossing midnight hand over; and around a DST
transition of the drawn zone with windows placed near the transition's wall
time on its day, so the gaps and repeated hours are actually exercised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sequencer.calendars import PublicHolidays
from sequencer.definition.model import Schedule, Window
from sequencer.definition.parse import merge_windows
from sequencer.timing import next_send_time, timetable_for

ZONES = (
    # DST zones named in the brief
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "Pacific/Chatham",
    # fractional offsets without DST
    "Asia/Kolkata",
    "Asia/Kathmandu",
    # more DST rules: half-hour DST, midnight transitions, southern hemisphere, Ramadan
    "Australia/Lord_Howe",
    "America/St_Johns",
    "America/Santiago",
    "America/Havana",
    "America/Asuncion",
    "Africa/Casablanca",
    "Pacific/Auckland",
    "Australia/Adelaide",
    "America/Los_Angeles",
    "America/Chicago",
    "Europe/Berlin",
    "Europe/Dublin",
    # no DST
    "UTC",
    "Asia/Tokyo",
    "Asia/Tehran",
    "America/Sao_Paulo",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
)
COUNTRIES = (None, "US", "GB", "DE", "AU", "IN", "NZ", "CL")
START = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
END = int(datetime(2029, 1, 1, tzinfo=UTC).timestamp())
CALENDAR = PublicHolidays()
PROPERTY = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


# -- the oracle: zoneinfo and holidays only ---------------------------------------------
@cache
def holiday_dates(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=year).keys())


@dataclass(frozen=True)
class Scenario:
    zone: str
    windows: tuple[tuple[Window, ...], ...]
    holidays_setting: str | None  # None, "prospect_country" or a fixed country
    country: str | None  # the prospect's
    default_country: str | None
    earliest: int  # POSIX seconds
    seed: int
    jitter: int

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def schedule(self, jitter: int) -> Schedule:
        return Schedule(
            windows=self.windows,
            holidays=self.holidays_setting,
            default_country=self.default_country,
            jitter_seconds=jitter,
        )

    @property
    def holiday_country(self) -> str | None:
        if self.holidays_setting is None:
            return None
        if self.holidays_setting == "prospect_country":
            return self.country or self.default_country
        return self.holidays_setting

    def is_holiday(self, day: date) -> bool:
        country = self.holiday_country
        return country is not None and day in holiday_dates(country, day.year)

    def openings(self, instant: int) -> frozenset[tuple[date, Window]]:
        """Every (day it opens, window) whose wall-clock range holds ``instant``.

        Usually one; two when a window crossing midnight overlaps the next day's.
        """
        here = datetime.fromtimestamp(instant, self.tz)
        if here.fold == 1:
            return frozenset()  # a wall time lived for the second time: it had its turn
        seconds = here.hour * 3600 + here.minute * 60 + here.second
        found = set()
        for back in (0, 1):
            day = here.date() - timedelta(days=back)
            if self.is_holiday(day):
                continue
            wall = seconds + back * 86400
            for window in self.windows[day.weekday()]:
                if window.start * 60 <= wall < window.end * 60:
                    found.add((day, window))
        return frozenset(found)

    def send(self, jitter: int) -> int:
        timetable = timetable_for(self.schedule(jitter), self.zone, self.country, CALENDAR)
        earliest = datetime.fromtimestamp(self.earliest, UTC)
        result = next_send_time(earliest, timetable, seed=self.seed)
        assert result.tzinfo is not None
        return int(result.timestamp())

    def show(self, instant: int) -> str:
        return datetime.fromtimestamp(instant, ZoneInfo(self.zone)).isoformat()


def minute_marks(low: int, high: int) -> range:
    """Every whole UTC minute strictly after ``low`` and strictly before ``high``."""
    return range((low // 60 + 1) * 60, high, 60)


# -- DST transitions, found with zoneinfo ------------------------------------------------
def offset(zone: ZoneInfo, instant: int) -> timedelta | None:
    return datetime.fromtimestamp(instant, zone).utcoffset()


@cache
def transitions(zone_name: str) -> tuple[int, ...]:
    """Every instant in 2026-2028 where the zone's UTC offset changes."""
    zone = ZoneInfo(zone_name)
    found: list[int] = []
    day = 86400
    for low in range(START - day, END + day, day):
        high = low + day
        if offset(zone, low) != offset(zone, high):
            while high - low > 1:
                mid = (low + high) // 2
                if offset(zone, mid) == offset(zone, low):
                    low = mid
                else:
                    high = mid
            found.append(high)
    return tuple(found)


# -- strategies ---------------------------------------------------------------------------
merge = merge_windows  # schedules are built as the parser builds them; the oracle stays separate


START_MINUTE = st.one_of(
    st.integers(0, 1439),
    st.integers(0, 300),  # night hours, where DST transitions happen
    st.integers(1260, 1439),  # late evening, to cross midnight
)
LENGTH = st.one_of(st.integers(1, 120), st.integers(1, 600))
ANY_WINDOW = st.builds(lambda start, length: Window(start, start + length), START_MINUTE, LENGTH)
DAY_WINDOWS = st.lists(ANY_WINDOW, min_size=1, max_size=3)
OPEN_DAYS = st.sets(st.integers(0, 6), min_size=1, max_size=7)
NEAR_CHANGE = st.integers(-6 * 3600, 6 * 3600)
NEAR_MIDNIGHT = st.integers(-3 * 3600, 5 * 3600)
ANYWHERE = st.integers(START, END)
HOLIDAY_SETTING = st.sampled_from([None, "prospect_country", "prospect_country", "DE", "GB"])
COUNTRY = st.sampled_from(COUNTRIES)
DEFAULT_COUNTRY = st.sampled_from([None, "US", "GB"])
SEED = st.integers(0, 2**64 - 1)
JITTER = st.one_of(st.sampled_from([0, 1, 60, 1200, 3600]), st.integers(0, 4 * 3600))


def windows_near(wall_minute: int) -> st.SearchStrategy[list[Window]]:
    """One or two windows opening up to three hours before a transition's wall time."""
    start = st.integers(max(0, wall_minute - 180), min(1439, wall_minute + 60))
    window = st.builds(lambda s, n: Window(s, s + n), start, LENGTH)
    return st.lists(window, min_size=1, max_size=2)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    zone = draw(st.sampled_from(ZONES))
    days: list[list[Window]] = [[] for _ in range(7)]
    for day in draw(OPEN_DAYS):
        days[day] = draw(DAY_WINDOWS)
    changes = transitions(zone)
    if changes and draw(st.booleans()):
        # Around a transition: earliest within a few hours of it, windows near its wall time.
        change = draw(st.sampled_from(changes))
        earliest = change + draw(NEAR_CHANGE)
        before = datetime.fromtimestamp(change - 1, ZoneInfo(zone))
        wall_minute = before.hour * 60 + before.minute + 1
        weekday = before.weekday()
        days[weekday] += draw(windows_near(wall_minute))
        if draw(st.booleans()):  # and a window from the evening before, across midnight
            evening = draw(st.integers(1080, 1439))
            longest = min(2879, 1440 + wall_minute + 120) - evening
            reach = draw(
                st.integers(min(longest, max(1, 1440 + wall_minute - 120 - evening)), longest)
            )
            days[(weekday - 1) % 7].append(Window(evening, evening + reach))
    elif draw(st.booleans()):
        # Around a local midnight, where windows crossing midnight hand over to the next day.
        day = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 3 * 365)))
        midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
        earliest = int(midnight.timestamp()) + draw(NEAR_MIDNIGHT)
    else:
        earliest = draw(ANYWHERE)
    return Scenario(
        zone=zone,
        windows=tuple(merge(d) for d in days),
        holidays_setting=draw(HOLIDAY_SETTING),
        country=draw(COUNTRY),
        default_country=draw(DEFAULT_COUNTRY),
        earliest=earliest,
        seed=draw(SEED),
        jitter=draw(JITTER),
    )


# -- properties ---------------------------------------------------------------------------
@PROPERTY
@given(scenarios())
def test_the_send_time_is_never_before_the_earliest_and_lies_in_an_open_window(
    s: Scenario,
) -> None:
    result = s.send(s.jitter)
    assert result >= s.earliest, f"{s.show(result)} is before {s.show(s.earliest)}"
    found = s.openings(result)
    assert found, (
        f"{s.show(result)} (asked for {s.show(s.earliest)}) is in no window of its day "
        f"or the day before, or is a repeated wall time"
    )
    for day, _ in found:
        assert s.windows[day.weekday()], f"{s.show(result)} opens on a weekday without windows"
        assert not s.is_holiday(day), f"{s.show(result)} is in a window of holiday {day}"


@PROPERTY
@given(scenarios())
def test_without_jitter_no_earlier_admissible_moment_is_skipped(s: Scenario) -> None:
    result = s.send(0)
    if result == s.earliest:
        return
    assert not s.openings(s.earliest), (
        f"asked for {s.show(s.earliest)}, which is open, but got {s.show(result)}"
    )
    for instant in minute_marks(s.earliest, result):
        assert not s.openings(instant), (
            f"asked for {s.show(s.earliest)}, got {s.show(result)}, "
            f"but {s.show(instant)} was already open"
        )


@PROPERTY
@given(scenarios())
def test_jitter_moves_a_send_by_at_most_the_jitter_within_the_same_window(s: Scenario) -> None:
    plain = s.send(0)
    jittered = s.send(s.jitter)
    assert plain <= jittered <= plain + s.jitter, (
        f"{s.show(jittered)} is not within {s.jitter}s after {s.show(plain)}"
    )
    # One window must hold the plain time, the jittered one and every minute between.
    windows = s.openings(plain)
    assert windows, f"{s.show(plain)} is in no window"
    windows &= s.openings(jittered)
    assert windows, f"jitter moved {s.show(plain)} to {s.show(jittered)}, out of its window"
    for instant in minute_marks(plain, jittered):
        windows &= s.openings(instant)
        assert windows, (
            f"between {s.show(plain)} and {s.show(jittered)}, {s.show(instant)} is not in "
            "the same window"
        )


def test_the_scenarios_cover_at_least_twenty_zones_with_the_required_ones() -> None:
    assert len(set(ZONES)) >= 20
    required = {
        "America/New_York",
        "Europe/London",
        "Australia/Sydney",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "Pacific/Chatham",
    }
    assert required <= set(ZONES)
    assert len(transitions("America/New_York")) == 6
    assert transitions("Asia/Kolkata") == ()
