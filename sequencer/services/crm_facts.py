"""The facts a CRM hears about, read from where they are recorded, for the fan-out.

- replies, bounces, unsubscribes, meetings booked and task outcomes are rows of
  ``events`` (written by ``services.inbound``, ``services.actions``), read by id;
- exits are not events: the executor and the actions end an enrollment by setting
  ``status = 'exited'``, ``exit_reason`` and ``ended_at``, so they are read from
  ``enrollments`` by end time (nothing is added to the executor's send path).

**Why the cursors trail.** On PostgreSQL an id is taken when a row is inserted, not
when it commits: id 41 may become visible after 42 was read, so "everything above the
last id read" could skip it. Each cursor therefore keeps two marks: ``seen`` (the
furthest point read, and when) and ``safe``; every scan re-reads from ``safe``, and
``seen`` is promoted to ``safe`` only once it is :data:`GRACE` old: any transaction
holding an id below it has committed by then (ours last milliseconds). The same for
exits by ``ended_at``, which is set to the clock of the transaction that commits it,
with the grace covering the commit delay and clock skew between machines. What is
read twice is harmless: a delivery is unique on (endpoint, event key).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sequencer.store.bound import dialect_of, locked
from sequencer.store.models import Enrollment, Event, Prospect
from sequencer.store.upsert import insert_ignoring
from sequencer.store.webhook_models import WebhookCursor

GRACE = timedelta(minutes=5)
PAGE = 1000
# events.kind -> the webhook type a CRM subscribes to
EVENT_TYPES = {"reply": "reply", "hard_bounce": "bounce", "soft_bounce": "bounce",
               "unsubscribe": "unsubscribe", "meeting_booked": "meeting",
               "task_completed": "task"}
KINDS = ("reply", "bounce", "unsubscribe", "meeting", "task", "exit")
_PAYLOAD_KEYS = {"reply": ("reply_text", "in_reply_to", "source"),
                 "bounce": ("status", "reason", "diagnostic", "source"),
                 "unsubscribe": ("reason", "source"), "meeting": (),
                 "task": ("outcome", "step")}


@dataclass(frozen=True, slots=True)
class Fact:
    """One thing to announce: its stable key (the receiver's event id), and when it was
    recorded (an endpoint hears of facts recorded after it was added)."""

    key: str
    kind: str
    occurred_at: datetime
    recorded_at: datetime
    data: dict[str, Any]


def new_facts(session: Session, now: datetime) -> list[Fact]:
    """Facts recorded since the cursors' safe marks (some seen before); moves the marks."""
    return [*_event_facts(session, now), *_exit_facts(session, now)]


def _cursor(session: Session, name: str) -> WebhookCursor:
    session.execute(insert_ignoring(session, WebhookCursor, ("name",)),
                    [{"name": name, "safe_id": 0, "seen_id": 0}])
    # Locked: two fan-outs at once move the marks in turn.
    return session.scalars(locked(select(WebhookCursor).where(WebhookCursor.name == name),
                                  dialect_of(session))).one()


def _event_facts(session: Session, now: datetime) -> list[Fact]:
    cursor = _cursor(session, "events")
    facts, furthest = [], cursor.seen_id
    for event, email, sequence in _events_after(session, cursor.safe_id):
        furthest = max(furthest, event.id)
        facts.append(_event_fact(event, email, sequence))
    if cursor.seen_at is None or now - cursor.seen_at >= GRACE:
        cursor.safe_id = cursor.seen_id if cursor.seen_at is not None else cursor.safe_id
        cursor.seen_id, cursor.seen_at = furthest, now
    return facts


def _events_after(session: Session, after: int) -> Iterator[tuple[Event, str | None, str | None]]:
    while True:
        rows = session.execute(
            select(Event, Prospect.email, Enrollment.sequence_name)
            .outerjoin(Prospect, Prospect.id == Event.prospect_id)
            .outerjoin(Enrollment, Enrollment.id == Event.enrollment_id)
            .where(Event.id > after, Event.kind.in_(EVENT_TYPES))
            .order_by(Event.id).limit(PAGE)).all()
        yield from ((e, m, s) for e, m, s in rows)
        if len(rows) < PAGE:
            return
        after = rows[-1][0].id


def _event_fact(event: Event, email: str | None, sequence: str | None) -> Fact:
    kind = EVENT_TYPES[event.kind]
    payload = event.payload or {}
    data: dict[str, Any] = {"email": email, "sequence": sequence,
                            "enrollment_id": event.enrollment_id, "message_id": event.message_id}
    if kind == "bounce":
        data["hard"] = event.kind == "hard_bounce"
    data.update({k: payload.get(k) for k in _PAYLOAD_KEYS[kind] if payload.get(k) is not None})
    recorded = payload.get("recorded_at")
    return Fact(f"evt_{event.id}", kind, event.occurred_at,
                datetime.fromisoformat(recorded) if isinstance(recorded, str)
                else event.occurred_at, data)


def _exit_facts(session: Session, now: datetime) -> list[Fact]:
    cursor = _cursor(session, "exits")
    query = (select(Enrollment, Prospect.email)
             .join(Prospect, Prospect.id == Enrollment.prospect_id)
             .where(Enrollment.status == "exited", Enrollment.ended_at.is_not(None)))
    if cursor.safe_at is not None:
        query = query.where(Enrollment.ended_at >= cursor.safe_at - GRACE)
    facts = []
    for row, email in session.execute(query.order_by(Enrollment.ended_at, Enrollment.id)):
        assert row.ended_at is not None
        facts.append(Fact(f"exit_{row.id}", "exit", row.ended_at, row.ended_at, {
            "email": email, "sequence": row.sequence_name, "enrollment_id": row.id,
            "reason": row.exit_reason, "step": row.current_step}))
    cursor.safe_at = now
    return facts
