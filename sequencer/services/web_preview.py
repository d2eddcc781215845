"""The sequence page's calendar preview: the next touches of a sample of a
sequence's live enrollments.

The preview starts from each sampled enrollment's stored state and runs the same
engine the simulator runs, with the simulator's assumptions (reps work each task
when it falls due, nobody answers, no mailbox cap pushes a send back): unlike
``simulate``, which enrolls synthetic prospects at step one, it shows what comes
next for enrollments that are already part way through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from sequencer.definition.model import Definition, Step, StepType
from sequencer.engine import events as ev
from sequencer.engine.actions import CreateTask, SendEmail
from sequencer.engine.advance import advance
from sequencer.engine.state import EnrollmentState, Status
from sequencer.errors import EngineError
from sequencer.services.app import App
from sequencer.services.learned import definition_for
from sequencer.store.codec import read_state
from sequencer.store.models import Enrollment, Prospect, SequenceVersion

PREVIEW_SAMPLE = 20
PREVIEW_DAYS = 14
_MAX_DECISIONS = 200  # per enrollment: a goto loop must not spin the page
_ASSUMED_OUTCOME = {StepType.CALL: "no_answer"}  # every other task kind: "done"


@dataclass(frozen=True, slots=True)
class PreviewTouch:
    enrollment_id: int
    prospect_id: int
    prospect_email: str
    timezone: str
    step: str
    type: str
    at: datetime  # UTC


@dataclass(frozen=True, slots=True)
class SequencePreview:
    name: str
    version: str
    sampled: int  # active enrollments previewed
    start: datetime
    end: datetime
    touches: tuple[PreviewTouch, ...]  # soonest first


def sequence_preview(app: App, name: str, *, sample: int = PREVIEW_SAMPLE,
                     days: int = PREVIEW_DAYS) -> SequencePreview | None:
    """The latest published version of ``name`` and the next touches, over ``days``, of
    up to ``sample`` of its active enrollments (the soonest due); None for no such
    sequence."""
    now = app.clock.now()
    end = now + timedelta(days=days)
    with app.sessions() as session:
        latest = session.scalars(select(SequenceVersion).where(SequenceVersion.name == name)
                                 .order_by(SequenceVersion.id.desc()).limit(1)).first()
        if latest is None:
            return None
        rows = session.execute(
            select(Enrollment, Prospect.email).join(Prospect, Prospect.id == Enrollment.prospect_id)
            .where(Enrollment.sequence_name == name, Enrollment.status == Status.ACTIVE.value)
            .order_by(Enrollment.next_run_at, Enrollment.id).limit(sample)).all()
        touches: list[PreviewTouch] = []
        for row, email in rows:
            pinned = definition_for(session, app, row)
            for step, kind, at in project(pinned, read_state(row), now=now, end=end, app=app):
                touches.append(PreviewTouch(row.id, row.prospect_id, email, row.timezone, step,
                                            kind, at))
    touches.sort(key=lambda t: (t.at, t.enrollment_id))
    return SequencePreview(name, latest.version, len(rows), now, end, tuple(touches))


def project(definition: Definition, state: EnrollmentState, *, now: datetime, end: datetime,
            app: App) -> list[tuple[str, str, datetime]]:
    """(step, type, UTC time) of each touch ``state`` makes before ``end``, if nobody
    answers and every task is worked when due."""
    out: list[tuple[str, str, datetime]] = []
    at = now
    pending: ev.Event | None = _handed_out(definition, state)
    for _ in range(_MAX_DECISIONS):
        if pending is None:
            if state.status is not Status.ACTIVE or state.due_at is None:
                break
            at = max(at, state.due_at)
            if at >= end:
                break
            pending = ev.Due()
        try:
            decision = advance(definition, state, pending, now=at, calendar=app.calendar)
        except EngineError:
            break  # a state the preview cannot follow: show what it has
        state, pending = decision.state, None
        for action in decision.actions:
            if isinstance(action, SendEmail):
                out.append((action.step, StepType.EMAIL.value, at))
                pending = ev.EmailSent(action.step, f"<preview.{action.step}@sequencer>",
                                       action.subject or action.step, at=at)
            elif isinstance(action, CreateTask):
                due = max(at, action.due_at)
                out.append((action.step, action.kind.value, due))
                at = due
                pending = ev.TaskCompleted(action.step, _ASSUMED_OUTCOME.get(action.kind, "done"),
                                           at=due)
    return out


def _handed_out(definition: Definition, state: EnrollmentState) -> ev.Event | None:
    """The completion of the email or task the enrollment waits on today, if any."""
    if state.waiting_on is None or state.waiting_on not in definition.index:
        return None
    step: Step = definition.step(state.waiting_on)
    if step.type is StepType.EMAIL:
        return ev.EmailSent(step.id, f"<preview.{step.id}@sequencer>", step.id)
    return ev.TaskCompleted(step.id, _ASSUMED_OUTCOME.get(step.type, "done"))
