"""Enrolling: where the first step lands, and the engine's refusal of naive times."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sequencer.engine import Status, advance, events, start
from sequencer.engine.actions import ScheduleAt
from sequencer.errors import EngineError
from tests.unit.engine_helpers import NEW_YORK, definition, enroll, in_zone, local, wall

WEEKDAYS = definition("""
    name: weekdays
    schedule:
      timezone: America/New_York
      windows: {mon-fri: ["08:00-10:00", "15:00-16:00"]}
      holidays: none
    steps:
      - {id: intro, type: email, template: intro.j2, subject: Hello}
      - {id: bump, type: email, wait: 2 days, thread: intro, template: bump.j2}
""")

ALWAYS_OPEN = definition("""
    name: always-open
    schedule:
      windows: {daily: ["00:00-24:00"]}
      holidays: none
    steps:
      - {id: intro, type: email, wait: 15 minutes, template: intro.j2, subject: Hello}
""")


def test_starting_schedules_the_first_step_in_the_first_window_after_enrollment() -> None:
    friday_evening = local("2027-04-09", "16:30")  # after Friday's last window

    decision = enroll(WEEKDAYS, friday_evening)

    state = decision.state
    assert state.status is Status.ACTIVE
    assert state.step == "intro"
    assert state.waiting_on is None
    assert state.due_at is not None
    assert in_zone(state.due_at) == wall("2027-04-12 08:00")  # Monday's first window
    assert decision.actions == (ScheduleAt("intro", state.due_at),)


def test_starting_between_two_windows_waits_for_the_next_window_of_the_same_day() -> None:
    decision = enroll(WEEKDAYS, local("2027-04-06", "11:00"))

    assert decision.state.due_at is not None
    assert in_zone(decision.state.due_at) == wall("2027-04-06 15:00")


def test_starting_inside_a_window_makes_the_first_step_due_at_once() -> None:
    now = local("2027-04-06", "09:15")

    decision = enroll(WEEKDAYS, now)

    assert decision.state.due_at == now


def test_the_first_window_is_in_the_prospects_own_time_zone() -> None:
    now = local("2027-04-06", "11:00")  # 17:00 in Berlin: after Berlin's windows

    decision = enroll(WEEKDAYS, now, timezone="Europe/Berlin")

    due = decision.state.due_at
    assert due is not None
    assert in_zone(due, ZoneInfo("Europe/Berlin")) == wall("2027-04-07 08:00")


def test_a_first_step_with_a_wait_of_minutes_in_an_always_open_window_is_due_that_much_later(
) -> None:
    now = local("2027-04-06", "23:50")

    decision = enroll(ALWAYS_OPEN, now, timezone="UTC")

    assert decision.state.due_at == now + timedelta(minutes=15)
    assert decision.actions == (ScheduleAt("intro", now + timedelta(minutes=15)),)


def test_advance_refuses_a_naive_now() -> None:
    state = enroll(WEEKDAYS, local("2027-04-06", "09:15")).state

    with pytest.raises(EngineError, match="timezone-aware"):
        advance(WEEKDAYS, state, events.Due(), now=datetime(2027, 4, 6, 9, 15))


def test_start_refuses_a_naive_now_with_an_engine_error() -> None:
    with pytest.raises(EngineError):
        start(WEEKDAYS, timezone=NEW_YORK, country=None, seed=1, now=datetime(2027, 4, 6, 9, 15))
