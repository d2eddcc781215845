"""``sequencer explain EMAIL``: what comes next for each enrollment, and why not yet.

The answer to "why didn't this send?": the window it waits for (in the prospect's
local time), the mailbox cap, the pause and until when, the suppression, the
rep's task it waits on, or the send in doubt.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sequencer.errors import InputError
from sequencer.services.app import App
from sequencer.services.sequences import definition_of
from sequencer.store.models import (
    Enrollment,
    Mailbox,
    Prospect,
    StepRun,
    Task,
)
from sequencer.store.queries import enrollments_of, sent_today, suppression_reason


def explain(app: App, email: str) -> list[dict[str, object]]:
    """One entry per enrollment of the prospect, newest last.

    Raises:
        InputError: no such prospect or no enrollment.
    """
    now = app.clock.now()
    with app.sessions() as session:
        rows = enrollments_of(session, email)
        if not rows:
            raise InputError(f"{email} has no enrollment")
        prospect = session.get(Prospect, rows[0].prospect_id)
        assert prospect is not None
        suppressed = suppression_reason(session, prospect.email_key)
        return [explain_enrollment(session, app, row, now, suppressed) for row in rows]


def explain_enrollment(session: Session, app: App, row: Enrollment, now: datetime,
                       suppressed: str | None) -> dict[str, object]:
    """What comes next for ``row`` and why it has not happened yet (its history too)."""
    definition = definition_of(session, app, row.sequence_version_id)
    zone = ZoneInfo(row.timezone)
    step = definition.step(row.current_step) if row.current_step else None
    entry: dict[str, object] = {
        "sequence": row.sequence_name, "version": definition.version, "status": row.status,
        "next_step": f"{step.id} ({step.type.value})" if step else None,
        "history": [f"{r.step_id} round {r.round}: {r.state}"
                    + (f" at {_local(r.finished_at or r.claimed_at, zone)}" if r.claimed_at
                       else "") + (f" ({r.error})" if r.error else "")
                    for r in session.scalars(select(StepRun).where(
                        StepRun.enrollment_id == row.id).order_by(StepRun.id))],
    }
    entry["why"] = _why(session, row, now, zone, suppressed, step is not None and step.is_email)
    return entry


def _why(session: Session, row: Enrollment, now: datetime, zone: ZoneInfo,
         suppressed: str | None, next_is_email: bool) -> str:
    if row.status == "finished":
        return f"finished: every step is done (at {_local(row.ended_at, zone)})"
    if row.status == "exited":
        return f"exited: {row.exit_reason} (at {_local(row.ended_at, zone)})"
    if suppressed and next_is_email:
        return f"will not be emailed: the address is suppressed ({suppressed})"
    if row.status == "paused":
        until = (f"until {_local(row.resume_at, zone)}" if row.resume_at
                 else "until someone resumes it (sequencer resume)")
        return f"paused: {row.pause_reason}, {until}" + _task_note(session, row)
    if row.waiting_on:
        return _waiting(session, row, zone)
    if row.next_run_at is None:
        return "queued: handed to a worker, about to run"
    if row.next_run_at <= now:
        return "due now: the scheduler picks it up on its next pass"
    reason = f" ({row.schedule_note})" if row.schedule_note else ""
    text = f"waiting: due at {_local(row.next_run_at, zone)}{reason}"
    if next_is_email:
        text += _mailbox_note(session, row, now)
    return text


def _waiting(session: Session, row: Enrollment, zone: ZoneInfo) -> str:
    task = session.scalars(select(Task).where(Task.enrollment_id == row.id,
                                              Task.state == "open").order_by(Task.id)).first()
    if task is not None:
        return (f"waiting on the rep: {task.kind} task {task.id} for step {task.step_id}, "
                f"due {_local(task.due_at, zone)} (sequencer task done {task.id} --outcome ...)")
    run = session.scalars(select(StepRun).where(
        StepRun.enrollment_id == row.id, StepRun.step_id == row.waiting_on)
        .order_by(StepRun.id.desc())).first()
    if run is not None and run.state == "uncertain":
        return (f"the send of {run.step_id} is in doubt (Message-ID {run.message_id}): it is "
                "never resent blindly; check the mail server's log")
    return f"sending {row.waiting_on} now"


def _task_note(session: Session, row: Enrollment) -> str:
    task = session.scalars(select(Task).where(Task.enrollment_id == row.id,
                                              Task.state == "open")).first()
    return f"; task {task.id}: {task.instructions}" if task is not None else ""


def _mailbox_note(session: Session, row: Enrollment, now: datetime) -> str:
    box = session.get(Mailbox, row.mailbox_id)
    assert box is not None
    sent = sent_today(session, box, now)
    note = f"; mailbox {box.address} has sent {sent}/{box.daily_cap} today"
    if box.paused:
        note += f"; the mailbox is paused: {box.pause_reason or 'by hand'}"
    return note


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "?"
    local = moment.astimezone(zone)
    return f"{local:%a %Y-%m-%d %H:%M} {zone.key} ({moment:%H:%M} UTC)"
