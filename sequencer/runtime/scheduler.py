"""The scheduler: claim due enrollments, create their step runs, hand them to executors.

Several schedulers may run at once: on PostgreSQL the claim takes row locks with
``FOR UPDATE SKIP LOCKED`` and the step run's unique key (enrollment, step,
round) makes a second claim of the same step a harmless no-op. Wake-ups that
need no I/O (a pause ending, a branch resolving) are applied right here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from sequencer.definition.model import StepType
from sequencer.engine import events as ev
from sequencer.engine.advance import advance
from sequencer.engine.state import Status, evolve
from sequencer.runtime.effects import apply
from sequencer.runtime.executor import advance_after_send, lock_enrollment
from sequencer.services.app import App
from sequencer.services.sequences import definition_of
from sequencer.store.codec import read_state
from sequencer.store.models import Enrollment, Message, StepRun
from sequencer.store.upsert import insert_ignoring

CLAIM_BATCH = 500
STUCK_SENDING = timedelta(seconds=600)  # the default; settings.stuck_sending_seconds rules

Enqueue = Callable[[int], None]


@dataclass
class TickReport:
    claimed: int = 0
    woken: int = 0
    requeued: int = 0
    uncertain: int = 0


def tick(app: App, enqueue: Enqueue, *, limit: int = CLAIM_BATCH) -> TickReport:
    """One scheduler pass: sweep stuck runs, then claim what is due and enqueue it."""
    report = TickReport()
    report.requeued, report.uncertain = sweep(app, enqueue)
    runs: list[int] = []
    try:
        with app.sessions.begin() as session:
            for row in _due(session, app.clock.now(), limit):
                run_id = _claim(session, app, row)
                if run_id is None:
                    report.woken += 1
                else:
                    runs.append(run_id)
    except StaleDataError:
        # Another scheduler changed one of these enrollments first (SQLite has no SKIP
        # LOCKED): this pass is rolled back whole and the next one claims what is left.
        return report
    for run_id in runs:  # enqueue only after the claim committed
        enqueue(run_id)
    report.claimed = len(runs)
    return report


def _due(session: Session, now: datetime, limit: int) -> list[Enrollment]:
    query = (select(Enrollment).where(Enrollment.next_run_at <= now)
             .order_by(Enrollment.next_run_at).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def _claim(session: Session, app: App, row: Enrollment) -> int | None:
    """Create (or revive) the step run of a due enrollment; None when it needed no executor."""
    now = app.clock.now()
    definition = definition_of(session, app, row.sequence_version_id)
    state = read_state(row)
    step = definition.step(state.step) if state.step else None
    if state.status is not Status.ACTIVE or step is None or step.type is StepType.BRANCH:
        decision = advance(definition, state, ev.Due(), now=now, calendar=app.calendar)
        apply(session, row, decision, now=now)
        return None
    round_ = state.round_of(step.id)
    run_id = _insert_run(session, row.id, step.id, round_, step.type.value, row.due_at, now)
    row.next_run_at = None  # it is with an executor now; the sweeper covers a lost message
    row.schedule_note = "queued"
    return run_id


def _insert_run(session: Session, enrollment_id: int, step_id: str, round_: int, kind: str,
                scheduled_for: datetime | None, now: datetime) -> int:
    session.execute(insert_ignoring(session, StepRun, ("enrollment_id", "step_id", "round")),
                    [{"enrollment_id": enrollment_id, "step_id": step_id, "round": round_,
                      "kind": kind, "state": "claimed", "scheduled_for": scheduled_for,
                      "claimed_at": now, "attempts": 0}])
    run = session.scalars(select(StepRun).where(
        StepRun.enrollment_id == enrollment_id, StepRun.step_id == step_id,
        StepRun.round == round_)).one()
    if run.state == "deferred":  # a run put off earlier (cap, window, retry) is claimed again
        run.state = "claimed"
    run.claimed_at = now
    return run.id


def sweep(app: App, enqueue: Enqueue) -> tuple[int, int]:
    """Recover what a dead worker left behind; returns (re-enqueued, now uncertain).

    - ``claimed`` too long (its broker message was lost): enqueued again.
    - ``ready`` too long (prepared, never handed over): nothing left, so the step is
      rescheduled and goes out later with the same Message-ID.
    - ``sending`` too long: it may or may not have reached the server. It is never
      resent blindly; it becomes ``uncertain`` for reconciliation or an operator.
    - ``sent`` but the enrollment still waits on it: the engine's advance is replayed.
    """
    now = app.clock.now()
    stuck_claim = timedelta(seconds=app.settings.stuck_claim_seconds)
    stuck_sending = timedelta(seconds=app.settings.stuck_sending_seconds)
    with app.sessions.begin() as session:
        stuck = list(session.scalars(select(StepRun).where(
            StepRun.state == "claimed", StepRun.claimed_at < now - stuck_claim)))
        for run in stuck:
            run.claimed_at = now
        # Conditional on the state read: a worker may record 'sent' at this very moment.
        silent = session.execute(update(StepRun).where(
            StepRun.state == "sending", StepRun.sending_started_at < now - stuck_sending)
            .values(state="uncertain", error="the worker stopped between handing the message "
                    "over and recording it")).rowcount  # type: ignore[attr-defined]
        requeue = [run.id for run in stuck]
    _retry_abandoned(app, now - stuck_claim)
    _replay_advances(app, now - stuck_claim)
    for run_id in requeue:
        enqueue(run_id)
    return len(requeue), int(silent or 0)


def _retry_abandoned(app: App, before: datetime) -> None:
    """Runs prepared but never handed over: put off, so the scheduler claims them again."""
    with app.sessions() as session:
        candidates = session.execute(select(
            StepRun.id, StepRun.enrollment_id, StepRun.step_id, StepRun.attempts).where(
            StepRun.state == "ready", StepRun.claimed_at < before)).all()
    for run_id, enrollment_id, step_id, attempts in candidates:
        with app.sessions.begin() as session:
            row = lock_enrollment(session, enrollment_id)
            # Only if that very preparation is still unsent: a worker may have just
            # marked it 'sending' (then it is not ours to touch).
            taken = session.execute(update(StepRun).where(
                StepRun.id == run_id, StepRun.state == "ready", StepRun.attempts == attempts)
                .values(state="deferred")).rowcount  # type: ignore[attr-defined]
            if not taken:
                continue
            definition = definition_of(session, app, row.sequence_version_id)
            state = evolve(read_state(row), waiting_on=None)
            decision = advance(definition, state, ev.Deferred(
                step_id, app.clock.now(), "retrying a send a worker never started"),
                now=app.clock.now(), calendar=app.calendar)
            apply(session, row, decision, now=app.clock.now())


def _replay_advances(app: App, before: datetime) -> None:
    """Runs recorded sent whose enrollment was never told: tell it now."""
    with app.sessions() as session:
        pending = session.execute(
            select(StepRun.enrollment_id, StepRun.step_id, Message.message_id, Message.subject)
            .join(Enrollment, Enrollment.id == StepRun.enrollment_id)
            .join(Message, Message.step_run_id == StepRun.id)
            .where(StepRun.state == "sent", StepRun.finished_at < before,
                   Enrollment.waiting_on == StepRun.step_id,
                   Enrollment.current_step == StepRun.step_id)).all()
    for enrollment_id, step, message_id, subject in pending:
        advance_after_send(app, enrollment_id, step, message_id, subject)
