"""The status machine: the transition table, terminal states, and random event streams."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from sequencer.definition.model import TASK_OUTCOMES, StepType
from sequencer.engine import TRANSITIONS, EnrollmentState, Status, advance, events, start
from sequencer.engine.actions import CreateTask, Decision, SendEmail
from sequencer.engine.state import with_status
from sequencer.errors import TransitionError
from sequencer.timing import NO_HOLIDAYS, timetable_for
from tests.unit.engine_helpers import NEW_YORK, Driver, definition, local

SIX_STEPS = definition("""
    name: six-steps
    schedule:
      timezone: America/New_York
      windows: {mon-fri: ["08:00-10:00", "15:00-16:00"]}
      holidays: none
      jitter: 20 minutes
    exit_on: [reply, bounce, unsubscribe, meeting_booked, {stage: [customer]}]
    pause_on:
      out_of_office: {resume_after_return: 1 business day, default_days: 5 days}
    limits: {max_touches_per_week: 3, max_soft_bounces: 2}
    steps:
      - id: intro
        type: email
        subject: Hello
        variants: [{id: a, template: a.j2, weight: 2}, {id: b, template: b.j2}]
      - {id: call-1, type: call, wait: 1 business day}
      - {id: bump, type: email, wait: 2 business days, thread: intro, template: bump.j2}
      - {id: connect, type: linkedin_connect, wait: 4 hours}
      - id: check
        type: branch
        wait: 1 day
        if: "outcome(call-1) == no_answer and not opened(bump)"
        goto: call-1
        else: breakup
      - {id: breakup, type: email, wait: 3 days, thread: intro, template: breakup.j2}
""")

TERMINAL = (Status.EXITED, Status.FINISHED)
EVERY_KIND_OF_EVENT: tuple[events.Event, ...] = (
    events.Due(),
    events.EmailSent("intro", "<late@test>", "Hello"),
    events.TaskCompleted("call-1", "connected"),
    events.StepSkipped("intro", "no address"),
    events.Deferred("intro", local("2027-05-01", "00:00"), "mailbox cap"),
    events.Held("intro", "render error"),
    events.ReplyReceived(step="intro"),
    events.ReplyReceived(from_colleague=True),
    events.AutoReplyReceived(return_date=date(2027, 5, 3)),
    events.AutoReplyReceived(),
    events.Bounced(hard=True),
    events.Bounced(hard=False),
    events.Unsubscribed(),
    events.Opened("intro"),
    events.Clicked("intro"),
    events.MeetingBooked(),
    events.StageChanged("customer"),
    events.PauseRequested(),
    events.ResumeRequested(),
    events.ExitRequested(),
)


def exited() -> EnrollmentState:
    driver = Driver(SIX_STEPS, local("2027-04-05", "09:00"))
    driver.due()  # an email is out when the prospect unsubscribes
    return driver.fire(events.Unsubscribed()).state


def finished() -> EnrollmentState:
    short = definition("""
        name: one-step
        schedule: {windows: {mon-fri: ["08:00-10:00"]}, holidays: none}
        steps: [{id: intro, type: email, template: intro.j2, subject: Hello}]
    """)
    driver = Driver(short, local("2027-04-05", "09:00"))
    driver.send_current()
    return driver.state


@pytest.mark.parametrize("terminal", [exited, finished], ids=["exited", "finished"])
@pytest.mark.parametrize("event", EVERY_KIND_OF_EVENT, ids=lambda e: type(e).__name__)
def test_exited_and_finished_are_terminal_no_event_changes_their_status(
    terminal: Callable[[], EnrollmentState], event: events.Event
) -> None:
    state = terminal()
    assert state.status in TERMINAL
    later = local("2027-06-01", "09:00")

    decision = advance(SIX_STEPS, state, event, now=later)

    assert decision.state.status is state.status
    assert decision.actions == ()


FORBIDDEN = [(a, b) for a, b in itertools.product(Status, Status)
             if a is not b and b not in TRANSITIONS[a]]
ALLOWED = [(a, b) for a in Status for b in TRANSITIONS[a]]


def in_status(status: Status) -> EnrollmentState:
    return EnrollmentState(status, "intro", None, NEW_YORK, None, 1,
                           started_at=local("2027-04-05", "09:00"))


def test_the_transition_table_makes_exited_and_finished_terminal() -> None:
    assert TRANSITIONS[Status.EXITED] == frozenset()
    assert TRANSITIONS[Status.FINISHED] == frozenset()
    assert set(TRANSITIONS) == set(Status)


@pytest.mark.parametrize(("source", "target"), FORBIDDEN, ids=lambda s: s.value)
def test_with_status_refuses_a_transition_the_table_forbids(source: Status, target: Status
                                                            ) -> None:
    with pytest.raises(TransitionError, match=f"from {source.value} to {target.value}"):
        with_status(in_status(source), target)


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=lambda s: s.value)
def test_with_status_applies_a_transition_the_table_allows(source: Status, target: Status
                                                           ) -> None:
    changed = with_status(in_status(source), target, exit_reason="why")

    assert changed.status is target
    assert changed.exit_reason == "why"


def test_completing_the_last_step_while_paused_out_of_office_does_not_break_the_table() -> None:
    short = definition("""
        name: call-last
        schedule: {windows: {mon-fri: ["08:00-10:00"]}, holidays: none}
        steps:
          - {id: intro, type: email, template: intro.j2, subject: Hello}
          - {id: call, type: call, wait: 1 business day}
    """)
    driver = Driver(short, local("2027-04-05", "09:00"))
    driver.send_current()
    driver.due()  # the call task is in the rep's queue
    driver.fire(events.AutoReplyReceived(return_date=date(2027, 4, 12)))
    assert driver.state.status is Status.PAUSED

    decision = driver.fire(events.TaskCompleted("call", "voicemail"))  # the rep still calls

    assert decision.state.status in (Status.PAUSED, Status.FINISHED)
    assert decision.state.facts.outcomes == {"call": "voicemail"}
    assert not any(isinstance(a, SendEmail | CreateTask) for a in decision.actions)


# -- random streams of events -----------------------------------------------------------
TOUCHING = (SendEmail, CreateTask)
MEANWHILE: tuple[events.Event | None, ...] = (
    None, None, None, events.PauseRequested(), events.AutoReplyReceived(),
    events.Opened("bump"), events.ReplyReceived(from_colleague=True),
)
START = local("2027-04-05", "07:00")
TIMETABLE = timetable_for(SIX_STEPS.schedule, NEW_YORK, None, NO_HOLIDAYS)


class EnrollmentUnderRandomEvents(RuleBasedStateMachine):
    """Fires random events at one enrollment of SIX_STEPS and checks the invariants after each."""

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.state: EnrollmentState | None = None
        self.touches: list[datetime] = []
        self.done: set[tuple[str, int]] = set()  # (step, round) whose email/task came back
        self.messages = 0
        self.endings = False

    # -- plumbing ---------------------------------------------------------------------
    def check_hand_out(self, before: EnrollmentState, event: events.Event) -> None:
        """An email or task goes out only on a Due, once due, inside a window, within the limit."""
        assert isinstance(event, events.Due), event
        assert before.due_at is not None and before.due_at <= self.now
        opens, _ = TIMETABLE.first_open(int(self.now.timestamp()))
        assert opens <= self.now.timestamp(), f"handed out at {self.now}, outside every window"
        limit = SIX_STEPS.limits.max_touches_per_week
        assert limit is not None and len(event.recent_touches) < limit

    @property
    def current(self) -> EnrollmentState:
        assert self.state is not None
        return self.state

    def apply(self, event: events.Event) -> Decision:
        before = self.current
        decision = advance(SIX_STEPS, before, event, now=self.now)
        self.check(before, decision, event)
        self.state = decision.state
        return decision

    def check(self, before: EnrollmentState, decision: Decision, event: events.Event) -> None:
        after = decision.state
        assert after.status is before.status or after.status in TRANSITIONS[before.status], (
            f"{before.status.value} -> {after.status.value} on {event}")
        if after.status in TERMINAL:
            assert not any(isinstance(a, TOUCHING) for a in decision.actions), decision.actions
        if after.due_at is not None and after.last_touch_at is not None:
            assert after.due_at >= after.last_touch_at, (after.due_at, after.last_touch_at)
        for action in decision.actions:
            if isinstance(action, TOUCHING):
                self.check_hand_out(before, event)
                assert action.step == after.step == after.waiting_on, (action, after)
                assert action.round == after.round_of(action.step)
                assert (action.step, action.round) not in self.done, (
                    f"{action.step} round {action.round} handed out again after it was done")
        if before.waiting_on is not None and after.waiting_on is None and isinstance(
                event, events.EmailSent | events.TaskCompleted) and event.step == before.waiting_on:
            key = (event.step, before.round_of(event.step))
            assert key not in self.done, f"{key} completed twice"
            self.done.add(key)

    def recent(self) -> tuple[datetime, ...]:
        return tuple(t for t in self.touches if self.now - t < timedelta(days=7))

    # -- rules ------------------------------------------------------------------------------
    @initialize(seed=st.integers(0, 2**32 - 1), offset=st.integers(0, 7 * 24 * 60),
                endings=st.booleans())
    def enroll(self, seed: int, offset: int, endings: bool) -> None:
        # Half of the runs never see an ending event, so that they reach the last steps.
        self.endings = endings
        self.now = START + timedelta(minutes=offset)
        self.state = start(SIX_STEPS, timezone=NEW_YORK, country=None, seed=seed, now=self.now)\
            .state

    @rule(minutes=st.integers(1, 4 * 24 * 60))
    def time_passes_and_due_fires(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        self.apply(events.Due(self.recent()))

    def due_fires_at_the_due_time(self) -> None:
        wake = self.current.resume_at if self.current.status is Status.PAUSED \
            else self.current.due_at
        if wake is not None:
            self.now = max(self.now, wake)
        self.apply(events.Due(self.recent()))

    @rule(data=st.data(), minutes=st.integers(0, 2 * 24 * 60))
    def the_sequence_moves_on(self, data: st.DataObject, minutes: int) -> None:
        """What usually happens next: the awaited outcome comes back, or the next step is due."""
        state = self.current
        if state.waiting_on is not None:
            self.the_awaited_email_or_task_comes_back(data, minutes)
        elif state.status is Status.PAUSED and state.resume_at is None:
            self.apply(events.ResumeRequested())
        else:
            self.due_fires_at_the_due_time()

    @rule(data=st.data(), minutes=st.integers(0, 2 * 24 * 60))
    def the_sequence_moves_on_again(self, data: st.DataObject, minutes: int) -> None:
        """Progress is the common case: a second rule for it doubles its weight."""
        self.the_sequence_moves_on(data, minutes)

    def the_awaited_email_or_task_comes_back(self, data: st.DataObject, minutes: int) -> None:
        step = self.current.waiting_on
        assert step is not None
        # Something may happen while the email or task is out: that is where races live.
        meanwhile = data.draw(st.sampled_from(MEANWHILE))
        if meanwhile is not None:
            self.apply(meanwhile)
        kind = SIX_STEPS.step(step).type
        if kind is StepType.EMAIL:
            self.now += timedelta(minutes=minutes % 30)
            self.messages += 1
            decision = self.apply(events.EmailSent(step, f"<{self.messages}@test>", "Hello"))
        else:
            self.now += timedelta(minutes=minutes)
            outcome = data.draw(st.sampled_from(sorted(TASK_OUTCOMES[kind])))
            decision = self.apply(events.TaskCompleted(step, outcome))
        if decision.state.last_touch_at == self.now:
            self.touches.append(self.now)

    @precondition(lambda self: self.current.waiting_on is not None)
    @rule(kind=st.sampled_from(["skipped", "deferred", "held"]), hours=st.integers(0, 72))
    def the_runtime_cannot_run_the_step(self, kind: str, hours: int) -> None:
        step = self.current.waiting_on
        assert step is not None
        if kind == "skipped":
            self.apply(events.StepSkipped(step, "cannot"))
        elif kind == "deferred":
            self.apply(events.Deferred(step, self.now + timedelta(hours=hours), "mailbox cap"))
        else:
            self.apply(events.Held(step, "render error"))

    @rule(step=st.sampled_from([s.id for s in SIX_STEPS.steps if s.type.is_touch]))
    def a_stray_outcome_arrives(self, step: str) -> None:
        kind = SIX_STEPS.step(step).type
        if kind is StepType.EMAIL:
            self.apply(events.EmailSent(step, "<stray@test>", "Hello"))
        elif self.current.waiting_on != step:
            self.apply(events.TaskCompleted(step, sorted(TASK_OUTCOMES[kind])[0]))

    @rule(event=st.sampled_from([
        events.Opened("intro"), events.Clicked("intro"), events.Opened("bump"),
        events.Clicked("breakup"), events.StageChanged("lead"),
        events.ReplyReceived(from_colleague=True),
    ]))
    def the_prospect_engages(self, event: events.Event) -> None:
        self.apply(event)

    @rule(days=st.one_of(st.none(), st.integers(-2, 10)))
    def an_out_of_office_reply_arrives(self, days: int | None) -> None:
        back = None if days is None else (self.now + timedelta(days=days)).date()
        self.apply(events.AutoReplyReceived(return_date=back))

    @rule(resume=st.booleans())
    def a_rep_pauses_or_resumes(self, resume: bool) -> None:
        self.apply(events.ResumeRequested() if resume else events.PauseRequested())

    @precondition(lambda self: self.endings)
    @rule(event=st.sampled_from([
        events.ReplyReceived(step="intro"), events.Bounced(hard=True), events.Bounced(hard=False),
        events.Unsubscribed(), events.MeetingBooked(), events.StageChanged("customer"),
        events.ExitRequested(),
    ]))
    def something_ends_the_enrollment(self, event: events.Event) -> None:
        self.apply(event)


EnrollmentUnderRandomEvents.TestCase.settings = settings(
    max_examples=120, stateful_step_count=60, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRandomEventStreamsKeepTheEnrollmentInvariants = EnrollmentUnderRandomEvents.TestCase
