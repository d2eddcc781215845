"""What the prospect does: replies, bounces, unsubscribes, meetings and stages end or inform."""

from __future__ import annotations

from sequencer.definition.model import Definition
from sequencer.engine import Status, events
from sequencer.engine.actions import Exit, ScheduleAt
from tests.unit.engine_helpers import Driver, definition, local


def with_exits(exit_on: str, limits: str = "{}") -> Definition:
    return definition(f"""
        name: exits
        schedule:
          timezone: America/New_York
          windows: {{mon-fri: ["08:00-10:00"]}}
          holidays: none
        exit_on: {exit_on}
        limits: {limits}
        steps:
          - {{id: intro, type: email, template: intro.j2, subject: Hello}}
          - {{id: bump, type: email, wait: 3 days, thread: intro, template: bump.j2}}
    """)


def waiting_for_bump(defn: Definition) -> Driver:
    """An enrollment whose intro went out on Monday and whose bump waits for Thursday."""
    driver = Driver(defn, local("2027-04-05", "09:00"))
    driver.send_current("Hello")
    driver.now = local("2027-04-06", "12:00")
    assert driver.state.step == "bump" and driver.state.status is Status.ACTIVE
    return driver


def assert_exited(driver: Driver, reason: str) -> None:
    state = driver.state
    assert state.status is Status.EXITED
    assert state.exit_reason == reason
    assert state.due_at is None
    assert state.waiting_on is None
    assert driver.decision.actions == (Exit(reason),)


def assert_still_running(driver: Driver, before_due: object) -> None:
    assert driver.state.status is Status.ACTIVE
    assert driver.state.exit_reason is None
    assert driver.state.due_at == before_due
    assert driver.decision.actions == ()


def test_a_reply_during_a_wait_exits_with_reason_replied_when_exit_on_has_reply() -> None:
    driver = waiting_for_bump(with_exits("[reply]"))

    driver.fire(events.ReplyReceived(step="intro"))

    assert_exited(driver, "replied")
    assert driver.state.facts.replied
    assert driver.state.facts.replied_steps == {"intro"}


def test_a_reply_only_records_the_fact_when_exit_on_lacks_reply() -> None:
    driver = waiting_for_bump(with_exits("[bounce]"))
    due = driver.state.due_at

    driver.fire(events.ReplyReceived(step="intro"))

    assert_still_running(driver, due)
    assert driver.state.facts.replied
    assert driver.state.facts.replied_steps == {"intro"}


def test_a_colleague_reply_exits_only_when_exit_on_has_account_reply() -> None:
    listed = waiting_for_bump(with_exits("[reply, account_reply]"))
    unlisted = waiting_for_bump(with_exits("[reply]"))
    due = unlisted.state.due_at

    listed.fire(events.ReplyReceived(from_colleague=True))
    unlisted.fire(events.ReplyReceived(from_colleague=True))

    assert_exited(listed, "account_replied")
    assert_still_running(unlisted, due)
    assert not unlisted.state.facts.replied  # the prospect did not reply


def test_a_hard_bounce_exits_even_when_exit_on_omits_bounce() -> None:
    driver = waiting_for_bump(with_exits("[reply]"))

    driver.fire(events.Bounced(hard=True, step="intro"))

    assert_exited(driver, "hard_bounce")


def test_soft_bounces_exit_once_there_are_more_than_max_soft_bounces() -> None:
    driver = waiting_for_bump(with_exits("[reply, bounce]", "{max_soft_bounces: 2}"))
    due = driver.state.due_at

    driver.fire(events.Bounced(hard=False, step="intro"))
    driver.fire(events.Bounced(hard=False, step="intro"))
    assert_still_running(driver, due)
    assert driver.state.soft_bounces == 2

    driver.fire(events.Bounced(hard=False, step="intro"))

    assert_exited(driver, "soft_bounce_limit")


def test_a_soft_bounce_of_the_latest_email_sends_that_step_again_in_its_next_window() -> None:
    driver = waiting_for_bump(with_exits("[reply, bounce]", "{max_soft_bounces: 2}"))

    driver.fire(events.Bounced(hard=False, step="intro",
                               resend_after=local("2027-04-06", "12:00")))

    assert driver.state.step == "intro" and driver.state.status is Status.ACTIVE
    assert driver.state.soft_bounces == 1
    due = driver.state.due_at
    assert due is not None and local("2027-04-07", "08:00") <= due <= local("2027-04-07", "10:00")
    (action,) = driver.decision.actions
    assert isinstance(action, ScheduleAt) and action.step == "intro"
    assert "soft bounce" in action.reason
    assert driver.state.round_of("intro") == 1  # the same run is sent again, not a new one


def test_a_blocked_send_is_retried_without_counting_against_the_prospect() -> None:
    driver = waiting_for_bump(with_exits("[reply, bounce]", "{max_soft_bounces: 0}"))

    driver.fire(events.Bounced(hard=False, step="intro", blocked=True,
                               resend_after=local("2027-04-06", "12:00")))

    assert driver.state.status is Status.ACTIVE and driver.state.step == "intro"
    assert driver.state.soft_bounces == 0
    assert "blocked" in driver.decision.actions[0].reason  # type: ignore[attr-defined]


def test_an_unsubscribe_always_exits_even_when_exit_on_omits_it() -> None:
    driver = waiting_for_bump(with_exits("[reply]"))

    driver.fire(events.Unsubscribed())

    assert_exited(driver, "unsubscribed")


def test_a_booked_meeting_exits_when_exit_on_lists_it_and_is_only_recorded_otherwise() -> None:
    listed = waiting_for_bump(with_exits("[reply, meeting_booked]"))
    unlisted = waiting_for_bump(with_exits("[reply]"))
    due = unlisted.state.due_at

    listed.fire(events.MeetingBooked())
    unlisted.fire(events.MeetingBooked())

    assert_exited(listed, "meeting_booked")
    assert_still_running(unlisted, due)
    assert unlisted.state.facts.meeting_booked


def test_a_stage_listed_in_exit_on_exits_and_another_stage_is_only_recorded() -> None:
    defn = with_exits("[reply, {stage: [opportunity, customer]}]")
    listed = waiting_for_bump(defn)
    other = waiting_for_bump(defn)
    due = other.state.due_at

    listed.fire(events.StageChanged("customer"))
    other.fire(events.StageChanged("evaluation"))

    assert_exited(listed, "stage:customer")
    assert_still_running(other, due)
    assert other.state.facts.stage == "evaluation"


def test_a_reply_while_an_email_is_out_exits_and_the_late_email_sent_changes_nothing() -> None:
    driver = Driver(with_exits("[reply]"), local("2027-04-05", "09:00"))
    driver.due()  # intro handed out

    driver.fire(events.ReplyReceived())
    exited = driver.state
    late = driver.fire(events.EmailSent("intro", "<m1@test>", "Hello"))

    assert exited.status is Status.EXITED
    assert exited.waiting_on is None
    assert late.state == exited
    assert late.actions == ()
