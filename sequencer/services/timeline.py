"""What happened to a prospect, or to one enrollment, in time order: one builder.

Read from what the store already keeps: enrollments (enrolled, finished, exited),
messages (each email sent, with its subject), tasks (created when their step came
due, completed with an outcome or skipped), failed or uncertain step runs, and the
events table (replies, auto-replies, bounces, unsubscribes, opens, clicks, meetings,
stage changes, pauses, resumes and exits by hand, reply marks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sequencer.services.app import App
from sequencer.store.models import Enrollment, Event, Mailbox, Message, Prospect, StepRun, Task


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    kind: str
    summary: str
    sequence: str | None
    enrollment_id: int | None
    step: str | None


Add = Callable[..., None]  # add(at, order, kind, summary, enrollment_id, step=None)


def prospect_timeline(app: App, prospect_id: int) -> list[TimelineEntry]:
    """Everything about the prospect, oldest first (empty for an unknown prospect)."""
    with app.sessions() as session:
        enrollments = session.scalars(select(Enrollment).where(
            Enrollment.prospect_id == prospect_id).order_by(Enrollment.id)).all()
        events = session.scalars(select(Event).where(Event.prospect_id == prospect_id)
                                 .order_by(Event.occurred_at, Event.id)).all()
        return _build(session, list(enrollments), list(events))


def enrollment_history(app: App, enrollment_id: int) -> list[TimelineEntry]:
    """Everything about one enrollment, oldest first (empty for an unknown one)."""
    with app.sessions() as session:
        enrollments = session.scalars(select(Enrollment).where(
            Enrollment.id == enrollment_id)).all()
        events = session.scalars(select(Event).where(Event.enrollment_id == enrollment_id)
                                 .order_by(Event.occurred_at, Event.id)).all()
        return _build(session, list(enrollments), list(events))


def prospect_exists(app: App, prospect_id: int) -> bool:
    with app.sessions() as session:
        return session.get(Prospect, prospect_id) is not None


def _build(session: Session, enrollments: list[Enrollment], events: list[Event]
           ) -> list[TimelineEntry]:
    names = {e.id: e.sequence_name for e in enrollments}
    ids = list(names)
    out: list[tuple[datetime, int, TimelineEntry]] = []

    def add(at: datetime | None, order: int, kind: str, summary: str,
            enrollment_id: int | None, step: str | None = None) -> None:
        if at is not None:
            out.append((at, order, TimelineEntry(at, kind, summary, names.get(
                enrollment_id) if enrollment_id is not None else None, enrollment_id, step)))

    mailboxes: dict[int, str] = {}
    if enrollments:
        mailboxes = {i: a for i, a in session.execute(select(Mailbox.id, Mailbox.address)
                     .where(Mailbox.id.in_({e.mailbox_id for e in enrollments})))}
    for e in enrollments:
        add(e.started_at, 0, "enrolled", f"enrolled in {e.sequence_name} from "
            f"{mailboxes.get(e.mailbox_id, '?')}", e.id)
        if e.ended_at is not None and e.status == "finished":
            add(e.ended_at, 9, "finished", f"finished {e.sequence_name}: every step done", e.id)
        elif e.ended_at is not None and e.status == "exited":
            add(e.ended_at, 9, "exited", f"left {e.sequence_name}: {e.exit_reason}", e.id)
    if ids:
        _touches(session, ids, add)
    for event in events:
        if event.kind == "task_completed":
            continue  # told by the task itself, with its outcome
        payload: dict[str, Any] = dict(event.payload or {})
        add(event.occurred_at, 3, event.kind, _summary(event.kind, payload),
            event.enrollment_id, _str(payload.get("step")))
    out.sort(key=lambda item: (item[0], item[1]))
    return [entry for _, _, entry in out]


def _touches(session: Session, ids: list[int], add: Add) -> None:
    """Emails sent, tasks created and completed, steps failed or in doubt."""
    for m, step in session.execute(select(Message, StepRun.step_id).join(
            StepRun, StepRun.id == Message.step_run_id).where(
            Message.enrollment_id.in_(ids), Message.sent_at.is_not(None))):
        variant = f" (variant {m.variant})" if m.variant else ""
        add(m.sent_at, 1, "email_sent", f"email sent: {m.subject!r}{variant}",
            m.enrollment_id, step)
    for t, claimed in session.execute(select(Task, StepRun.claimed_at).join(
            StepRun, StepRun.id == Task.step_run_id).where(Task.enrollment_id.in_(ids))):
        label = t.kind.replace("_", " ")
        add(claimed, 1, "task_created", f"{label} task for the rep (due "
            f"{t.due_at:%Y-%m-%d %H:%M} UTC)", t.enrollment_id, t.step_id)
        if t.completed_at is not None:
            done = "skipped" if t.state == "skipped" else f"done: {t.outcome}"
            note = f" ({t.notes})" if t.notes else ""
            add(t.completed_at, 2, "task_skipped" if t.state == "skipped" else
                "task_completed", f"{label} task {done}{note}", t.enrollment_id, t.step_id)
    for run in session.scalars(select(StepRun).where(
            StepRun.enrollment_id.in_(ids), StepRun.state.in_(("failed", "uncertain")))):
        add(run.finished_at or run.claimed_at, 2, f"step_{run.state}",
            f"{run.step_id} {run.state}" + (f": {run.error}" if run.error else ""),
            run.enrollment_id, run.step_id)


def _summary(kind: str, p: dict[str, Any]) -> str:  # noqa: C901 - one line per kind
    reason = _str(p.get("reason"))
    match kind:
        case "reply":
            text = " ".join((_str(p.get("reply_text")) or "").split())
            return "replied" + (f": {text[:140]}" if text else "")
        case "auto_reply":
            back = _str(p.get("return_date"))
            return "out-of-office reply" + (f", back {back}" if back else "")
        case "hard_bounce" | "soft_bounce" | "blocked":
            label = {"hard_bounce": "hard bounce", "soft_bounce": "soft bounce",
                     "blocked": "blocked by the receiving server"}[kind]
            status = _str(p.get("status"))
            return label + (f" ({status})" if status else "") + (f": {reason}" if reason
                                                                   else "")
        case "unsubscribe":
            return "unsubscribed" + (f" ({reason})" if reason else "")
        case "open":
            return "opened the email"
        case "click":
            url = _str(p.get("url"))
            return "clicked a link" + (f": {url}" if url else "")
        case "stage_changed":
            before = _str(p.get("from_stage"))
            return f"stage: {before + ' -> ' if before else ''}{p.get('stage')}"
        case "meeting_booked":
            return "meeting booked"
        case "manual_pause":
            until = _str(p.get("until"))
            return f"paused by hand: {reason or 'paused'}" + (f", until {until}" if until
                                                               else "")
        case "manual_resume":
            return "resumed by hand"
        case "manual_exit":
            return f"exited by hand: {reason or 'exited'}"
        case "reply_marked":
            return f"reply marked {p.get('verdict')}"
        case _:
            what = _str(p.get("event"))
            return kind.replace("_", " ") + (f" ({what})" if what else "")


def _str(value: object) -> str | None:
    return None if value is None else str(value)
