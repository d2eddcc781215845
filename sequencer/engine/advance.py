"""The one function that decides: ``advance(definition, state, event, *, now) -> Decision``.

One handler per event kind, dispatched with ``match``. Handlers are pure: the
clock is ``now``, holidays come from the injected calendar.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import assert_never

from sequencer.definition.model import TASK_OUTCOMES, Definition
from sequencer.engine import events as ev
from sequencer.engine.actions import Decision, Exit, Pause, Resume, ScheduleAt
from sequencer.engine.state import (
    EnrollmentState,
    Facts,
    Status,
    Thread,
    evolve,
    evolve_facts,
    with_status,
)
from sequencer.engine.steps import (
    enter,
    enter_next,
    run_step,
    step_seed,
    thread_root,
    weekly_limit_reached,
    window_closed,
)
from sequencer.errors import EngineError
from sequencer.timing.calendar import NO_HOLIDAYS, HolidayCalendar
from sequencer.timing.sendtime import (
    add_business_days,
    next_send_time,
    start_of_day,
    timetable_for,
)
from sequencer.timing.timetable import Timetable


def start(
    definition: Definition,
    *,
    timezone: str,
    country: str | None,
    seed: int,
    now: datetime,
    calendar: HolidayCalendar = NO_HOLIDAYS,
) -> Decision:
    """Enroll a prospect: the first step is scheduled after its wait from ``now``.

    Raises:
        EngineError: ``now`` is naive.
    """
    _require_aware(now)
    state = EnrollmentState(Status.ACTIVE, None, None, timezone, country, seed, started_at=now)
    tt = _timetable(definition, state, calendar)
    return enter(definition, state, 0, after=now, now=now, tt=tt)


def advance(  # noqa: C901 - a flat dispatch, one line per event kind, reads best
    definition: Definition,
    state: EnrollmentState,
    event: ev.Event,
    *,
    now: datetime,
    calendar: HolidayCalendar = NO_HOLIDAYS,
) -> Decision:
    """Apply ``event`` to ``state`` and say what happens next.

    Raises:
        EngineError: the event names a step or outcome that does not fit.
    """
    _require_aware(now)
    tt = _timetable(definition, state, calendar)
    match event:
        case ev.Due():
            return _on_due(definition, state, event, now, tt)
        case ev.EmailSent():
            return _on_email_sent(definition, state, event, now, tt)
        case ev.TaskCompleted():
            return _on_task_completed(definition, state, event, now, tt)
        case ev.StepSkipped():
            return _on_step_skipped(definition, state, event, now, tt)
        case ev.Deferred():
            return _on_deferred(state, event, tt)
        case ev.Held():
            return _pause(state, event.reason, None, hold=event.step)
        case ev.ReplyReceived():
            return _on_reply(definition, state, event)
        case ev.AutoReplyReceived():
            return _on_auto_reply(definition, state, event, now, tt)
        case ev.Bounced():
            return _on_bounce(definition, state, event, tt)
        case ev.Unsubscribed():
            return _exit(state, "unsubscribed")
        case ev.Opened() | ev.Clicked():
            return _on_engagement(state, event)
        case ev.MeetingBooked():
            return _on_meeting(definition, state)
        case ev.StageChanged():
            return _on_stage(definition, state, event)
        case ev.PauseRequested():
            return _pause(state, event.reason, event.until)
        case ev.ResumeRequested():
            return _resume(state, now, tt)
        case ev.ExitRequested():
            return _exit(state, event.reason)
        case _:
            assert_never(event)


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise EngineError(f"the engine needs a timezone-aware 'now', not {now!r}")


def _timetable(definition: Definition, state: EnrollmentState, calendar: HolidayCalendar
               ) -> Timetable:
    return timetable_for(definition.schedule, state.timezone, state.country, calendar)


# -- the clock ticks ---------------------------------------------------------------
def _on_due(definition: Definition, state: EnrollmentState, event: ev.Due, now: datetime,
            tt: Timetable) -> Decision:
    if state.status is Status.PAUSED:
        if state.resume_at is not None and state.resume_at <= now:
            return _resume(state, now, tt)
        return Decision(state)
    due = state.due_at
    if state.status is not Status.ACTIVE or state.step is None or state.waiting_on is not None \
            or due is None or due > now:
        return Decision(state)  # not due (a duplicate or early wake-up): nothing to do
    step = definition.step(state.step)
    if step.type.is_touch:
        deferred = weekly_limit_reached(definition, state, event.recent_touches, now=now, tt=tt)
        if deferred is None and now > due:  # on time is inside a window by construction
            deferred = window_closed(state, now=now, tt=tt)
        if deferred is not None:
            return deferred
    return run_step(definition, state, step, now=now, tt=tt)


# -- outcomes of steps -------------------------------------------------------------
def _awaited(state: EnrollmentState, step: str) -> bool:
    """Whether an outcome for ``step`` is the one the enrollment waits for (else a duplicate)."""
    return state.waiting_on == step and state.step == step


def _on_email_sent(definition: Definition, state: EnrollmentState, event: ev.EmailSent,
                   now: datetime, tt: Timetable) -> Decision:
    if not _awaited(state, event.step):
        return Decision(state)
    at = event.at or now
    root = thread_root(definition, event.step)
    known = state.threads.get(root)
    thread = Thread(known.subject, (*known.message_ids, event.message_id)) if known \
        else Thread(event.subject, (event.message_id,))
    facts = evolve_facts(state.facts, sent=state.facts.sent | {event.step})
    return _move_on(definition, state, event.step, at, now, tt,
                    threads={**state.threads, root: thread}, facts=facts, last_touch_at=at)


def _on_task_completed(definition: Definition, state: EnrollmentState,
                       event: ev.TaskCompleted, now: datetime, tt: Timetable) -> Decision:
    if not _awaited(state, event.step):
        return Decision(state)
    kind = definition.step(event.step).type
    allowed = TASK_OUTCOMES.get(kind, frozenset())
    if event.outcome not in allowed:
        raise EngineError(f"{event.outcome!r} is not an outcome of a {kind.value} step "
                          f"(known: {', '.join(sorted(allowed))})")
    at = event.at or now
    facts = evolve_facts(state.facts, outcomes={**state.facts.outcomes, event.step: event.outcome})
    return _move_on(definition, state, event.step, at, now, tt, facts=facts, last_touch_at=at)


def _on_step_skipped(definition: Definition, state: EnrollmentState, event: ev.StepSkipped,
                     now: datetime, tt: Timetable) -> Decision:
    if state.step != event.step:
        return Decision(state)
    return _move_on(definition, state, event.step, state.last_touch_at or now, now, tt)


def _move_on(definition: Definition, state: EnrollmentState, step: str, at: datetime,
             now: datetime, tt: Timetable, **changes: object) -> Decision:
    """Record ``changes`` and move to the step after ``step`` (in one copy of the state)."""
    if not state.is_open:
        return Decision(evolve(state, waiting_on=None, **changes))
    return enter_next(definition, state, step, after=at, now=now, tt=tt, **changes)


def _on_deferred(state: EnrollmentState, event: ev.Deferred, tt: Timetable) -> Decision:
    if state.step != event.step or not state.is_open:
        return Decision(state)
    seed = step_seed(state, event.step, state.round_of(event.step))
    due = next_send_time(event.not_before, tt, seed=seed)
    state = evolve(state, due_at=due, waiting_on=None)
    return Decision(state, (ScheduleAt(event.step, due, event.reason),))


# -- what the prospect does --------------------------------------------------------
def _on_reply(definition: Definition, state: EnrollmentState, event: ev.ReplyReceived
              ) -> Decision:
    if event.from_colleague:
        if definition.exit.account_reply:
            return _exit(state, "account_replied")
        return Decision(state)
    steps = state.facts.replied_steps | ({event.step} if event.step else set())
    state = evolve(state, facts=evolve_facts(state.facts, replied=True, replied_steps=steps))
    return _exit(state, "replied") if definition.exit.reply else Decision(state)


def _on_auto_reply(definition: Definition, state: EnrollmentState, event: ev.AutoReplyReceived,
                   now: datetime, tt: Timetable) -> Decision:
    rules = definition.pause
    if not rules.out_of_office or not state.is_open:
        return Decision(state)
    if state.status is Status.PAUSED and state.pause_reason != "out_of_office":
        return Decision(state)  # a pause by hand or a hold is lifted by a person, not by mail
    if event.return_date is not None:
        back = add_business_days(event.return_date, rules.resume_business_days_after_return, tt)
        until = start_of_day(back, tt)
    else:
        until = (event.at or now) + timedelta(days=rules.default_pause_days)
    if state.status is Status.PAUSED and state.resume_at is not None:
        until = max(until, state.resume_at)
    return _pause(state, "out_of_office", until)


def _on_bounce(definition: Definition, state: EnrollmentState, event: ev.Bounced,
               tt: Timetable) -> Decision:
    if event.hard:
        return _exit(state, "hard_bounce")
    if not event.blocked:
        state = evolve(state, soft_bounces=state.soft_bounces + 1)
        if state.soft_bounces > definition.limits.max_soft_bounces:
            return _exit(state, "soft_bounce_limit")
    if event.resend_after is None or event.step is None or state.status is not Status.ACTIVE:
        return Decision(state)
    # Back to the bounced step, in the same round: its run is sent again in a window.
    seed = step_seed(state, event.step, state.round_of(event.step))
    due = next_send_time(event.resend_after, tt, seed=seed)
    why = "blocked by the receiving server" if event.blocked else "soft bounce"
    state = evolve(state, step=event.step, due_at=due, waiting_on=None)
    return Decision(state, (ScheduleAt(event.step, due, f"{why}: sent again"),))


def _on_engagement(state: EnrollmentState, event: ev.Opened | ev.Clicked) -> Decision:
    facts = state.facts
    if isinstance(event, ev.Clicked):
        facts = evolve_facts(facts, clicked=facts.clicked | {event.step},
                        opened=facts.opened | {event.step})
    else:
        facts = evolve_facts(facts, opened=facts.opened | {event.step})
    return Decision(evolve(state, facts=facts))


def _on_meeting(definition: Definition, state: EnrollmentState) -> Decision:
    state = evolve(state, facts=evolve_facts(state.facts, meeting_booked=True))
    return _exit(state, "meeting_booked") if definition.exit.meeting_booked else Decision(state)


def _on_stage(definition: Definition, state: EnrollmentState, event: ev.StageChanged
              ) -> Decision:
    state = evolve(state, facts=evolve_facts(state.facts, stage=event.stage))
    if event.stage in definition.exit.stages:
        return _exit(state, f"stage:{event.stage}")
    return Decision(state)


# -- status changes ----------------------------------------------------------------
def _exit(state: EnrollmentState, reason: str) -> Decision:
    if not state.is_open:
        return Decision(state)
    exited = with_status(state, Status.EXITED, exit_reason=reason, due_at=None, waiting_on=None,
                         resume_at=None)
    return Decision(exited, (Exit(reason),))


def _pause(state: EnrollmentState, reason: str, until: datetime | None,
           hold: str | None = None) -> Decision:
    if not state.is_open or (hold is not None and state.step != hold):
        return Decision(state)
    waiting = None if hold is not None else state.waiting_on
    paused = with_status(state, Status.PAUSED, pause_reason=reason, resume_at=until,
                         waiting_on=waiting)
    return Decision(paused, (Pause(reason, until),))


def _resume(state: EnrollmentState, now: datetime, tt: Timetable) -> Decision:
    if state.status is not Status.PAUSED:
        return Decision(state)
    resumed = with_status(state, Status.ACTIVE, pause_reason=None, resume_at=None)
    if resumed.step is None or resumed.waiting_on is not None:
        return Decision(resumed, (Resume(),))
    earliest = max(resumed.due_at or now, now)
    seed = step_seed(resumed, resumed.step, resumed.round_of(resumed.step))
    due = next_send_time(earliest, tt, seed=seed)
    return Decision(evolve(resumed, due_at=due),
                    (Resume(), ScheduleAt(resumed.step, due, "resumed")))


__all__ = ["Facts", "advance", "start"]
