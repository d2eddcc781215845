"""Send-time rules away from DST: weekdays, holidays, waits, jitter, and blocked steps.

Times are asserted as local ISO wall-clock times with their offset. The
holiday calendar is the real adapter (``PublicHolidays`` over ``holidays``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sequencer.calendars import PublicHolidays
from sequencer.definition.model import (
    Definition,
    Schedule,
    Step,
    StepType,
    Variant,
    Wait,
    WaitUnit,
    Window,
)
from sequencer.engine import advance, start
from sequencer.engine.actions import ScheduleAt, SendEmail
from sequencer.engine.events import Due, EmailSent
from sequencer.timing import due_after_wait, next_send_time, timetable_for
from sequencer.timing.timetable import Timetable

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
CALENDAR = PublicHolidays()
MORNING_AND_AFTERNOON = (Window(8 * 60, 10 * 60), Window(15 * 60, 16 * 60))
WEEKDAYS_ONLY = (MORNING_AND_AFTERNOON,) * 5 + ((),) * 2


# -- helpers ---------------------------------------------------------------------------
def schedule(
    windows: tuple[tuple[Window, ...], ...] = WEEKDAYS_ONLY, **settings: object
) -> Schedule:
    return Schedule(windows=windows, **settings)  # type: ignore[arg-type]


def local(zone: str, text: str) -> datetime:
    """A local wall time (no DST ambiguity in this file) as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def wall(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).isoformat()


def table(plan: Schedule, zone: str = NEW_YORK, country: str | None = "US") -> Timetable:
    return timetable_for(plan, zone, country, CALENDAR)


def send_wall(
    plan: Schedule,
    earliest: str,
    *,
    zone: str = NEW_YORK,
    country: str | None = "US",
    seed: int = 0,
) -> str:
    result = next_send_time(local(zone, earliest), table(plan, zone, country), seed=seed)
    return wall(result, zone)


def due_wall(
    plan: Schedule, previous: str, wait: Wait, *, zone: str = NEW_YORK, country: str | None = "US"
) -> str:
    return wall(due_after_wait(local(zone, previous), wait, table(plan, zone, country)), zone)


# -- weekdays ----------------------------------------------------------------------------
def test_a_send_asked_for_after_fridays_last_window_goes_out_on_monday_morning() -> None:
    assert send_wall(schedule(), "2026-09-11 16:30") == "2026-09-14T08:00:00-04:00"


@pytest.mark.parametrize("earliest", ["2026-09-12 09:00", "2026-09-13 15:30"])
def test_a_send_asked_for_on_a_weekend_goes_out_on_monday_morning(earliest: str) -> None:
    assert send_wall(schedule(), earliest) == "2026-09-14T08:00:00-04:00"


def test_a_weekday_without_windows_is_skipped() -> None:
    tuesday_thursday = ((), MORNING_AND_AFTERNOON, (), MORNING_AND_AFTERNOON, (), (), ())
    plan = schedule(tuesday_thursday)
    assert send_wall(plan, "2026-09-16 08:30") == "2026-09-17T08:00:00-04:00"  # Wed -> Thu
    assert send_wall(plan, "2026-09-17 16:00") == "2026-09-22T08:00:00-04:00"  # Thu -> Tue


def test_a_weekend_window_opens_when_the_schedule_has_one() -> None:
    saturday = (Window(10 * 60, 12 * 60),)
    plan = schedule((MORNING_AND_AFTERNOON,) * 5 + (saturday, ()))
    assert send_wall(plan, "2026-09-11 16:30") == "2026-09-12T10:00:00-04:00"


def test_a_send_inside_a_window_goes_out_at_once_and_between_windows_at_the_next() -> None:
    plan = schedule()
    assert send_wall(plan, "2026-09-14 09:59") == "2026-09-14T09:59:00-04:00"
    assert send_wall(plan, "2026-09-14 10:00") == "2026-09-14T15:00:00-04:00"
    assert send_wall(plan, "2026-09-14 07:00") == "2026-09-14T08:00:00-04:00"


# -- holidays ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("zone", "earliest", "country", "expected"),
    [
        # Independence Day, Tuesday 2028-07-04.
        pytest.param(
            NEW_YORK,
            "2028-07-03 16:30",
            "US",
            "2028-07-05T08:00:00-04:00",
            id="july-4th-us-prospect",
        ),
        pytest.param(
            NEW_YORK,
            "2028-07-03 16:30",
            "GB",
            "2028-07-04T08:00:00-04:00",
            id="july-4th-british-prospect",
        ),
        # Thanksgiving, Thursday 2026-11-26 (Canada's is in October).
        pytest.param(
            NEW_YORK,
            "2026-11-25 16:30",
            "US",
            "2026-11-27T08:00:00-05:00",
            id="thanksgiving-us-prospect",
        ),
        pytest.param(
            NEW_YORK,
            "2026-11-25 16:30",
            "CA",
            "2026-11-26T08:00:00-05:00",
            id="thanksgiving-canadian-prospect",
        ),
        # Christmas Monday 2028-12-25 and Boxing Day Tuesday 2028-12-26 in the UK;
        # in the US only Christmas is a holiday.
        pytest.param(
            LONDON,
            "2028-12-22 16:30",
            "GB",
            "2028-12-27T08:00:00+00:00",
            id="boxing-day-british-prospect",
        ),
        pytest.param(
            LONDON,
            "2028-12-22 16:30",
            "US",
            "2028-12-26T08:00:00+00:00",
            id="boxing-day-us-prospect",
        ),
    ],
)
def test_holidays_of_the_prospects_country_are_skipped_and_only_those(
    zone: str, earliest: str, country: str, expected: str
) -> None:
    assert send_wall(schedule(), earliest, zone=zone, country=country) == expected


def test_holidays_none_sends_on_public_holidays() -> None:
    plan = schedule(holidays=None)
    assert send_wall(plan, "2028-07-03 16:30", country="US") == "2028-07-04T08:00:00-04:00"
    assert send_wall(plan, "2026-11-25 16:30", country="US") == "2026-11-26T08:00:00-05:00"


def test_a_fixed_holiday_country_applies_to_every_prospect() -> None:
    plan = schedule(holidays="DE")
    # German Unity Day, Tuesday 2028-10-03, is skipped for prospects anywhere ...
    for country in ("US", "GB", "DE", None):
        assert (
            send_wall(plan, "2028-10-02 16:30", country=country) == "2028-10-04T08:00:00-04:00"
        ), country
    # ... and the prospect's own holidays no longer count.
    assert send_wall(plan, "2028-07-03 16:30", country="US") == "2028-07-04T08:00:00-04:00"


def test_a_prospect_without_a_country_gets_the_schedules_default_country() -> None:
    with_default = schedule(default_country="US")
    without_default = schedule()
    assert send_wall(with_default, "2028-07-03 16:30", country=None) == "2028-07-05T08:00:00-04:00"
    assert (
        send_wall(without_default, "2028-07-03 16:30", country=None) == "2028-07-04T08:00:00-04:00"
    )
    assert send_wall(with_default, "2028-07-03 16:30", country="GB") == "2028-07-04T08:00:00-04:00"


def test_a_holiday_closes_the_windows_that_open_on_it_including_after_midnight() -> None:
    late = schedule(((Window(22 * 60, 26 * 60),),) * 7)  # 22:00-02:00 every day
    # The window opening Monday July 3rd runs into July 4th: still open.
    assert send_wall(late, "2028-07-04 01:00") == "2028-07-04T01:00:00-04:00"
    # The window opening on July 4th is closed, also after midnight.
    assert send_wall(late, "2028-07-04 21:00") == "2028-07-05T22:00:00-04:00"
    assert send_wall(late, "2028-07-05 01:00") == "2028-07-05T22:00:00-04:00"
    # For a prospect in another country it is open.
    assert send_wall(late, "2028-07-05 01:00", country="GB") == "2028-07-05T01:00:00-04:00"


# -- business-day waits ------------------------------------------------------------------
TWO_BUSINESS_DAYS = Wait(2, WaitUnit.BUSINESS_DAYS)


def test_two_business_days_from_thursday_is_monday() -> None:
    plan = schedule()
    due = due_wall(plan, "2026-09-10 09:00", TWO_BUSINESS_DAYS)
    assert due == "2026-09-14T00:00:00-04:00"
    assert send_wall(plan, "2026-09-14 00:00") == "2026-09-14T08:00:00-04:00"


def test_two_business_days_from_the_friday_before_a_monday_holiday_is_wednesday() -> None:
    # Labor Day is Monday 2026-09-07 in the US, a working day in the UK.
    plan = schedule()
    assert (
        due_wall(plan, "2026-09-04 09:00", TWO_BUSINESS_DAYS, country="US")
        == "2026-09-09T00:00:00-04:00"
    )
    assert (
        due_wall(plan, "2026-09-04 09:00", TWO_BUSINESS_DAYS, country="GB")
        == "2026-09-08T00:00:00-04:00"
    )


def test_business_days_follow_the_prospects_calendar_not_the_senders() -> None:
    # The UK's Early May bank holiday is Monday 2026-05-04, a working day in the US.
    plan = schedule()
    assert (
        due_wall(plan, "2026-05-01 09:00", TWO_BUSINESS_DAYS, zone=LONDON, country="GB")
        == "2026-05-06T00:00:00+01:00"
    )
    assert (
        due_wall(plan, "2026-05-01 09:00", TWO_BUSINESS_DAYS, zone=LONDON, country="US")
        == "2026-05-05T00:00:00+01:00"
    )


def test_business_days_ignore_holidays_when_the_schedule_has_none() -> None:
    plan = schedule(holidays=None)
    assert due_wall(plan, "2026-09-04 09:00", TWO_BUSINESS_DAYS) == "2026-09-08T00:00:00-04:00"


def test_business_days_are_counted_from_the_prospects_local_day() -> None:
    plan = schedule()
    previous = datetime(2026, 9, 11, 2, 0, tzinfo=UTC)  # Friday in UTC, Thursday 22:00 in NY
    due = due_after_wait(previous, TWO_BUSINESS_DAYS, table(plan))
    assert wall(due, NEW_YORK) == "2026-09-14T00:00:00-04:00"


def test_business_days_follow_the_schedules_business_days() -> None:
    sunday_to_thursday = schedule(business_days=frozenset({6, 0, 1, 2, 3}), holidays=None)
    assert (
        due_wall(sunday_to_thursday, "2026-09-10 09:00", TWO_BUSINESS_DAYS)
        == "2026-09-14T00:00:00-04:00"
    )  # Thu -> Sun (1) -> Mon (2)
    assert (
        due_wall(sunday_to_thursday, "2026-09-09 09:00", TWO_BUSINESS_DAYS)
        == "2026-09-13T00:00:00-04:00"
    )  # Wed -> Thu (1) -> Sun (2)


# -- calendar-day and hour waits ---------------------------------------------------------
def test_a_day_wait_lands_at_local_start_of_day_and_goes_out_in_the_first_window() -> None:
    plan = schedule()
    due = due_wall(plan, "2026-09-14 15:30", Wait(3, WaitUnit.DAYS))
    assert due == "2026-09-17T00:00:00-04:00"
    assert send_wall(plan, "2026-09-17 00:00") == "2026-09-17T08:00:00-04:00"


def test_a_week_wait_lands_at_local_start_of_the_same_weekday_a_week_later() -> None:
    assert (
        due_wall(schedule(), "2026-09-15 15:30", Wait(1, WaitUnit.WEEKS))
        == "2026-09-22T00:00:00-04:00"
    )


def test_a_day_wait_landing_on_a_weekend_goes_out_on_monday() -> None:
    plan = schedule()
    previous = local(NEW_YORK, "2026-09-11 09:00")
    timetable = table(plan)
    result = next_send_time(due_after_wait(previous, Wait(1, WaitUnit.DAYS), timetable), timetable)
    assert wall(result, NEW_YORK) == "2026-09-14T08:00:00-04:00"


def test_a_day_wait_counts_from_the_prospects_local_day() -> None:
    previous = datetime(2026, 9, 15, 2, 0, tzinfo=UTC)  # Tuesday in UTC, Monday 22:00 in NY
    due = due_after_wait(previous, Wait(1, WaitUnit.DAYS), table(schedule()))
    assert wall(due, NEW_YORK) == "2026-09-15T00:00:00-04:00"


def test_hour_and_minute_waits_are_absolute() -> None:
    plan = schedule()
    timetable = table(plan)
    previous = local(NEW_YORK, "2026-09-14 09:10")
    three_hours = due_after_wait(previous, Wait(3, WaitUnit.HOURS), timetable)
    ninety_minutes = due_after_wait(previous, Wait(90, WaitUnit.MINUTES), timetable)
    assert three_hours - previous == timedelta(hours=3)
    assert ninety_minutes - previous == timedelta(minutes=90)
    assert wall(next_send_time(three_hours, timetable), NEW_YORK) == "2026-09-14T15:00:00-04:00"
    assert wall(next_send_time(ninety_minutes, timetable), NEW_YORK) == "2026-09-14T15:00:00-04:00"
    short = due_after_wait(previous, Wait(20, WaitUnit.MINUTES), timetable)
    assert wall(next_send_time(short, timetable), NEW_YORK) == "2026-09-14T09:30:00-04:00"


def test_an_hour_wait_does_not_snap_to_the_start_of_a_day() -> None:
    timetable = table(schedule())
    previous = local(NEW_YORK, "2026-09-11 09:00")  # Friday
    due = due_after_wait(previous, Wait(48, WaitUnit.HOURS), timetable)
    assert wall(due, NEW_YORK) == "2026-09-13T09:00:00-04:00"
    assert wall(next_send_time(due, timetable), NEW_YORK) == "2026-09-14T08:00:00-04:00"


def test_a_zero_wait_is_due_at_once() -> None:
    previous = local(NEW_YORK, "2026-09-14 09:10:30")
    for unit in WaitUnit:
        assert due_after_wait(previous, Wait(0, unit), table(schedule())) == previous


# -- jitter ------------------------------------------------------------------------------
TWENTY_MINUTES = 20 * 60


def jittered(
    earliest: str,
    seed: int,
    *,
    windows: tuple[tuple[Window, ...], ...] = WEEKDAYS_ONLY,
    jitter: int = TWENTY_MINUTES,
) -> datetime:
    plan = schedule(windows, jitter_seconds=jitter)
    return next_send_time(local(NEW_YORK, earliest), table(plan), seed=seed)


def test_jitter_is_the_same_for_the_same_seed() -> None:
    for seed in (0, 1, 12345, 2**63 + 7):
        first = jittered("2026-09-14 07:00", seed)
        again = jittered("2026-09-14 07:00", seed)
        rebuilt = next_send_time(
            local(NEW_YORK, "2026-09-14 07:00"),
            timetable_for(
                schedule(jitter_seconds=TWENTY_MINUTES), NEW_YORK, "US", PublicHolidays()
            ),
            seed=seed,
        )
        assert first == again == rebuilt


def test_jitter_differs_across_seeds() -> None:
    results = {jittered("2026-09-14 07:00", seed) for seed in range(100)}
    assert len(results) >= 90


def test_jitter_stays_between_the_first_admissible_moment_and_the_jitter_after_it() -> None:
    for earliest, first in (
        ("2026-09-14 07:00", "2026-09-14 08:00"),
        ("2026-09-14 08:30", "2026-09-14 08:30"),
        ("2026-09-12 12:00", "2026-09-14 08:00"),
    ):
        low = local(NEW_YORK, first)
        results = [jittered(earliest, seed) for seed in range(300)]
        assert all(low <= r <= low + timedelta(seconds=TWENTY_MINUTES) for r in results)
        assert min(results) < low + timedelta(minutes=2)
        assert max(results) > low + timedelta(minutes=18)


def test_jitter_never_pushes_a_send_past_the_end_of_its_window() -> None:
    ten_minutes = ((Window(8 * 60, 8 * 60 + 10),),) * 5 + ((),) * 2
    opens, closes = local(NEW_YORK, "2026-09-14 08:00"), local(NEW_YORK, "2026-09-14 08:10")
    for seed in range(300):
        result = jittered("2026-09-14 07:00", seed, windows=ten_minutes)
        assert opens <= result < closes
    late = local(NEW_YORK, "2026-09-14 08:05")
    for seed in range(300):
        result = jittered("2026-09-14 08:05", seed, windows=ten_minutes)
        assert late <= result < closes


def test_a_window_of_one_second_still_opens_with_jitter() -> None:
    one_second_left = local(NEW_YORK, "2026-09-14 09:59:59")
    plan = schedule(jitter_seconds=TWENTY_MINUTES)
    assert next_send_time(one_second_left, table(plan), seed=99) == one_second_left


# -- a blocked step pushes the later ones ----------------------------------------------
SEQUENCE = Definition(
    name="two-emails",
    steps=(
        Step("one", StepType.EMAIL, variants=(Variant("a", "one.j2", "Hello"),)),
        Step(
            "two",
            StepType.EMAIL,
            wait=TWO_BUSINESS_DAYS,
            thread="one",
            variants=(Variant("a", "two.j2"),),
        ),
    ),
    schedule=schedule(jitter_seconds=TWENTY_MINUTES),
)


def scheduled(actions: tuple[object, ...], step: str) -> datetime:
    (found,) = [a for a in actions if isinstance(a, ScheduleAt) and a.step == step]
    return found.at


def step_two_due(enrolled: str, step_one_sent_late_by: timedelta) -> tuple[datetime, datetime]:
    """Enroll, let step one go out late by the given time, return (sent, step two due)."""
    now = local(NEW_YORK, enrolled)
    decision = start(
        SEQUENCE, timezone=NEW_YORK, country="US", seed=4242, now=now, calendar=CALENDAR
    )
    sent_at = scheduled(decision.actions, "one") + step_one_sent_late_by
    decision = advance(SEQUENCE, decision.state, Due(), now=sent_at, calendar=CALENDAR)
    assert any(isinstance(a, SendEmail) and a.step == "one" for a in decision.actions)
    sent = EmailSent("one", "<one@example.test>", "Hello", at=sent_at)
    decision = advance(SEQUENCE, decision.state, sent, now=sent_at, calendar=CALENDAR)
    return sent_at, scheduled(decision.actions, "two")


@pytest.mark.parametrize(
    ("enrolled", "late_by", "on_time_two", "late_two"),
    [
        # Enrolled Monday: step one goes out Monday, or Wednesday when two days late.
        pytest.param(
            "2026-09-14 07:00", timedelta(days=2), "2026-09-16", "2026-09-18", id="monday"
        ),
        # Enrolled the Thursday before Labor Day: two business days late is Tuesday.
        pytest.param(
            "2026-09-03 07:00",
            timedelta(days=5),
            "2026-09-08",
            "2026-09-10",
            id="thursday-before-labor-day",
        ),
    ],
)
def test_a_step_sent_late_pushes_the_next_step_by_the_same_business_days(
    enrolled: str, late_by: timedelta, on_time_two: str, late_two: str
) -> None:
    on_time_sent, on_time_due = step_two_due(enrolled, timedelta(0))
    late_sent, late_due = step_two_due(enrolled, late_by)
    assert on_time_due.astimezone(ZoneInfo(NEW_YORK)).date().isoformat() == on_time_two
    assert late_due.astimezone(ZoneInfo(NEW_YORK)).date().isoformat() == late_two
    # Same seed, same step, same round: the same jitter, so the same local time of day.
    assert late_due - on_time_due == timedelta(days=2)
    # The later step never catches up: it still waits its full two business days.
    assert late_due > late_sent + timedelta(days=1)
    assert on_time_due > on_time_sent
