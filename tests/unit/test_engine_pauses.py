"""Pauses: out-of-office replies, manual pause and resume, and held steps."""

from __future__ import annotations

from datetime import date, timedelta

from sequencer.engine import Status, events
from sequencer.engine.actions import Exit, Pause, Resume, ScheduleAt, SendEmail
from tests.unit.engine_helpers import Driver, definition, in_zone, local, only, wall

SEQUENCE = definition("""
    name: pauses
    schedule:
      timezone: America/New_York
      windows: {mon-fri: ["08:00-10:00"]}
      holidays: none
    exit_on: [reply, bounce, unsubscribe]
    pause_on:
      out_of_office: {resume_after_return: 1 business day, default_days: 5 days}
    steps:
      - {id: intro, type: email, template: intro.j2, subject: Hello}
      - {id: bump, type: email, wait: 2 days, thread: intro, template: bump.j2}
      - {id: call, type: call, wait: 1 business day}
""")


def waiting_for_bump() -> Driver:
    """Intro sent Monday 2027-04-05 09:00; bump due Wednesday 08:00; now Tuesday noon."""
    driver = Driver(SEQUENCE, local("2027-04-05", "09:00"))
    driver.send_current("Hello")
    driver.now = local("2027-04-06", "12:00")
    assert driver.state.step == "bump"
    assert driver.state.due_at is not None
    assert in_zone(driver.state.due_at) == wall("2027-04-07 08:00")
    return driver


# -- out of office -----------------------------------------------------------------
def test_out_of_office_pauses_until_the_first_business_day_after_the_return_date() -> None:
    driver = waiting_for_bump()

    decision = driver.fire(events.AutoReplyReceived(return_date=date(2027, 4, 9)))  # a Friday

    state = decision.state
    assert state.status is Status.PAUSED
    assert state.pause_reason == "out_of_office"
    monday = local("2027-04-12", "00:00")  # local start of the next business day
    assert state.resume_at == monday
    assert decision.actions == (Pause("out_of_office", monday),)


def test_out_of_office_without_a_return_date_pauses_for_the_default_days() -> None:
    driver = waiting_for_bump()
    received = local("2027-04-06", "11:00")

    decision = driver.fire(events.AutoReplyReceived(at=received))

    assert decision.state.status is Status.PAUSED
    assert decision.state.resume_at == received + timedelta(days=5)


def test_an_out_of_office_reply_is_not_counted_as_a_reply() -> None:
    driver = waiting_for_bump()

    driver.fire(events.AutoReplyReceived(return_date=date(2027, 4, 9)))

    assert driver.state.status is Status.PAUSED  # not exited, although exit_on has reply
    assert not driver.state.facts.replied
    assert driver.state.facts.replied_steps == frozenset()


def test_a_second_out_of_office_reply_extends_the_pause() -> None:
    driver = waiting_for_bump()
    driver.fire(events.AutoReplyReceived(return_date=date(2027, 4, 9)))

    decision = driver.fire(events.AutoReplyReceived(return_date=date(2027, 4, 14)),
                           at=local("2027-04-07", "10:00"))

    assert decision.state.status is Status.PAUSED
    assert decision.state.resume_at == local("2027-04-15", "00:00")


def test_a_due_event_while_paused_before_the_resume_time_does_nothing() -> None:
    driver = waiting_for_bump()
    driver.fire(events.AutoReplyReceived(return_date=date(2027, 4, 9)))
    paused = driver.state

    decision = driver.fire(events.Due(), at=local("2027-04-07", "08:00"))  # bump's old due time

    assert decision.state == paused
    assert decision.actions == ()


def test_a_due_event_after_the_resume_time_resumes_and_reschedules_the_step_inside_a_window(
) -> None:
    driver = waiting_for_bump()
    driver.fire(events.AutoReplyReceived(return_date=date(2027, 4, 9)))

    decision = driver.fire(events.Due(), at=local("2027-04-12", "00:00"))

    state = decision.state
    assert state.status is Status.ACTIVE
    assert state.pause_reason is None and state.resume_at is None
    assert state.step == "bump"
    assert state.due_at is not None
    assert in_zone(state.due_at) == wall("2027-04-12 08:00")
    assert decision.actions == (Resume(), ScheduleAt("bump", state.due_at, "resumed"))
    assert only(driver.due(), SendEmail).step == "bump"


def test_an_out_of_office_reply_does_not_lift_a_manual_pause() -> None:
    driver = waiting_for_bump()
    driver.fire(events.PauseRequested("rep is negotiating"))

    decision = driver.fire(events.AutoReplyReceived(return_date=date(2027, 4, 9)))

    assert decision.state.status is Status.PAUSED
    assert decision.state.resume_at is None, "the manual pause would end by itself on Monday"
    assert decision.state.pause_reason == "rep is negotiating"


# -- by hand -------------------------------------------------------------------------
def test_a_manual_pause_holds_the_enrollment_until_resumed_by_hand() -> None:
    driver = waiting_for_bump()

    paused = driver.fire(events.PauseRequested("holiday season"))

    assert paused.state.status is Status.PAUSED
    assert paused.state.resume_at is None
    assert paused.actions == (Pause("holiday season", None),)
    idle = driver.fire(events.Due(), at=local("2027-05-05", "08:00"))
    assert idle.actions == () and idle.state.status is Status.PAUSED


def test_a_manual_resume_reschedules_the_current_step_in_the_next_window() -> None:
    driver = waiting_for_bump()
    driver.fire(events.PauseRequested())

    decision = driver.fire(events.ResumeRequested(), at=local("2027-04-16", "17:30"))  # Friday

    state = decision.state
    assert state.status is Status.ACTIVE
    assert state.due_at is not None
    assert in_zone(state.due_at) == wall("2027-04-19 08:00")
    assert decision.actions == (Resume(), ScheduleAt("bump", state.due_at, "resumed"))


def test_a_manual_pause_with_an_end_resumes_on_the_first_due_after_it() -> None:
    driver = waiting_for_bump()
    until = local("2027-04-09", "00:00")
    driver.fire(events.PauseRequested("conference", until=until))

    decision = driver.fire(events.Due(), at=until)

    assert decision.state.status is Status.ACTIVE
    assert decision.state.due_at is not None
    assert in_zone(decision.state.due_at) == wall("2027-04-09 08:00")


def test_a_manual_exit_ends_the_enrollment_with_its_reason() -> None:
    driver = waiting_for_bump()

    decision = driver.fire(events.ExitRequested("wrong person"))

    assert decision.state.status is Status.EXITED
    assert decision.state.exit_reason == "wrong person"
    assert decision.state.due_at is None
    assert decision.actions == (Exit("wrong person"),)


# -- held -----------------------------------------------------------------------------
def test_a_held_step_pauses_without_a_resume_time_and_reruns_after_a_resume() -> None:
    driver = waiting_for_bump()
    first = only(driver.due(), SendEmail)

    held = driver.fire(events.Held("bump", "template error: 'prospect.company' is undefined"))

    assert held.state.status is Status.PAUSED
    assert held.state.resume_at is None
    assert held.state.waiting_on is None
    assert held.actions == (Pause("template error: 'prospect.company' is undefined", None),)
    assert driver.fire(events.Due(), at=driver.now + timedelta(days=3)).actions == ()

    resumed = driver.fire(events.ResumeRequested(), at=local("2027-04-12", "09:30"))
    assert resumed.state.status is Status.ACTIVE
    assert resumed.state.due_at == local("2027-04-12", "09:30")
    again = only(driver.due(), SendEmail)
    assert again == first  # same step, round, variant and threading
