"""``sequencer status``: counts of enrollments and step runs, and mailboxes against their caps."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from sequencer.services.app import App
from sequencer.services.inbound import BLOCK_WINDOW, block_rate
from sequencer.store.models import Enrollment, Mailbox, StepRun
from sequencer.store.queries import sent_today


def status(app: App) -> dict[str, Any]:
    now = app.clock.now()
    with app.sessions() as session:
        enrollments = dict(session.execute(
            select(Enrollment.status, func.count()).group_by(Enrollment.status)).all())
        runs = dict(session.execute(
            select(StepRun.state, func.count()).group_by(StepRun.state)).all())
        due = session.scalar(select(func.count()).where(
            Enrollment.next_run_at.is_not(None), Enrollment.next_run_at <= now)) or 0
        notes = dict(session.execute(
            select(Enrollment.schedule_note, func.count())
            .where(Enrollment.schedule_note.is_not(None), Enrollment.next_run_at.is_not(None))
            .group_by(Enrollment.schedule_note)).all())
        mailboxes = []
        for box in session.scalars(select(Mailbox).order_by(Mailbox.address)):
            sent = sent_today(session, box, now)
            blocked, sent_recently = block_rate(session, box.id, now)
            mailboxes.append({"address": box.address, "sent_today": sent,
                              "daily_cap": box.daily_cap, "at_cap": sent >= box.daily_cap,
                              "paused": box.paused, "pause_reason": box.pause_reason,
                              "block_rate": {"days": BLOCK_WINDOW.days, "blocked": blocked,
                                             "sent": sent_recently,
                                             "rate": round(blocked / sent_recently, 4)
                                             if sent_recently else None}})
    return {"now": now.isoformat(), "enrollments": enrollments, "step_runs": runs,
            "due_now": due, "waiting_because": notes, "mailboxes": mailboxes}
