"""What the demo did, read back from the store: the figures printed at the end.

Definitions follow issue 5 point 1: delivered = sent minus hard-bounced; a reply is
a human reply (auto-replies and bounces never count), attributed to the email it
answers; the reply rate is prospects who replied over prospects delivered an email
(of that step, or of that sequence). This is the demo's own short summary; the
full report (breakdowns, intervals, HTML) is ``sequencer report``'s.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from sequencer.services.app import App
from sequencer.store.models import (
    Enrollment,
    Event,
    Message,
    Prospect,
    StepRun,
    Suppression,
    Task,
)

ALL_STEPS = "(all)"


@dataclass(frozen=True, slots=True)
class ReplyLine:
    sequence: str
    step: str  # ALL_STEPS for the sequence as a whole
    sent: int
    delivered: int  # prospects delivered at least one email (of the step)
    replied: int  # of them, prospects who replied (to the step)

    @property
    def rate(self) -> float | None:
        return self.replied / self.delivered if self.delivered else None


@dataclass(frozen=True, slots=True)
class DemoFigures:
    lines: list[ReplyLine]
    enrollments: Counter[str]  # by status
    exits: Counter[str]  # by exit reason
    pauses: Counter[str]  # by pause reason
    events: Counter[str]  # inbound and recorded events by kind
    tasks: Counter[str]  # by state
    suppressed: int


def demo_figures(app: App) -> DemoFigures:
    with app.sessions() as session:
        return DemoFigures(
            _lines(session),
            _count(session, Enrollment.status),
            _count(session, Enrollment.exit_reason),
            _count(session, Enrollment.pause_reason, Enrollment.status == "paused"),
            _count(session, Event.kind), _count(session, Task.state),
            session.scalar(select(func.count()).select_from(Suppression)) or 0)


def _count(session: Session, column: object, *where: object) -> Counter[str]:
    query = select(column, func.count()).group_by(column)  # type: ignore[call-overload]
    for condition in where:
        query = query.where(condition)
    return Counter({str(key): n for key, n in session.execute(query) if key is not None})


def _lines(session: Session) -> list[ReplyLine]:
    """Per sequence and step (steps in the order they first went out), then per
    sequence: sent, delivered, replied."""
    sent = (select(Enrollment.sequence_name.label("sequence"), StepRun.step_id.label("step"),
                   Enrollment.prospect_id.label("prospect"), Message.message_id,
                   Message.id, (Message.status == "bounced").label("bounced"))
            .join(StepRun, StepRun.id == Message.step_run_id)
            .join(Enrollment, Enrollment.id == Message.enrollment_id)
            .where(Message.sent_at.is_not(None)).subquery())
    replies = select(Event.message_id).where(Event.kind == "reply").subquery()
    figures = (func.count(), func.count(distinct(sent.c.prospect)).filter(
        sent.c.bounced.is_(False)), func.count(distinct(sent.c.prospect)).filter(
        sent.c.message_id.in_(select(replies.c.message_id))))
    lines = []
    for sequence, step, _, *counts in session.execute(
            select(sent.c.sequence, sent.c.step, func.min(sent.c.id), *figures)
            .group_by(sent.c.sequence, sent.c.step).order_by(sent.c.sequence, func.min(sent.c.id))):
        lines.append(ReplyLine(sequence, step, *counts))
    for sequence, *counts in session.execute(
            select(sent.c.sequence, *figures).group_by(sent.c.sequence)):
        lines.append(ReplyLine(sequence, ALL_STEPS, *counts))
    order = {line.sequence + line.step: n for n, line in enumerate(lines)}
    return sorted(lines, key=lambda line: (line.sequence, line.step == ALL_STEPS,
                                           order[line.sequence + line.step]))


def example_prospect(app: App) -> str | None:
    """Someone worth ``sequencer explain``: still in a sequence, a paused one first."""
    with app.sessions() as session:
        found: str | None = session.scalar(
            select(Prospect.email).join(Enrollment, Enrollment.prospect_id == Prospect.id)
            .where(Enrollment.status.in_(("paused", "active")))
            .order_by(Enrollment.status.desc(), Enrollment.id).limit(1))
        return found


def html_report(app: App, out: Path) -> Path | None:
    """Write the full HTML report (``sequencer report --format html``) to
    ``out/report.html`` and return its path."""
    from sequencer.reporting.html import render_html
    from sequencer.reporting.page import page_reports

    path = out / "report.html"
    path.write_text(render_html(page_reports(app)), "utf-8")
    return path
