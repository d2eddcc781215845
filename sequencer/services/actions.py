"""What people do to enrollments: work tasks, pause/resume/exit, record stages and meetings.

Each action takes the enrollment's row lock and goes through the engine, like
the executor does, so a rep's click and a send in flight cannot both win.

A stage change or a meeting is a fact about the prospect, not about one enrollment:
it is told to every enrollment of theirs, and stored once, as an event tied to the
enrollment that was running at the time it happened (the funnel credits that one's
sequence; see docs/funnel.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sequencer.definition.model import TASK_OUTCOMES, StepType
from sequencer.engine import events as ev
from sequencer.engine.advance import advance
from sequencer.errors import EngineError, InputError
from sequencer.reporting.lifecycle import Lifecycle, load_lifecycle
from sequencer.runtime.effects import apply
from sequencer.runtime.executor import lock_enrollment
from sequencer.services.app import App
from sequencer.services.enrollment_actions import act_locked
from sequencer.services.learned import definition_for
from sequencer.store.bound import dialect_of, locked
from sequencer.store.codec import read_state
from sequencer.store.models import Enrollment, Event, Prospect, StepRun, Task
from sequencer.store.queries import enrollments_of
from sequencer.store.upsert import insert_ignoring


@dataclass(frozen=True, slots=True)
class TaskView:
    id: int
    kind: str
    step: str
    due_at: datetime
    state: str
    prospect: str
    sequence: str
    instructions: str | None


def list_tasks(app: App, *, state: str = "open", due_only: bool = False) -> list[TaskView]:
    now = app.clock.now()
    with app.sessions() as session:
        query = (select(Task, Prospect.email, Enrollment.sequence_name)
                 .join(Enrollment, Enrollment.id == Task.enrollment_id)
                 .join(Prospect, Prospect.id == Enrollment.prospect_id)
                 .where(Task.state == state).order_by(Task.due_at, Task.id))
        if due_only:
            query = query.where(Task.due_at <= now)
        return [TaskView(t.id, t.kind, t.step_id, t.due_at, t.state, email, name,
                         t.instructions) for t, email, name in session.execute(query)]


def complete_task(app: App, task_id: int, outcome: str, notes: str | None = None) -> str:
    """Close a task with its outcome and advance the enrollment (``skipped`` skips it).

    Raises:
        InputError: no such open task, or an outcome that does not fit its kind.
    """
    now = app.clock.now()
    with app.sessions.begin() as session:
        task = session.get(Task, task_id)
        if task is None or task.state != "open":
            raise InputError(f"no open task {task_id}")
        row = lock_enrollment(session, task.enrollment_id)
        definition = definition_for(session, app, row)
        if task.kind == "fix_template":
            raise InputError(f"task {task_id} asks to fix a template: fix it, then "
                             "'sequencer resume' the enrollment")
        allowed = TASK_OUTCOMES.get(StepType(task.kind), frozenset())
        if outcome not in allowed | {"skipped"}:
            raise InputError(f"{outcome!r} is not an outcome of a {task.kind} task "
                             f"(use {', '.join(sorted(allowed))})")
        task.state = "skipped" if outcome == "skipped" and "skipped" not in allowed else "done"
        task.outcome, task.notes, task.completed_at = outcome, notes, now
        event: ev.Event = (ev.StepSkipped(task.step_id, "skipped by the rep")
                           if outcome not in allowed else
                           ev.TaskCompleted(task.step_id, outcome, at=now))
        decision = advance(definition, read_state(row), event, now=now, calendar=app.calendar)
        apply(session, row, decision, now=now)
        _record(session, f"task:{task_id}", "task_completed", row, now,
                {"outcome": outcome, "step": task.step_id})
        return decision.state.status.value


def act_on(app: App, email: str, event: ev.Event, *, sequence: str | None = None,
           kind: str = "manual") -> list[tuple[str, str]]:
    """Apply ``event`` to every open enrollment of a prospect; (sequence, new status) each.

    Raises:
        InputError: the prospect has no enrollment.
    """
    now = app.clock.now()
    out = []
    with app.sessions.begin() as session:
        rows = enrollments_of(session, email, sequence)
        if not rows:
            raise InputError(f"{email} has no enrollment" + (f" in {sequence!r}" if sequence
                                                               else ""))
        for found in rows:
            try:
                row, status = act_locked(session, app, found.id, event, now)
            except EngineError as exc:
                raise InputError(str(exc)) from exc
            out.append((row.sequence_name, status.value))
        # A person's action has no natural idempotency key: each one is its own event.
        _record(session, f"{kind}:{type(event).__name__}:{uuid.uuid4().hex}", kind, rows[0],
                now, {"event": type(event).__name__, "prospect": email})
    return out


@dataclass(frozen=True, slots=True)
class Recorded:
    """What recording a stage change or a meeting did."""

    stage: str | None  # the prospect's stage now
    from_stage: str | None  # before the change (stage changes only)
    enrollments: list[tuple[str, str]]  # (sequence, status after) of each enrollment told
    duplicate: bool = False  # the ``key`` was recorded before: nothing changed


def record_stage(app: App, email: str, stage: str, *, value: float | None = None,
                 currency: str | None = None, at: datetime | None = None,
                 lifecycle: Lifecycle | None = None, key: str | None = None) -> Recorded:
    """The prospect reached ``stage`` (at ``at``, default now), with a deal value if given.

    The stage name is checked against the lifecycle (``None``: the one configured for
    the working directory) and stored in its configured spelling; the prospect's
    ``stage`` becomes it unless a later change is already recorded (a back-dated entry).
    ``key`` (e.g. a CRM's event id) makes it idempotent: recorded once under that key,
    a second call with it changes nothing and answers ``duplicate``.

    Raises:
        InputError: unknown prospect or stage, a negative value, a naive or future ``at``.
    """
    lifecycle = lifecycle or load_lifecycle()
    stage = lifecycle.resolve(stage)
    if value is not None and value < 0:
        raise InputError(f"a deal value cannot be negative ({value})")
    now = app.clock.now()
    when = _when(at, now)
    with app.sessions.begin() as session:
        prospect = _locked_prospect(session, email)
        before, later = _stages_around(session, prospect, when)
        payload: dict[str, object] = {
            "event": "StageChanged", "prospect": prospect.email, "stage": stage,
            "from_stage": before, "value": value,
            "currency": None if value is None else (currency or lifecycle.currency).upper()}
        if not _record_fact(session, "stage_changed", prospect, when, now, payload, key):
            return Recorded(prospect.stage, None, [], duplicate=True)
        told = _tell_all(session, app, prospect, ev.StageChanged(stage), now)
        if later is None:
            prospect.stage = stage
        return Recorded(prospect.stage, before, told)


def record_meeting(app: App, email: str, *, at: datetime | None = None,
                   key: str | None = None) -> Recorded:
    """A meeting was booked with the prospect (at ``at``, default now); ``key`` as for
    :func:`record_stage`.

    Raises:
        InputError: unknown prospect, a naive or future ``at``.
    """
    now = app.clock.now()
    when = _when(at, now)
    with app.sessions.begin() as session:
        prospect = _locked_prospect(session, email)
        if not _record_fact(session, "meeting_booked", prospect, when, now,
                            {"event": "MeetingBooked", "prospect": prospect.email}, key):
            return Recorded(prospect.stage, None, [], duplicate=True)
        told = _tell_all(session, app, prospect, ev.MeetingBooked(), now)
        return Recorded(prospect.stage, None, told)


def _when(at: datetime | None, now: datetime) -> datetime:
    if at is None:
        return now
    if at.tzinfo is None or at.utcoffset() is None:
        raise InputError(f"{at.isoformat()} has no time zone (add Z or an offset like +02:00)")
    if at > now:
        raise InputError(f"{at.isoformat()} is in the future: record what has happened")
    return at


def _locked_prospect(session: Session, email: str) -> Prospect:
    # Locked: two changes at once cannot both read one 'before'.
    prospect = session.scalars(locked(select(Prospect).where(
        Prospect.email_key == email.strip().lower()), dialect_of(session))).one_or_none()
    if prospect is None:
        raise InputError(f"no prospect {email}")
    return prospect


def _stages_around(session: Session, prospect: Prospect, when: datetime
                   ) -> tuple[str | None, datetime | None]:
    """The stage the prospect was in at ``when``, and the time of a later change if any."""
    changes = session.execute(select(Event.occurred_at, Event.payload).where(
        Event.prospect_id == prospect.id, Event.kind == "stage_changed")
        .order_by(Event.occurred_at, Event.id)).all()
    earlier = [payload.get("stage") for at, payload in changes if at <= when]
    later = next((at for at, _ in changes if at > when), None)
    if earlier:
        return earlier[-1], later
    return (prospect.stage if later is None else None), later


def _tell_all(session: Session, app: App, prospect: Prospect, event: ev.Event, now: datetime
              ) -> list[tuple[str, str]]:
    out = []
    for found in enrollments_of(session, prospect.email):
        row = lock_enrollment(session, found.id)
        definition = definition_for(session, app, row)
        decision = advance(definition, read_state(row), event, now=now, calendar=app.calendar)
        apply(session, row, decision, now=now)
        out.append((row.sequence_name, decision.state.status.value))
    return out


def _record_fact(session: Session, kind: str, prospect: Prospect, when: datetime,
                 now: datetime, payload: dict[str, object], key: str | None = None) -> bool:
    """Store the fact once, tied to the enrollment running when it happened (the latest
    started by then, else the first one); False when ``key`` was stored before.

    The row goes in before anyone is told, with ON CONFLICT DO NOTHING on its source
    key, so the same keyed fact arriving twice at once is acted on by one of them."""
    rows = session.scalars(select(Enrollment).where(Enrollment.prospect_id == prospect.id)
                           .order_by(Enrollment.started_at, Enrollment.id)).all()
    running = [r for r in rows if r.started_at <= when]
    row = running[-1] if running else (rows[0] if rows else None)
    payload = {**payload, **({"recorded_at": now.isoformat()} if when != now else {})}
    inserted = session.execute(insert_ignoring(session, Event, ("source_key",)).returning(
        Event.id), [{"kind": kind, "source_key": (key or f"{kind}:{uuid.uuid4().hex}")[:500],
                     "prospect_id": prospect.id, "enrollment_id": row.id if row else None,
                     "occurred_at": when, "payload": payload}]).first()
    return inserted is not None


def _record(session: Session, key: str, kind: str, row: Enrollment, now: datetime,
            payload: dict[str, object]) -> None:
    session.add(Event(kind=kind, source_key=key, prospect_id=row.prospect_id,
                      enrollment_id=row.id, occurred_at=now, payload=payload))


def open_runs(session: Session, enrollment_id: int) -> list[StepRun]:
    return list(session.scalars(select(StepRun).where(
        StepRun.enrollment_id == enrollment_id).order_by(StepRun.id)))
