"""The scheduler: claim due enrollments, create their step runs, hand them to executors.

Several schedulers may run at once: on PostgreSQL the claim takes row locks with
``FOR UPDATE SKIP LOCKED`` and the step run's unique key (enrollment, step,
round) makes a second claim of the same step a harmless no-op. Wake-ups that
need no I/O (a pause ending, a branch resolving) are applied right here.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from sequencer.definition.model import Definition, Step, StepType
from sequencer.engine import events as ev
from sequencer.engine.advance import advance
from sequencer.engine.state import EnrollmentState, Status, evolve
from sequencer.runtime.effects import apply
from sequencer.runtime.executor import advance_after_send, lock_enrollment
from sequencer.services.app import App
from sequencer.services.learned import definition_for
from sequencer.services.sequences import definition_of
from sequencer.store.bound import dialect_of, locked
from sequencer.store.bulk import BulkInsert, BulkUpdate
from sequencer.store.codec import read_state
from sequencer.store.models import Enrollment, Message, StepRun
from sequencer.store.upsert import insert_ignoring

ENROLLMENTS: Table = Enrollment.__table__  # type: ignore[assignment]
RUNS: Table = StepRun.__table__  # type: ignore[assignment]
CLAIM_BATCH = 500
STUCK_SENDING = timedelta(seconds=600)  # the default; settings.stuck_sending_seconds rules

Enqueue = Callable[[Sequence[int]], None]  # one message per run, in one go where it can


@dataclass
class TickReport:
    claimed: int = 0
    woken: int = 0
    requeued: int = 0
    uncertain: int = 0


def tick(app: App, enqueue: Enqueue, *, limit: int = CLAIM_BATCH,
         sweeping: bool = True) -> TickReport:
    """One scheduler pass: sweep stuck runs (unless told not to), claim what is due, enqueue."""
    report = TickReport()
    if sweeping:
        report.requeued, report.uncertain = sweep(app, enqueue)
    try:
        with app.sessions.begin() as session:
            runs, report.woken = claim(session, app, limit)
    except StaleDataError:
        # Another scheduler changed one of these enrollments first (SQLite has no SKIP
        # LOCKED): this pass is rolled back whole and the next one claims what is left.
        return report
    if runs:  # enqueued only after the claim committed
        enqueue(runs)
    report.claimed = len(runs)
    return report


def serve(app: App, enqueue: Enqueue, stop: threading.Event, *, poll: float,
          limit: int = CLAIM_BATCH, sweep_every: float = 5.0,
          on_error: Callable[[Exception], bool] | None = None) -> None:
    """Pass after pass until ``stop`` is set, resting ``poll`` seconds unless a pass
    left more due behind it (a full batch, or a wake-up that may have made a step due).

    A pass that claimed less than a batch took everything due: passing again at once
    claimed a run or two each time, and a scheduler under a steady trickle spent a
    third of a core on passes (bench/throughput.py's second phase). What falls due
    meanwhile waits at most ``poll``, as it does when nothing was due.

    ``on_error`` decides whether an exception is passing (it returns True: rest, then
    go on; claims are committed before they are enqueued, so the sweeper re-enqueues
    what could not be) or is raised.
    """
    last_sweep: datetime | None = None
    while not stop.is_set():
        now = app.clock.now()
        sweeping = last_sweep is None or (now - last_sweep).total_seconds() >= sweep_every
        try:
            report = tick(app, enqueue, limit=limit, sweeping=sweeping)
        except Exception as exc:
            if on_error is None or not on_error(exc):
                raise
            stop.wait(max(poll, 1.0))
            continue
        if sweeping:
            last_sweep = now
        if took_all_due(report, limit):
            stop.wait(poll)


def took_all_due(report: TickReport, limit: int) -> bool:
    """Whether a pass left nothing due behind it: it claimed less than a full batch and
    woke nothing (a pause ending or a branch resolving may make a step due at once)."""
    return not report.woken and report.claimed < limit


def claim(session: Session, app: App, limit: int) -> tuple[list[int], int]:
    """Claim up to ``limit`` due enrollments; returns the runs to execute and the wake-ups.

    The common case (an active enrollment due for a step that needs an executor)
    is claimed for the whole batch in three statements: the locking select, one
    multi-row upsert of the step runs, one update of the enrollments. The rest
    (wake-ups, branches, a run that already exists) goes through ``_claim_one``.
    """
    now = app.clock.now()
    dialect = dialect_of(session)
    wanted: dict[int, dict[str, object]] = {}
    others: list[int] = []
    versions: dict[int, int] = {}
    for row in session.execute(_due_query(dialect), {"b_now": now, "b_limit": limit}).all():
        versions[row.id] = row.row_version
        definition = definition_of(session, app, row.sequence_version_id)
        state = read_state(row)
        step = _executor_step(definition, state)
        if step is None:
            others.append(row.id)
            continue
        wanted[row.id] = {"enrollment_id": row.id, "step_id": step.id,
                          "round": state.round_of(step.id), "kind": step.type.value,
                          "state": "claimed", "scheduled_for": row.due_at, "claimed_at": now,
                          "attempts": 0}
    runs: dict[int, int] = {}
    if wanted:
        runs = {enrollment_id: run_id for run_id, enrollment_id in _CLAIMS.execute(
            session, list(wanted.values()))}
        if runs:
            seen = [{"id": enrollment_id, "row_version": versions[enrollment_id]}
                    for enrollment_id in runs]
            if _QUEUED.execute(session, seen) != len(seen):
                raise StaleDataError("another scheduler claimed some of these enrollments")
    woken = 0
    claimed = list(runs.values())
    for enrollment_id in [*others, *(e for e in wanted if e not in runs)]:
        run_id = _claim_one(session, app, enrollment_id, versions[enrollment_id])
        if run_id is None:
            woken += 1
        else:
            claimed.append(run_id)
    return claimed, woken


# Built once per dialect: a scheduler polling every few tens of milliseconds spent
# more CPU constructing these statements than PostgreSQL spent running them.
@functools.cache
def _due_query(dialect: str) -> Any:
    """Due enrollments, soonest first; skipping rows another scheduler holds."""
    query = (select(ENROLLMENTS).where(ENROLLMENTS.c.next_run_at <= bindparam("b_now"))
             .order_by(ENROLLMENTS.c.next_run_at).limit(bindparam("b_limit")))
    return locked(query, dialect, skip_locked=True)


# Claimed: with an executor now (the sweeper covers a lost message), if no other
# scheduler moved it since it was read.
_QUEUED = BulkUpdate(ENROLLMENTS, key=("id", "row_version"), also={
    "next_run_at": None, "schedule_note": "queued",
    "row_version": ENROLLMENTS.c.row_version + 1})


def _claim_again(statement: Any) -> Any:
    """A run put off earlier (cap, window, retry) is claimed again; a run in any other
    state (claimed, sent...) is left alone and not returned."""
    return statement.on_conflict_do_update(
        index_elements=["enrollment_id", "step_id", "round"],
        set_={"state": "claimed", "claimed_at": statement.excluded.claimed_at},
        where=RUNS.c.state == "deferred")


# The step runs of a pass, in one statement (``sequencer.store.bulk``).
_CLAIMS = BulkInsert(RUNS, on_conflict=_claim_again, returning=("id", "enrollment_id"))


def _executor_step(definition: Definition, state: EnrollmentState) -> Step | None:
    """The step an executor must run now; None when the scheduler settles it itself
    (a pause ending, a branch resolving, an enrollment no longer active)."""
    step = definition.step(state.step) if state.step else None
    if state.status is not Status.ACTIVE or step is None or step.type is StepType.BRANCH:
        return None
    return step


def _claim_one(session: Session, app: App, enrollment_id: int, version: int) -> int | None:
    """Claim (or wake) one enrollment with every rule; None when it needed no executor."""
    now = app.clock.now()
    row = session.get(Enrollment, enrollment_id)
    if row is None or row.row_version != version:
        raise StaleDataError("another scheduler moved this enrollment first")
    definition = definition_for(session, app, row)
    state = read_state(row)
    step = _executor_step(definition, state)
    if step is None:
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
    if requeue:
        enqueue(requeue)
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
            definition = definition_for(session, app, row)
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
