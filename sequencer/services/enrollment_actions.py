"""Enrollments one at a time: enroll many by name, list, explain, pause, resume, exit.

Pausing, resuming and exiting go through the engine under the enrollment's row lock
(``act_locked``), the one place ``actions.act_on`` (every enrollment of a prospect, by
email) uses too. Enrolling feeds ``enroll.enroll_rows``, the CSV file's pipeline.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sequencer.engine import events as ev
from sequencer.engine.advance import advance
from sequencer.engine.state import Status
from sequencer.errors import EngineError, InputError
from sequencer.runtime.effects import apply
from sequencer.runtime.executor import lock_enrollment
from sequencer.services.app import App
from sequencer.services.enroll import enroll_rows, latest_target
from sequencer.services.explain import explain_enrollment
from sequencer.services.learned import definition_for
from sequencer.services.prospect_admin import row_of, row_problem
from sequencer.services.prospects import ProspectRow
from sequencer.store.codec import read_state
from sequencer.store.models import Enrollment, Event, Mailbox, Prospect, SequenceVersion
from sequencer.store.queries import suppression_reason

MAX_ITEMS = 1000
OPEN = (Status.ACTIVE.value, Status.PAUSED.value)


class Missing(InputError):
    """A record named by the caller does not exist (``what``: "enrollment #3")."""

    def __init__(self, what: str) -> None:
        super().__init__(f"no {what}")
        self.what = what


@dataclass(frozen=True, slots=True)
class EnrollmentView:
    id: int
    prospect_id: int
    email: str
    sequence: str
    version: str
    version_id: int
    mailbox: str
    status: str
    current_step: str | None
    next_run_at: datetime | None
    schedule_note: str | None
    pause_reason: str | None
    resume_at: datetime | None
    exit_reason: str | None
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class EnrollmentDetail:
    enrollment: EnrollmentView
    next_step: str | None  # "bump (email)"
    why: str  # what comes next and why it has not happened yet (sequencer explain)


@dataclass(frozen=True, slots=True)
class ItemResult:
    index: int  # the item's position in the request
    email: str | None
    status: str  # enrolled, skipped
    prospect_id: int | None = None
    enrollment_id: int | None = None
    code: str | None = None  # why skipped: invalid_email, unknown_timezone, suppressed, ...
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class EnrollResult:
    sequence: str
    version: str
    enrolled: int
    skipped: int
    items: tuple[ItemResult, ...]


def enroll_items(app: App, sequence: str, mailbox: str,
                 items: Sequence[Mapping[str, Any]]) -> EnrollResult:
    """Enroll each item (``{"email": ..., fields...}`` or ``{"prospect_id": N}``) into the
    latest version of ``sequence`` from ``mailbox``, creating prospects as needed; one
    result per item, with the CSV enrollment's skip reasons.

    Raises:
        InputError: no such sequence or mailbox, or too many items.
    """
    if len(items) > MAX_ITEMS:
        raise InputError(f"at most {MAX_ITEMS} prospects a request (got {len(items)})")
    target = latest_target(app, sequence, mailbox)
    early: dict[int, ItemResult] = {}
    known = _prospects(app, [int(i["prospect_id"]) for i in items
                             if i.get("prospect_id") is not None])
    rows: list[ProspectRow] = []
    for index, item in enumerate(items):
        if item.get("prospect_id") is not None:
            found = known.get(int(item["prospect_id"]))
            if found is None:
                early[index] = ItemResult(index, None, "skipped", code="unknown_prospect",
                                          reason=f"no prospect #{item['prospect_id']}")
                continue
            rows.append(ProspectRow(index, found.email, dict(found.fields),
                                    dict(found.custom)))
            continue
        row = row_of(index, item)
        problem = row_problem(row)
        if problem is not None:
            code = {"email": "invalid_email", "timezone": "unknown_timezone"}.get(
                problem.split(":", 1)[0], "invalid_field")
            early[index] = ItemResult(index, row.email, "skipped", code=code, reason=problem)
            continue
        rows.append(row)
    summary = enroll_rows(app, target, rows, batch=MAX_ITEMS + 1)
    by_line = {row.line: row for row in rows}
    ids = summary.enrollment_ids
    for line, prospect_id in summary.enrolled_lines:
        early[line] = ItemResult(line, by_line[line].email, "enrolled", prospect_id,
                                 ids.get(prospect_id))
    for line, code, why in summary.skipped:
        if code == "duplicate_in_file":
            why = why.replace("earlier in the file", "earlier in this request")
        early[line] = ItemResult(line, by_line[line].email, "skipped", code=code, reason=why)
    results = tuple(early[i] for i in range(len(items)))
    return EnrollResult(summary.sequence, summary.version, summary.enrolled,
                        len(results) - summary.enrolled, results)


def list_enrollments(app: App, *, limit: int, after: int | None = None,
                     sequence: str | None = None, status: str | None = None,
                     prospect_id: int | None = None, mailbox: str | None = None
                     ) -> list[EnrollmentView]:
    query = _views().order_by(Enrollment.id).limit(limit)
    if after is not None:
        query = query.where(Enrollment.id > after)
    if sequence:
        query = query.where(Enrollment.sequence_name == sequence)
    if status:
        query = query.where(Enrollment.status == status)
    if prospect_id is not None:
        query = query.where(Enrollment.prospect_id == prospect_id)
    if mailbox:
        query = query.where(Mailbox.address == mailbox.strip())
    with app.sessions() as session:
        return [_view(*found) for found in session.execute(query)]


def enrollment_detail(app: App, enrollment_id: int) -> EnrollmentDetail | None:
    """The enrollment, what comes next and why not yet (as ``sequencer explain``)."""
    now = app.clock.now()
    with app.sessions() as session:
        found = session.execute(_views().where(Enrollment.id == enrollment_id)).first()
        if found is None:
            return None
        view = _view(*found)
        explained = explain_enrollment(session, app, found[0], now,
                                suppression_reason(session, view.email.lower()))
        next_step = explained.get("next_step")
        return EnrollmentDetail(view, next_step if isinstance(next_step, str) else None,
                                str(explained["why"]))


def act_locked(session: Session, app: App, enrollment_id: int, event: ev.Event,
               now: datetime) -> tuple[Enrollment, Status]:
    """Lock the enrollment, let the engine take ``event``, apply what it decides; the row
    and its status after. The one path of every pause, resume and exit by hand.

    Raises:
        EngineError: the event does not fit the enrollment.
    """
    row = lock_enrollment(session, enrollment_id)
    definition = definition_for(session, app, row)
    decision = advance(definition, read_state(row), event, now=now, calendar=app.calendar)
    apply(session, row, decision, now=now)
    return row, decision.state.status


def pause_enrollment(app: App, enrollment_id: int, reason: str,
                     until: datetime | None = None, *, by: str | None = None
                     ) -> EnrollmentView:
    """Pause an open enrollment (until ``until``, else until resumed).

    Raises:
        Missing: no such enrollment.
        EngineError: it has ended.
        InputError: ``until`` is naive or past.
    """
    now = app.clock.now()
    if until is not None and (until.tzinfo is None or until.utcoffset() is None):
        raise InputError("until: a time with a zone is needed (add Z or +02:00)")
    if until is not None and until <= now:
        raise InputError(f"until: {until.isoformat()} has passed; pause until a later time")
    return _act(app, enrollment_id, ev.PauseRequested(reason, until), "manual_pause",
                OPEN, {"reason": reason, "until": until.isoformat() if until else None}, by)


def resume_enrollment(app: App, enrollment_id: int, *, by: str | None = None
                      ) -> EnrollmentView:
    """Resume a paused enrollment: its current step goes out in its next window.

    Raises:
        Missing: no such enrollment.  EngineError: it is not paused.
    """
    return _act(app, enrollment_id, ev.ResumeRequested(), "manual_resume",
                (Status.PAUSED.value,), {}, by)


def exit_enrollment(app: App, enrollment_id: int, reason: str, *, by: str | None = None
                    ) -> EnrollmentView:
    """End an open enrollment for good.

    Raises:
        Missing: no such enrollment.  EngineError: it has ended already.
    """
    return _act(app, enrollment_id, ev.ExitRequested(reason), "manual_exit", OPEN,
                {"reason": reason}, by)


def _act(app: App, enrollment_id: int, event: ev.Event, kind: str, allowed: tuple[str, ...],
         payload: dict[str, object], by: str | None) -> EnrollmentView:
    now = app.clock.now()
    with app.sessions.begin() as session:
        if session.get(Enrollment, enrollment_id) is None:
            raise Missing(f"enrollment #{enrollment_id}")
        row = lock_enrollment(session, enrollment_id)
        if row.status not in allowed:
            raise EngineError(f"enrollment #{enrollment_id} is {row.status}: it cannot be "
                              f"{_PAST[kind]} (only when {' or '.join(allowed)})")
        row, _ = act_locked(session, app, enrollment_id, event, now)
        session.add(Event(kind=kind, source_key=f"{kind}:{uuid.uuid4().hex}",
                          prospect_id=row.prospect_id, enrollment_id=row.id, occurred_at=now,
                          payload={"event": type(event).__name__, **payload,
                                   **({"by": by} if by else {})}))
        session.flush()
        found = session.execute(_views().where(Enrollment.id == enrollment_id)).one()
        return _view(*found)


_PAST = {"manual_pause": "paused", "manual_resume": "resumed", "manual_exit": "exited"}


def _views() -> Any:
    return (select(Enrollment, Prospect.email, SequenceVersion.version, Mailbox.address)
            .join(Prospect, Prospect.id == Enrollment.prospect_id)
            .join(SequenceVersion, SequenceVersion.id == Enrollment.sequence_version_id)
            .join(Mailbox, Mailbox.id == Enrollment.mailbox_id))


def _view(row: Enrollment, email: str, version: str, mailbox: str) -> EnrollmentView:
    return EnrollmentView(row.id, row.prospect_id, email, row.sequence_name, version,
                          row.sequence_version_id, mailbox, row.status, row.current_step,
                          row.next_run_at, row.schedule_note, row.pause_reason, row.resume_at,
                          row.exit_reason, row.started_at, row.ended_at)


def _prospects(app: App, ids: list[int]) -> dict[int, ProspectRow]:
    if not ids:
        return {}
    fields = ("first_name", "last_name", "title", "company", "phone", "linkedin_url", "city",
              "country", "timezone", "industry", "owner", "stage")
    with app.sessions() as session:
        return {p.id: ProspectRow(0, p.email, {f: getattr(p, f) for f in fields},
                                  dict(p.custom or {}))
                for p in session.scalars(select(Prospect).where(Prospect.id.in_(ids)))}
