"""Running steps: emails and tasks handed out, outcomes, duplicates, deferrals, limits, the end."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sequencer.definition.model import StepType
from sequencer.engine import Status, events
from sequencer.engine.actions import CreateTask, Finish, ScheduleAt, SendEmail, SkipStep
from sequencer.errors import EngineError
from tests.unit.engine_helpers import Driver, definition, in_zone, local, only, wall

CADENCE = definition("""
    name: cadence
    schedule:
      timezone: America/New_York
      windows: {mon-fri: ["08:00-10:00", "15:00-16:00"]}
      holidays: none
    steps:
      - {id: intro, type: email, template: cold/intro.j2, subject: "{{ prospect.company }} and you"}
      - id: call
        type: call
        wait: 1 business day
        instructions: Ask who owns outbound.
      - {id: bump, type: email, wait: 2 business days, thread: intro, template: cold/bump.j2}
""")

MONDAY_9 = local("2027-04-05", "09:00")  # 2027-04-05 is a Monday


def started() -> Driver:
    return Driver(CADENCE, MONDAY_9)


# -- nothing happens twice ----------------------------------------------------------
def test_a_due_event_before_the_due_time_is_a_no_op() -> None:
    driver = Driver(CADENCE, local("2027-04-05", "11:00"))  # intro due at 15:00
    before = driver.state

    decision = driver.fire(events.Due(), at=local("2027-04-05", "14:59"))

    assert decision.state == before
    assert decision.actions == ()


def test_a_duplicate_due_while_an_email_is_out_is_a_no_op() -> None:
    driver = started()
    driver.due()
    assert driver.state.waiting_on == "intro"
    handed_out = driver.state

    decision = driver.fire(events.Due(), at=driver.now + timedelta(minutes=5))

    assert decision.state == handed_out
    assert decision.actions == ()


def test_a_duplicate_email_sent_is_a_no_op() -> None:
    driver = started()
    driver.send_current("Acme and you")
    after_first = driver.state

    decision = driver.fire(events.EmailSent("intro", "<intro.1@test>", "Acme and you"))

    assert decision.state == after_first
    assert decision.actions == ()
    assert after_first.threads["intro"].message_ids == ("<intro.1@test>",)


def test_a_duplicate_task_completed_is_a_no_op() -> None:
    driver = started()
    driver.send_current()
    driver.complete_current("voicemail")
    after_first = driver.state

    decision = driver.fire(events.TaskCompleted("call", "connected"))

    assert decision.state == after_first
    assert decision.actions == ()
    assert after_first.facts.outcomes == {"call": "voicemail"}


# -- emails ---------------------------------------------------------------------------
def test_an_email_step_yields_send_email_with_its_template_and_subject() -> None:
    driver = started()

    decision = driver.due()

    assert decision.actions == (SendEmail(
        step="intro", round=1, variant="default", template="cold/intro.j2",
        subject="{{ prospect.company }} and you", in_reply_to=None, references=()),)
    assert decision.state.waiting_on == "intro"
    assert decision.state.status is Status.ACTIVE


def test_email_sent_schedules_the_next_step_after_its_wait() -> None:
    driver = Driver(CADENCE, local("2027-04-08", "08:00"))  # Thursday
    driver.due()
    sent_at = local("2027-04-08", "08:01")

    decision = driver.fire(events.EmailSent("intro", "<m1@test>", "Acme and you"), at=sent_at)

    state = decision.state
    assert state.step == "call"
    assert state.waiting_on is None
    assert state.last_touch_at == sent_at
    assert "intro" in state.facts.sent
    assert state.due_at is not None
    assert in_zone(state.due_at) == wall("2027-04-09 08:00")  # 1 business day later
    assert decision.actions == (ScheduleAt("call", state.due_at),)


def test_a_business_day_wait_skips_the_weekend() -> None:
    friday = Driver(CADENCE, local("2027-04-09", "08:00"))

    friday.send_current()  # the call waits 1 business day: Monday, not Saturday

    assert friday.state.due_at is not None
    assert in_zone(friday.state.due_at) == wall("2027-04-12 08:00")


# -- tasks ----------------------------------------------------------------------------
def test_a_call_step_yields_create_task_with_its_instructions() -> None:
    driver = started()
    driver.send_current()

    decision = driver.due()

    assert decision.actions == (CreateTask(
        step="call", round=1, kind=StepType.CALL, due_at=driver.now,
        instructions="Ask who owns outbound.", template=None),)
    assert decision.state.waiting_on == "call"


def test_task_completed_with_an_outcome_records_it_and_advances() -> None:
    driver = started()
    driver.send_current()
    driver.due()
    done_at = driver.now + timedelta(hours=2)

    decision = driver.fire(events.TaskCompleted("call", "connected"), at=done_at)

    state = decision.state
    assert state.facts.outcomes == {"call": "connected"}
    assert state.last_touch_at == done_at
    assert state.step == "bump"
    assert state.waiting_on is None
    assert state.due_at is not None
    assert in_zone(state.due_at) == wall("2027-04-08 08:00")  # Tuesday + 2 business days


def test_an_outcome_the_step_kind_does_not_have_raises_engine_error() -> None:
    driver = started()
    driver.send_current()
    driver.due()

    with pytest.raises(EngineError, match="not an outcome of a call step"):
        driver.fire(events.TaskCompleted("call", "done"))


def test_a_skipped_task_moves_on_to_the_next_step() -> None:
    driver = started()
    driver.send_current()
    driver.due()  # the call task is out, Tuesday 08:00

    decision = driver.fire(events.StepSkipped("call", "no phone number"),
                           at=local("2027-04-06", "09:00"))

    state = decision.state
    assert state.step == "bump"
    assert state.waiting_on is None
    assert "call" not in state.facts.outcomes
    assert state.due_at is not None and state.due_at >= driver.now
    assert decision.actions == (ScheduleAt("bump", state.due_at),)


def test_the_step_after_a_task_skipped_days_later_is_not_scheduled_in_the_past() -> None:
    driver = started()
    driver.send_current()  # intro, Monday 09:00
    driver.due()  # the call task, Tuesday 08:00
    late_evening = local("2027-04-09", "20:00")  # the rep skips it on Friday evening

    decision = driver.fire(events.StepSkipped("call", "no phone number"), at=late_evening)

    due = decision.state.due_at
    assert due is not None
    assert due >= late_evening, f"bump is due at {in_zone(due)} local, before the skip"
    assert in_zone(due) == wall("2027-04-12 08:00")


def test_a_late_due_outside_every_window_does_not_hand_out_an_email() -> None:
    driver = started()
    assert driver.state.due_at == MONDAY_9
    night = local("2027-04-05", "23:00")  # the scheduler wakes 14 hours late

    decision = driver.fire(events.Due(), at=night)

    assert not any(isinstance(a, SendEmail) for a in decision.actions), (
        "an email handed out at 23:00 local is sent outside the schedule's windows")
    assert decision.state.due_at is not None
    assert in_zone(decision.state.due_at) == wall("2027-04-06 08:00")


# -- deferral and the weekly limit -----------------------------------------------------
JITTERED = definition("""
    name: jittered
    schedule:
      timezone: America/New_York
      windows: {mon-fri: ["08:00-10:00"]}
      holidays: none
      jitter: 20 minutes
    limits: {max_touches_per_week: 2}
    steps:
      - {id: intro, type: email, template: intro.j2, subject: Hello}
      - {id: call, type: call, wait: 1 day}
""")


def test_deferred_moves_the_step_to_the_next_open_window_at_or_after_not_before() -> None:
    driver = Driver(JITTERED, local("2027-04-06", "08:30"))
    driver.due()  # handed out; the mailbox's daily cap is full
    midnight = local("2027-04-07", "00:00")

    decision = driver.fire(events.Deferred("intro", midnight, "mailbox daily cap"))

    state = decision.state
    assert state.waiting_on is None
    assert state.step == "intro"
    assert state.due_at is not None
    local_due = in_zone(state.due_at)
    assert wall("2027-04-07 08:00") <= local_due <= wall("2027-04-07 08:20")
    assert decision.actions == (ScheduleAt("intro", state.due_at, "mailbox daily cap"),)
    again = driver.fire(events.Due(), at=state.due_at)
    assert only(again, SendEmail).round == 1


def test_the_weekly_touch_limit_defers_a_touch_until_the_oldest_touch_leaves_the_week(
) -> None:
    driver = Driver(JITTERED, local("2027-04-12", "08:00"))  # Monday
    oldest = local("2027-04-06", "11:00")  # Tuesday 11:00: freed next Tuesday 11:00
    recent = (local("2027-04-08", "09:00"), oldest)

    decision = driver.due(recent=recent)

    state = decision.state
    assert not any(isinstance(a, SendEmail) for a in decision.actions)
    assert state.due_at is not None
    assert state.due_at >= oldest + timedelta(days=7)
    local_due = in_zone(state.due_at)  # 11:00 is outside the window: the next day's window
    assert wall("2027-04-14 08:00") <= local_due <= wall("2027-04-14 08:20")
    assert decision.actions == (ScheduleAt("intro", state.due_at, "weekly touch limit reached"),)
    later = driver.fire(events.Due((local("2027-04-08", "09:00"),)), at=state.due_at)
    assert only(later, SendEmail).step == "intro"


# -- exact dates ----------------------------------------------------------------------
def dated(if_past: str) -> str:
    return f"""
    name: dated
    schedule:
      timezone: America/New_York
      windows: {{mon-fri: ["08:00-10:00"]}}
      holidays: none
    steps:
      - {{id: intro, type: email, template: intro.j2, subject: Hello}}
      - {{id: launch, type: email, at: 2027-04-20, if_past: {if_past}, template: l.j2,
          subject: Launch day}}
      - {{id: call, type: call, wait: 1 business day}}
    """


def test_an_exact_date_step_waits_until_that_local_date() -> None:
    driver = Driver(definition(dated("skip")), local("2027-04-05", "09:00"))

    driver.send_current()

    assert driver.state.step == "launch"
    assert driver.state.due_at is not None
    assert in_zone(driver.state.due_at) == wall("2027-04-20 08:00")


def test_an_exact_date_step_whose_date_has_passed_is_skipped_when_if_past_is_skip() -> None:
    driver = Driver(definition(dated("skip")), local("2027-04-21", "09:00"))

    driver.send_current()  # intro on the 21st: launch's date, the 20th, has gone

    decision = driver.decision
    skip = only(decision, SkipStep)
    assert (skip.step, skip.round) == ("launch", 1)
    assert decision.state.step == "call"
    assert "launch" not in decision.state.facts.sent


def test_an_exact_date_step_whose_date_has_passed_is_sent_when_if_past_is_send() -> None:
    driver = Driver(definition(dated("send")), local("2027-04-21", "09:00"))
    driver.send_current()
    assert driver.state.step == "launch"
    assert driver.state.due_at is not None
    assert in_zone(driver.state.due_at) == wall("2027-04-21 09:00")

    decision = driver.due()

    assert only(decision, SendEmail).step == "launch"


def test_an_exact_date_step_reached_after_its_days_last_window_is_skipped_when_if_past_is_skip(
) -> None:
    driver = Driver(definition(dated("skip")), local("2027-04-20", "09:59"))
    driver.due()

    decision = driver.fire(events.EmailSent("intro", "<m1@test>", "Hello"),
                           at=local("2027-04-20", "10:30"))  # no window left on the 20th

    due = decision.state.due_at
    assert any(isinstance(a, SkipStep) and a.step == "launch" for a in decision.actions), (
        f"'launch' (at: 2027-04-20, if_past: skip) is scheduled for "
        f"{in_zone(due) if due else None} local, after its date")
    assert decision.state.step == "call"


# -- the end ----------------------------------------------------------------------------
def test_after_the_last_step_the_enrollment_finishes_with_a_finish_action() -> None:
    driver = started()
    driver.send_current()
    driver.complete_current("no_answer")
    driver.due()

    decision = driver.fire(events.EmailSent("bump", "<m2@test>", "Re: Acme and you"))

    assert decision.state.status is Status.FINISHED
    assert decision.state.step is None
    assert decision.state.due_at is None
    assert decision.actions == (Finish(),)
