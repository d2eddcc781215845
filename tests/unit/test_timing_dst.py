"""Send times across daylight-saving transitions, asserted as local wall-clock times.

Every expectation is written as the local ISO time *with its UTC offset*, so a
result in the first or the second pass of a repeated hour is told apart, and a
local time that does not exist can never be expected.

Transitions used (all verified against tzdata):

=================  ==========  ===========================  ==========  ==========================
zone               spring day  clocks jump                  autumn day  clocks go back
=================  ==========  ===========================  ==========  ==========================
America/New_York   2026-03-08  02:00 -05:00 -> 03:00 -04:00  2026-11-01  02:00 -04:00 -> 01:00 -05:00
America/New_York   2027-03-14  (same)                       2027-11-07  (same)
Europe/London      2026-03-29  01:00 +00:00 -> 02:00 +01:00  2026-10-25  02:00 +01:00 -> 01:00 +00:00
Europe/London      2027-03-28  (same)                       2027-10-31  (same)
Australia/Sydney   2026-10-04  02:00 +10:00 -> 03:00 +11:00  2026-04-05  03:00 +11:00 -> 02:00 +10:00
Australia/Sydney   2027-10-03  (same)                       2027-04-04  (same)
Pacific/Chatham    2026-09-27  02:45 +12:45 -> 03:45 +13:45  2026-04-05  03:45 +13:45 -> 02:45 +12:45
Pacific/Chatham    2027-09-26  (same)                       2027-04-04  (same)
=================  ==========  ===========================  ==========  ==========================

The semantics under test: a local time that does not exist is never returned (a
window that opens in the skipped hour opens when the clocks jump); during a
repeated hour a wall-clock time counts once, at its first pass, so a window is
never open for longer than its wall-clock length and never at a wall-clock time
outside its range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sequencer.definition.model import Schedule, Wait, WaitUnit, Window
from sequencer.timing import NO_HOLIDAYS, due_after_wait, next_send_time, timetable_for

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
SYDNEY = "Australia/Sydney"
CHATHAM = "Pacific/Chatham"
KOLKATA = "Asia/Kolkata"
KATHMANDU = "Asia/Kathmandu"
SANTIAGO = "America/Santiago"


# -- helpers ---------------------------------------------------------------------------
def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def window(span: str) -> Window:
    """``"22:00-02:00"`` -> a window; an end at or before the start crosses midnight."""
    start, end = (minutes(part) for part in span.split("-"))
    return Window(start, end if end > start else end + 1440)


def every_day(*spans: str, jitter_seconds: int = 0) -> Schedule:
    """The same windows on all seven days, no holidays: only the clock matters."""
    day = tuple(window(span) for span in spans)
    return Schedule(windows=(day,) * 7, holidays=None, jitter_seconds=jitter_seconds)


def local(zone: str, text: str, *, fold: int = 0) -> datetime:
    """A local wall time as an aware UTC datetime; ``fold=1`` picks the second pass.

    Returned in UTC because aware datetimes in a repeated hour never compare equal
    across zones (PEP 495), which would make ``result == earliest`` lie.
    """
    naive = datetime.fromisoformat(text)
    return naive.replace(tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)


def wall(moment: datetime, zone: str) -> str:
    """A moment as local ISO time with its offset, e.g. ``2026-03-08T03:00:00-04:00``."""
    return moment.astimezone(ZoneInfo(zone)).isoformat()


def send(zone: str, schedule: Schedule, earliest: datetime, *, seed: int = 0) -> datetime:
    timetable = timetable_for(schedule, zone, None, NO_HOLIDAYS)
    return next_send_time(earliest, timetable, seed=seed)


def send_wall(zone: str, schedule: Schedule, earliest: datetime) -> str:
    return wall(send(zone, schedule, earliest), zone)


def assert_wall_time_exists(moment: datetime, zone: str) -> None:
    """The local wall time of ``moment`` maps back to ``moment`` (it is not in a gap)."""
    shown = moment.astimezone(ZoneInfo(zone))
    naive = shown.replace(tzinfo=None)
    back = [naive.replace(tzinfo=ZoneInfo(zone), fold=f).astimezone(UTC) for f in (0, 1)]
    assert moment.astimezone(UTC) in back, f"{shown} is not a real local time in {zone}"
    again = datetime.fromtimestamp(moment.timestamp(), ZoneInfo(zone)).replace(tzinfo=None)
    assert again == naive


def wall_minutes_on(moment: datetime, zone: str, day: date) -> int:
    """Local wall-clock minutes of ``moment`` counted from midnight of ``day``."""
    shown = moment.astimezone(ZoneInfo(zone))
    return (shown.date() - day).days * 1440 + shown.hour * 60 + shown.minute


# -- the transitions -------------------------------------------------------------------
@dataclass(frozen=True)
class Transition:
    zone: str
    day: str  # local date of the change
    first: str  # wall clock where the change happens (before it)
    second: str  # wall clock right after it
    before: str  # UTC offset before
    after: str  # UTC offset after

    @property
    def id(self) -> str:
        return f"{self.zone.split('/')[-1]}-{self.day}"

    def at(self, clock: str, offset: str, day: str | None = None) -> str:
        return f"{day or self.day}T{clock}:00{offset}"

    def next_day(self) -> str:
        return (date.fromisoformat(self.day) + timedelta(days=1)).isoformat()

    def previous_day(self) -> str:
        return (date.fromisoformat(self.day) - timedelta(days=1)).isoformat()


def clock(total: int) -> str:
    total %= 1440
    return f"{total // 60:02d}:{total % 60:02d}"


SPRING = [
    Transition(NEW_YORK, "2026-03-08", "02:00", "03:00", "-05:00", "-04:00"),
    Transition(NEW_YORK, "2027-03-14", "02:00", "03:00", "-05:00", "-04:00"),
    Transition(LONDON, "2026-03-29", "01:00", "02:00", "+00:00", "+01:00"),
    Transition(LONDON, "2027-03-28", "01:00", "02:00", "+00:00", "+01:00"),
    Transition(SYDNEY, "2026-10-04", "02:00", "03:00", "+10:00", "+11:00"),
    Transition(SYDNEY, "2027-10-03", "02:00", "03:00", "+10:00", "+11:00"),
    Transition(CHATHAM, "2026-09-27", "02:45", "03:45", "+12:45", "+13:45"),
    Transition(CHATHAM, "2027-09-26", "02:45", "03:45", "+12:45", "+13:45"),
]
AUTUMN = [
    Transition(NEW_YORK, "2026-11-01", "02:00", "01:00", "-04:00", "-05:00"),
    Transition(NEW_YORK, "2027-11-07", "02:00", "01:00", "-04:00", "-05:00"),
    Transition(LONDON, "2026-10-25", "02:00", "01:00", "+01:00", "+00:00"),
    Transition(LONDON, "2027-10-31", "02:00", "01:00", "+01:00", "+00:00"),
    Transition(SYDNEY, "2026-04-05", "03:00", "02:00", "+11:00", "+10:00"),
    Transition(SYDNEY, "2027-04-04", "03:00", "02:00", "+11:00", "+10:00"),
    Transition(CHATHAM, "2026-04-05", "03:45", "02:45", "+13:45", "+12:45"),
    Transition(CHATHAM, "2027-04-04", "03:45", "02:45", "+13:45", "+12:45"),
]
spring = pytest.mark.parametrize("t", [pytest.param(t, id=t.id) for t in SPRING])
autumn = pytest.mark.parametrize("t", [pytest.param(t, id=t.id) for t in AUTUMN])


def test_the_transition_table_matches_tzdata() -> None:
    for t in SPRING + AUTUMN:
        jump = datetime.fromisoformat(t.at(t.first, t.before))  # the wall clock reaching ``first``
        just_before = jump - timedelta(seconds=1)
        assert just_before.astimezone(ZoneInfo(t.zone)).isoformat()[-6:] == t.before, t
        assert wall(jump, t.zone) == t.at(t.second, t.after), t


# -- spring forward: the skipped hour ----------------------------------------------------
@spring
def test_a_window_opening_inside_the_skipped_hour_opens_when_the_clocks_jump(
    t: Transition,
) -> None:
    gap_start = minutes(t.first)
    schedule = every_day(f"{clock(gap_start + 30)}-{clock(gap_start + 120)}")
    result = send(t.zone, schedule, local(t.zone, f"{t.day} 00:00"))
    assert wall(result, t.zone) == t.at(t.second, t.after)
    assert_wall_time_exists(result, t.zone)


@spring
def test_a_window_straddling_the_skipped_hour_loses_it_and_never_yields_a_missing_time(
    t: Transition,
) -> None:
    gap_start = minutes(t.first)
    opens, closes = gap_start - 30, gap_start + 90  # e.g. 01:30-03:30 around a 02:00-03:00 gap
    schedule = every_day(f"{clock(opens)}-{clock(closes)}")
    jump = datetime.fromisoformat(t.at(t.second, t.after)).astimezone(UTC)
    assert send(t.zone, schedule, jump - timedelta(seconds=1)) == jump - timedelta(seconds=1)
    assert send(t.zone, schedule, jump) == jump
    day = date.fromisoformat(t.day)
    open_minutes = 0
    for step in range(4 * 60):  # every real minute from two hours before the jump
        earliest = jump + timedelta(minutes=step - 120)
        result = send(t.zone, schedule, earliest)
        assert_wall_time_exists(result, t.zone)
        on_day = wall_minutes_on(result, t.zone, day)
        assert opens <= on_day < closes or opens <= on_day - 1440 < closes, (
            f"{wall(earliest, t.zone)} -> {wall(result, t.zone)} is outside "
            f"{clock(opens)}-{clock(closes)}"
        )
        open_minutes += result == earliest
    assert open_minutes == 60  # two wall-clock hours, one of which never happens


@spring
def test_a_window_whose_end_is_in_the_skipped_hour_closes_when_the_clocks_jump(
    t: Transition,
) -> None:
    gap_start = minutes(t.first)
    opens = clock(gap_start - 60)
    schedule = every_day(f"{opens}-{clock(gap_start + 30)}")
    jump = datetime.fromisoformat(t.at(t.second, t.after))
    last_second = jump - timedelta(seconds=1)
    assert send(t.zone, schedule, last_second) == last_second
    assert send_wall(t.zone, schedule, jump) == t.at(opens, t.after, t.next_day())


@spring
def test_a_window_entirely_inside_the_skipped_hour_does_not_open_that_day(
    t: Transition,
) -> None:
    gap_start = minutes(t.first)
    opens = clock(gap_start + 15)
    schedule = every_day(f"{opens}-{clock(gap_start + 45)}")
    result = send(t.zone, schedule, local(t.zone, f"{t.day} 00:00"))
    assert wall(result, t.zone) == t.at(opens, t.after, t.next_day())


@spring
def test_a_send_the_day_before_spring_forward_keeps_its_local_time_the_day_after(
    t: Transition,
) -> None:
    schedule = every_day("08:00-10:00")
    timetable = timetable_for(schedule, t.zone, None, NO_HOLIDAYS)
    first = next_send_time(local(t.zone, f"{t.previous_day()} 07:00"), timetable)
    second = next_send_time(due_after_wait(first, Wait(1, WaitUnit.DAYS), timetable), timetable)
    third = next_send_time(due_after_wait(second, Wait(1, WaitUnit.DAYS), timetable), timetable)
    assert wall(first, t.zone) == t.at("08:00", t.before, t.previous_day())
    assert wall(second, t.zone) == t.at("08:00", t.after)
    assert wall(third, t.zone) == t.at("08:00", t.after, t.next_day())
    assert second - first == timedelta(hours=23)
    assert third - second == timedelta(hours=24)


@dataclass(frozen=True)
class Night:
    zone: str
    span: str
    opens: str  # local ISO time the window opens on the night of the change
    closes: str  # the first instant it is closed again
    reopens: str  # the next night's opening
    real_hours: float  # how long it is open in real time


SPRING_NIGHTS = [
    Night(
        NEW_YORK,
        "22:00-02:00",
        "2026-03-07T22:00:00-05:00",
        "2026-03-08T03:00:00-04:00",
        "2026-03-08T22:00:00-04:00",
        4,
    ),
    Night(
        NEW_YORK,
        "22:00-02:00",
        "2027-03-13T22:00:00-05:00",
        "2027-03-14T03:00:00-04:00",
        "2027-03-14T22:00:00-04:00",
        4,
    ),
    Night(
        LONDON,
        "22:00-02:00",
        "2026-03-28T22:00:00+00:00",
        "2026-03-29T02:00:00+01:00",
        "2026-03-29T22:00:00+01:00",
        3,
    ),
    Night(
        LONDON,
        "22:00-02:00",
        "2027-03-27T22:00:00+00:00",
        "2027-03-28T02:00:00+01:00",
        "2027-03-28T22:00:00+01:00",
        3,
    ),
    Night(
        SYDNEY,
        "22:00-02:00",
        "2026-10-03T22:00:00+10:00",
        "2026-10-04T03:00:00+11:00",
        "2026-10-04T22:00:00+11:00",
        4,
    ),
    Night(
        SYDNEY,
        "22:00-02:00",
        "2027-10-02T22:00:00+10:00",
        "2027-10-03T03:00:00+11:00",
        "2027-10-03T22:00:00+11:00",
        4,
    ),
    Night(
        CHATHAM,
        "22:00-03:00",
        "2026-09-26T22:00:00+12:45",
        "2026-09-27T03:45:00+13:45",
        "2026-09-27T22:00:00+13:45",
        4.75,
    ),
    Night(
        CHATHAM,
        "22:00-03:00",
        "2027-09-25T22:00:00+12:45",
        "2027-09-26T03:45:00+13:45",
        "2027-09-26T22:00:00+13:45",
        4.75,
    ),
]


@pytest.mark.parametrize(
    "n", [pytest.param(n, id=f"{n.zone.split('/')[-1]}-{n.opens[:10]}") for n in SPRING_NIGHTS]
)
def test_a_window_crossing_midnight_on_the_spring_forward_night_loses_the_skipped_hour(
    n: Night,
) -> None:
    schedule = every_day(n.span)
    opens = datetime.fromisoformat(n.opens)
    closes = datetime.fromisoformat(n.closes)
    assert send_wall(n.zone, schedule, opens - timedelta(hours=1)) == n.opens
    assert send(n.zone, schedule, closes - timedelta(seconds=1)) == closes - timedelta(seconds=1)
    assert send_wall(n.zone, schedule, closes) == n.reopens
    assert closes - opens == timedelta(hours=n.real_hours)


# -- fall back: the repeated hour --------------------------------------------------------
def repeated(t: Transition) -> tuple[int, int]:
    """Wall-clock minutes [start, end) of the hour that is lived twice."""
    return minutes(t.second), minutes(t.first)


@autumn
def test_a_window_spanning_the_repeated_hour_is_open_during_its_first_pass(
    t: Transition,
) -> None:
    low, high = repeated(t)
    schedule = every_day(f"{clock(low - 30)}-{clock(high + 30)}")
    earliest = local(t.zone, f"{t.day} {clock(low + 15)}", fold=0)
    assert wall(earliest, t.zone) == t.at(clock(low + 15), t.before)
    assert send(t.zone, schedule, earliest) == earliest


@autumn
def test_a_window_spanning_the_repeated_hour_does_not_open_it_a_second_time(
    t: Transition,
) -> None:
    low, high = repeated(t)
    schedule = every_day(f"{clock(low - 30)}-{clock(high + 30)}")
    second_pass = local(t.zone, f"{t.day} {clock(low + 15)}", fold=1)
    assert wall(second_pass, t.zone) == t.at(clock(low + 15), t.after)
    # The repeated wall times were already open once: the window resumes at the
    # first wall-clock time it has not yet lived, the end of the repeated hour.
    assert send_wall(t.zone, schedule, second_pass) == t.at(clock(high), t.after)


@autumn
def test_a_window_spanning_the_repeated_hour_is_open_for_its_wall_clock_length_only(
    t: Transition,
) -> None:
    low, high = repeated(t)
    schedule = every_day(f"{clock(low - 30)}-{clock(high + 30)}")  # two wall-clock hours
    start = local(t.zone, f"{t.day} {clock(low - 30)}")
    open_seconds = 0
    for step in range(0, 4 * 3600, 60):  # every minute of the next four real hours
        moment = start + timedelta(seconds=step)
        moment = datetime.fromtimestamp(moment.timestamp(), UTC)
        if send(t.zone, schedule, moment) == moment:
            open_seconds += 60
    assert open_seconds == 2 * 3600


@autumn
def test_a_window_partly_inside_the_repeated_hour_never_yields_a_time_outside_its_range(
    t: Transition,
) -> None:
    low, high = repeated(t)
    opens, closes = low + 30, high + 30  # e.g. 01:30-02:30 around a 01:00-02:00 repeat
    schedule = every_day(f"{clock(opens)}-{clock(closes)}")
    day = date.fromisoformat(t.day)
    start = local(t.zone, f"{t.day} {clock(low - 60)}")
    for step in range(0, 4 * 3600, 300):  # every five real minutes through the night
        earliest = datetime.fromtimestamp((start + timedelta(seconds=step)).timestamp(), UTC)
        result = send(t.zone, schedule, earliest)
        assert result >= earliest
        on_day = wall_minutes_on(result, t.zone, day)
        on_next = on_day - 1440
        assert opens <= on_day < closes or opens <= on_next < closes, (
            f"{wall(earliest, t.zone)} -> {wall(result, t.zone)} is outside "
            f"{clock(opens)}-{clock(closes)}"
        )


@autumn
def test_a_window_inside_the_repeated_hour_opens_only_on_the_first_pass(t: Transition) -> None:
    low, _ = repeated(t)
    schedule = every_day(f"{clock(low)}-{clock(low + 30)}")
    first_pass_over = local(t.zone, f"{t.day} {clock(low + 30)}", fold=0)
    second_pass = local(t.zone, f"{t.day} {clock(low + 10)}", fold=1)
    tomorrow = t.at(clock(low), t.after, t.next_day())
    assert send_wall(t.zone, schedule, first_pass_over) == tomorrow
    assert send_wall(t.zone, schedule, second_pass) == tomorrow


@autumn
def test_whether_a_repeated_wall_time_is_open_does_not_depend_on_where_the_window_ends(
    t: Transition,
) -> None:
    low, high = repeated(t)
    second_pass = local(t.zone, f"{t.day} {clock(low + 10)}", fold=1)
    ends_inside = every_day(f"{clock(low)}-{clock(low + 30)}")
    ends_after = every_day(f"{clock(low)}-{clock(high)}")
    open_when_ending_inside = send(t.zone, ends_inside, second_pass) == second_pass
    open_when_ending_after = send(t.zone, ends_after, second_pass) == second_pass
    assert open_when_ending_inside == open_when_ending_after, (
        f"{wall(second_pass, t.zone)}: open in {clock(low)}-{clock(low + 30)}? "
        f"{open_when_ending_inside}; open in {clock(low)}-{clock(high)}? {open_when_ending_after}"
    )


@autumn
def test_a_send_the_day_before_fall_back_keeps_its_local_time_the_day_after(
    t: Transition,
) -> None:
    schedule = every_day("08:00-10:00")
    timetable = timetable_for(schedule, t.zone, None, NO_HOLIDAYS)
    first = next_send_time(local(t.zone, f"{t.previous_day()} 07:00"), timetable)
    second = next_send_time(due_after_wait(first, Wait(1, WaitUnit.DAYS), timetable), timetable)
    third = next_send_time(due_after_wait(second, Wait(1, WaitUnit.DAYS), timetable), timetable)
    assert wall(first, t.zone) == t.at("08:00", t.before, t.previous_day())
    assert wall(second, t.zone) == t.at("08:00", t.after)
    assert wall(third, t.zone) == t.at("08:00", t.after, t.next_day())
    assert second - first == timedelta(hours=25)
    assert third - second == timedelta(hours=24)


@dataclass(frozen=True)
class FoldNight:
    zone: str
    span: str
    opens: str  # the window's opening on the evening before the change
    first_pass: str  # a moment in the first pass of the repeated hour: open
    second_pass: str  # the same wall time in the second pass
    after_second_pass: str  # what a send asked for at ``second_pass`` gets
    real_hours: float  # how long the window is open in real time that night


AUTUMN_NIGHTS = [
    FoldNight(
        NEW_YORK,
        "22:00-02:00",
        "2026-10-31T22:00:00-04:00",
        "2026-11-01T01:30:00-04:00",
        "2026-11-01T01:30:00-05:00",
        "2026-11-01T22:00:00-05:00",
        4,
    ),
    FoldNight(
        NEW_YORK,
        "22:00-02:00",
        "2027-11-06T22:00:00-04:00",
        "2027-11-07T01:30:00-04:00",
        "2027-11-07T01:30:00-05:00",
        "2027-11-07T22:00:00-05:00",
        4,
    ),
    FoldNight(
        LONDON,
        "22:00-02:00",
        "2026-10-24T22:00:00+01:00",
        "2026-10-25T01:30:00+01:00",
        "2026-10-25T01:30:00+00:00",
        "2026-10-25T22:00:00+00:00",
        4,
    ),
    FoldNight(
        LONDON,
        "22:00-02:00",
        "2027-10-30T22:00:00+01:00",
        "2027-10-31T01:30:00+01:00",
        "2027-10-31T01:30:00+00:00",
        "2027-10-31T22:00:00+00:00",
        4,
    ),
    FoldNight(
        SYDNEY,
        "22:00-03:30",
        "2026-04-04T22:00:00+11:00",
        "2026-04-05T02:30:00+11:00",
        "2026-04-05T02:30:00+10:00",
        "2026-04-05T03:00:00+10:00",
        5.5,
    ),
    FoldNight(
        SYDNEY,
        "22:00-03:30",
        "2027-04-03T22:00:00+11:00",
        "2027-04-04T02:30:00+11:00",
        "2027-04-04T02:30:00+10:00",
        "2027-04-04T03:00:00+10:00",
        5.5,
    ),
    FoldNight(
        CHATHAM,
        "22:00-04:00",
        "2026-04-04T22:00:00+13:45",
        "2026-04-05T03:00:00+13:45",
        "2026-04-05T03:00:00+12:45",
        "2026-04-05T03:45:00+12:45",
        6,
    ),
    FoldNight(
        CHATHAM,
        "22:00-04:00",
        "2027-04-03T22:00:00+13:45",
        "2027-04-04T03:00:00+13:45",
        "2027-04-04T03:00:00+12:45",
        "2027-04-04T03:45:00+12:45",
        6,
    ),
]
fold_nights = pytest.mark.parametrize(
    "n", [pytest.param(n, id=f"{n.zone.split('/')[-1]}-{n.opens[:10]}") for n in AUTUMN_NIGHTS]
)


@fold_nights
def test_a_window_crossing_midnight_on_the_fall_back_night_opens_and_runs_its_first_pass(
    n: FoldNight,
) -> None:
    schedule = every_day(n.span)
    opens = datetime.fromisoformat(n.opens)
    first_pass = datetime.fromisoformat(n.first_pass)
    assert send_wall(n.zone, schedule, opens - timedelta(hours=1)) == n.opens
    assert send(n.zone, schedule, first_pass) == first_pass


@fold_nights
def test_a_window_crossing_midnight_on_the_fall_back_night_does_not_repeat_the_hour(
    n: FoldNight,
) -> None:
    schedule = every_day(n.span)
    second_pass = datetime.fromisoformat(n.second_pass)
    assert send_wall(n.zone, schedule, second_pass) == n.after_second_pass


@fold_nights
def test_a_window_crossing_midnight_on_the_fall_back_night_is_open_for_its_wall_length(
    n: FoldNight,
) -> None:
    schedule = every_day(n.span)
    opens = datetime.fromisoformat(n.opens)
    open_minutes = sum(
        1
        for step in range(0, 8 * 60)
        if send(n.zone, schedule, opens + timedelta(minutes=step))
        == opens + timedelta(minutes=step)
    )
    assert open_minutes == n.real_hours * 60


# -- zones without DST: half- and quarter-hour offsets -----------------------------------
@pytest.mark.parametrize(
    ("zone", "earliest_utc", "expected"),
    [
        (KOLKATA, "2026-03-09T00:00:00+00:00", "2026-03-09T09:00:00+05:30"),
        (KATHMANDU, "2026-03-09T00:00:00+00:00", "2026-03-09T09:00:00+05:45"),
        (CHATHAM, "2026-06-09T00:00:00+00:00", "2026-06-10T09:00:00+12:45"),
        (CHATHAM, "2026-12-09T00:00:00+00:00", "2026-12-10T09:00:00+13:45"),
    ],
)
def test_fractional_offsets_place_the_window_at_local_wall_time(
    zone: str, earliest_utc: str, expected: str
) -> None:
    result = send(zone, every_day("09:00-10:00"), datetime.fromisoformat(earliest_utc))
    assert wall(result, zone) == expected


@pytest.mark.parametrize(("zone", "offset"), [(KOLKATA, "+05:30"), (KATHMANDU, "+05:45")])
@pytest.mark.parametrize("night", ["2026-03-28", "2026-10-24", "2026-10-31", "2027-03-27"])
def test_a_window_crossing_midnight_in_a_zone_without_dst_is_unaffected_by_others_changes(
    zone: str, offset: str, night: str
) -> None:
    schedule = every_day("22:00-02:00")
    next_day = (date.fromisoformat(night) + timedelta(days=1)).isoformat()
    opens = send(zone, schedule, local(zone, f"{night} 21:00"))
    assert wall(opens, zone) == f"{night}T22:00:00{offset}"
    late = local(zone, f"{next_day} 01:59")
    assert send(zone, schedule, late) == late
    closed = send(zone, schedule, local(zone, f"{next_day} 02:00"))
    assert wall(closed, zone) == f"{next_day}T22:00:00{offset}"
    assert closed - opens == timedelta(hours=24)


@pytest.mark.parametrize(("zone", "offset"), [(KOLKATA, "+05:30"), (KATHMANDU, "+05:45")])
def test_a_send_in_a_zone_without_dst_keeps_its_local_time_every_day(
    zone: str, offset: str
) -> None:
    schedule = every_day("08:00-10:00")
    timetable = timetable_for(schedule, zone, None, NO_HOLIDAYS)
    moment = next_send_time(local(zone, "2026-03-27 07:00"), timetable)
    for _ in range(5):  # across the nights London, Sydney and New York change
        following = next_send_time(
            due_after_wait(moment, Wait(1, WaitUnit.DAYS), timetable), timetable
        )
        assert following - moment == timedelta(hours=24)
        assert wall(following, zone).endswith(f"T08:00:00{offset}")
        moment = following


# -- waits across the transitions --------------------------------------------------------
def test_an_hour_wait_across_spring_forward_is_measured_in_real_hours() -> None:
    timetable = timetable_for(every_day("00:00-23:59"), NEW_YORK, None, NO_HOLIDAYS)
    previous = local(NEW_YORK, "2026-03-08 00:30")
    due = due_after_wait(previous, Wait(3, WaitUnit.HOURS), timetable)
    assert wall(due, NEW_YORK) == "2026-03-08T04:30:00-04:00"


def test_an_hour_wait_across_fall_back_is_measured_in_real_hours() -> None:
    timetable = timetable_for(every_day("00:00-23:59"), LONDON, None, NO_HOLIDAYS)
    previous = local(LONDON, "2026-10-25 00:30")
    due = due_after_wait(previous, Wait(3, WaitUnit.HOURS), timetable)
    assert wall(due, LONDON) == "2026-10-25T02:30:00+00:00"


@pytest.mark.parametrize(
    ("zone", "previous", "expected"),
    [
        (NEW_YORK, "2026-03-07 12:00", "2026-03-08T00:00:00-05:00"),
        (NEW_YORK, "2026-10-31 12:00", "2026-11-01T00:00:00-04:00"),
        (NEW_YORK, "2026-11-01 12:00", "2026-11-02T00:00:00-05:00"),
        (SYDNEY, "2026-10-03 12:00", "2026-10-04T00:00:00+10:00"),
        (SYDNEY, "2026-10-04 12:00", "2026-10-05T00:00:00+11:00"),
        (CHATHAM, "2026-09-27 12:00", "2026-09-28T00:00:00+13:45"),
        # Santiago springs forward at midnight: 2026-09-06 has no 00:00.
        (SANTIAGO, "2026-09-05 12:00", "2026-09-06T01:00:00-03:00"),
    ],
)
def test_a_day_wait_lands_at_the_first_instant_of_the_local_day(
    zone: str, previous: str, expected: str
) -> None:
    timetable = timetable_for(every_day("09:00-10:00"), zone, None, NO_HOLIDAYS)
    due = due_after_wait(local(zone, previous), Wait(1, WaitUnit.DAYS), timetable)
    assert wall(due, zone) == expected
    assert_wall_time_exists(due, zone)
