"""Writing an engine ``Decision`` to the store, inside the caller's transaction.

Every enrollment-changing path (executor, scheduler wake-ups, tasks, manual
actions, inbound events) goes through ``apply``, so a status is stored in one
way only. Sending is not an effect here: the executor owns the two-phase send.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from sequencer.engine.actions import (
    CreateTask,
    Decision,
    Exit,
    Finish,
    ScheduleAt,
    SkipStep,
)
from sequencer.store.codec import write_state
from sequencer.store.models import Enrollment, StepRun, Task
from sequencer.store.queries import mailbox_owner


def apply(session: Session, row: Enrollment, decision: Decision, *, now: datetime,
          run: StepRun | None = None) -> None:
    """Store the new state and the side effects that are rows (tasks, skipped runs)."""
    write_state(row, decision.state)
    for name, value in row_effects(decision, now).items():
        setattr(row, name, value)
    for action in decision.actions:
        match action:
            case SkipStep(step=step, round=round_, reason=reason):
                session.add(StepRun(enrollment_id=row.id, step_id=step, round=round_,
                                    kind="skip", state="skipped", claimed_at=now,
                                    finished_at=now, error=reason))
            case CreateTask():
                if run is None:  # a task always comes from a claimed run
                    raise AssertionError("a task needs its step run")
                session.add(Task(step_run_id=run.id, enrollment_id=row.id,
                                 kind=action.kind.value, step_id=action.step,
                                 due_at=action.due_at, instructions=action.instructions,
                                 draft_subject=action.subject, state="open",
                                 assignee=mailbox_owner(session, row.mailbox_id)))
                run.state = "task_created"
                run.finished_at = now
            case _:
                pass


def row_effects(decision: Decision, now: datetime) -> dict[str, Any]:
    """The enrollment columns the decision's actions set (beyond its state)."""
    changes: dict[str, Any] = {}
    for action in decision.actions:
        match action:
            case ScheduleAt(reason=reason):
                changes["schedule_note"] = reason or None
            case Exit() | Finish():
                changes["ended_at"] = now
                changes["schedule_note"] = None
            case _:
                pass
    return changes


def only_row_effects(decision: Decision) -> bool:
    """True when storing the decision creates no rows (no task, no skipped run)."""
    return not any(isinstance(a, SkipStep | CreateTask) for a in decision.actions)
