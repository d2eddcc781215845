"""Entering and running steps: one handler per step kind, and the scheduling between them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import assert_never

from sequencer.definition.model import Definition, Step, StepType
from sequencer.engine.actions import (
    Action,
    CreateTask,
    Decision,
    Finish,
    ScheduleAt,
    SendEmail,
    SkipStep,
)
from sequencer.engine.state import EnrollmentState, Facts, Status, evolve, with_status
from sequencer.engine.variants import pick_variant, step_key
from sequencer.errors import EngineError
from sequencer.timing.sendtime import mix, next_send_instant, next_send_time, wait_until
from sequencer.timing.timetable import Timetable, from_instant, to_instant

WEEK = timedelta(days=7)


def step_seed(state: EnrollmentState, step_id: str, round_: int) -> int:
    return mix(state.seed, step_key(step_id), round_)


def enter(
    definition: Definition,
    state: EnrollmentState,
    index: int,
    *,
    after: datetime,
    now: datetime,
    tt: Timetable,
    **changes: object,
) -> Decision:
    """Make step ``index`` the current one, due ``wait`` after ``after``.

    Exact-date steps whose date has passed are skipped (or sent at once); branches
    that are due resolve on the spot, with a guard against loops of branches.
    ``changes`` are applied to the state in the same copy (the hot path copies once).
    """
    actions: list[Action] = []
    after_s, now_s = to_instant(after), to_instant(now)
    rounds = state.rounds
    for _hop in range(len(definition.steps) + 1):
        if index >= len(definition.steps):
            finished = with_status(state, Status.FINISHED, step=None, due_at=None,
                                   waiting_on=None, rounds=rounds, **changes)
            return Decision(finished, (*actions, Finish()))
        step = definition.steps[index]
        round_ = rounds.get(step.id, 0) + 1
        rounds = {**rounds, step.id: round_}
        earliest = wait_until(after_s, step.wait, tt)
        if step.at is not None:
            earliest = max(earliest, tt.start_of_day(step.at.toordinal()))
        if step.type is StepType.BRANCH:
            if earliest <= now_s:
                facts = changes.get("facts", state.facts)
                assert isinstance(facts, Facts)
                index = branch_target(definition, facts, step)
                after_s = max(after_s, earliest)
                continue
            due = earliest  # a branch is not a touch: no window applies
        else:
            earliest = max(earliest, now_s)  # a late outcome never schedules into the past
            due = next_send_instant(earliest, tt, seed=step_seed(state, step.id, round_))
            if step.at is not None and step.if_past == "skip" \
                    and tt.local_ordinal(due) > step.at.toordinal():
                actions.append(SkipStep(step.id, round_, f"its date {step.at} has passed"))
                index += 1
                continue
        due_at = from_instant(due)
        state = evolve(state, step=step.id, due_at=due_at, waiting_on=None, rounds=rounds,
                       **changes)
        return Decision(state, (*actions, ScheduleAt(step.id, due_at)))
    raise EngineError(f"branches loop without a touch in {definition.name!r}")


def enter_next(
    definition: Definition, state: EnrollmentState, step_id: str, *, after: datetime,
    now: datetime, tt: Timetable, **changes: object,
) -> Decision:
    """Move past ``step_id`` to the step that follows it."""
    return enter(definition, state, definition.position(step_id) + 1, after=after, now=now,
                 tt=tt, **changes)


def branch_target(definition: Definition, facts: Facts, step: Step) -> int:
    assert step.condition is not None and step.goto is not None
    if step.condition.evaluate(facts):
        return definition.position(step.goto)
    if step.otherwise is not None:
        return definition.position(step.otherwise)
    return definition.position(step.id) + 1


def run_step(
    definition: Definition, state: EnrollmentState, step: Step, *, now: datetime, tt: Timetable
) -> Decision:
    """The current step is due: hand out its email or task, or resolve its branch."""
    match step.type:
        case StepType.EMAIL:
            return _run_email(definition, state, step)
        case (StepType.MANUAL_EMAIL | StepType.CALL | StepType.LINKEDIN_CONNECT
              | StepType.LINKEDIN_MESSAGE | StepType.LINKEDIN_VIEW | StepType.TASK):
            return _run_task(state, step, now=now)
        case StepType.BRANCH:
            target = branch_target(definition, state.facts, step)
            return enter(definition, state, target, after=now, now=now, tt=tt)
        case _:
            assert_never(step.type)


def thread_root(definition: Definition, step_id: str) -> str:
    """The step that started the conversation ``step_id`` writes into."""
    seen = {step_id}
    step = definition.step(step_id)
    while step.thread is not None and step.thread not in seen:
        seen.add(step.thread)
        step = definition.step(step.thread)
    return step.id


def _run_email(definition: Definition, state: EnrollmentState, step: Step) -> Decision:
    variant_id = state.variants.get(step.id)
    variant = next((v for v in step.variants if v.id == variant_id), None)
    variants = state.variants
    if variant is None:
        variant = pick_variant(step, state.seed)
        variants = {**variants, step.id: variant.id}
    subject, in_reply_to = variant.subject, None
    references: tuple[str, ...] = ()
    root = thread_root(definition, step.id) if step.thread else step.id
    thread = state.threads.get(root) if step.thread else None
    if step.thread and thread is None and subject is None:
        # The email it follows up was never sent (a branch went around it): start the
        # conversation with that email's subject instead of sending without one.
        first = definition.step(root)
        chosen = state.variants.get(root)
        subject = next((v.subject for v in first.variants if v.id == chosen and v.subject),
                       next((v.subject for v in first.variants if v.subject), None))
    if thread is not None:
        subject = thread.subject if thread.subject.lower().startswith("re:") \
            else f"Re: {thread.subject}"
        in_reply_to, references = thread.message_ids[-1], thread.message_ids
    send = SendEmail(step.id, state.round_of(step.id), variant.id, variant.template, subject,
                     in_reply_to, references)
    return Decision(evolve(state, waiting_on=step.id, variants=variants), (send,))


def _run_task(state: EnrollmentState, step: Step, *, now: datetime) -> Decision:
    variants = state.variants
    variant = None
    if step.variants:
        variant = pick_variant(step, state.seed)
        variants = {**variants, step.id: variant.id}
    task = CreateTask(step.id, state.round_of(step.id), step.type, now, step.instructions,
                      variant.template if variant else None,
                      variant.id if variant else None, variant.subject if variant else None)
    return Decision(evolve(state, waiting_on=step.id, variants=variants), (task,))


def window_closed(state: EnrollmentState, *, now: datetime, tt: Timetable) -> Decision | None:
    """Reschedule a touch that woke up late, outside every window; None if a window is open."""
    assert state.step is not None
    now_s = to_instant(now)
    opens, _ = tt.first_open(now_s)
    if opens <= now_s:
        return None
    due = from_instant(next_send_instant(now_s, tt, seed=step_seed(
        state, state.step, state.round_of(state.step))))
    return Decision(evolve(state, due_at=due), (ScheduleAt(state.step, due, "window closed"),))


def weekly_limit_reached(
    definition: Definition, state: EnrollmentState, recent: tuple[datetime, ...], *,
    now: datetime, tt: Timetable,
) -> Decision | None:
    """Defer a touch while the prospect already had their weekly maximum; None if allowed."""
    limit = definition.limits.max_touches_per_week
    if limit is None or len(recent) < limit or state.step is None:
        return None
    frees_at = sorted(recent)[len(recent) - limit] + WEEK
    round_ = state.round_of(state.step)
    due = next_send_time(max(frees_at, now), tt, seed=step_seed(state, state.step, round_))
    return Decision(evolve(state, due_at=due),
                    (ScheduleAt(state.step, due, "weekly touch limit reached"),))
