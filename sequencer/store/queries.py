"""Read-only questions several services ask the store: one answer, one place."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, func, or_, select, text
from sqlalchemy.orm import Session

from sequencer.store.bound import among, dialect_of
from sequencer.store.models import (
    IN_FLIGHT_SQL,
    Enrollment,
    Mailbox,
    Message,
    Prospect,
    StepRun,
    Suppression,
)

RECENT = timedelta(days=7)  # the engine's weekly touch limit looks this far back
TOUCHES = frozenset({"sent", "task_created"})  # the run states that touched the prospect


def suppressions_of(session: Session, email_keys: Iterable[str]
                    ) -> dict[str, tuple[str, str, str]]:
    """For each of these addresses that must never be emailed: (kind, value, reason).

    The kind is ``address`` or ``domain``; an address suppression wins over its domain's.
    """
    keys = set(email_keys)
    if not keys:
        return {}
    domains = {key.rsplit("@", 1)[-1] for key in keys}
    found = session.execute(_suppressions(dialect_of(session)),
                            {"b_keys": list(keys), "b_domains": list(domains)}).all()
    by_address = {value: (kind, value, reason) for kind, value, reason in found
                  if kind == "address"}
    by_domain = {value: (kind, value, reason) for kind, value, reason in found
                 if kind == "domain"}
    matches: dict[str, tuple[str, str, str]] = {}
    for key in keys:
        match = by_address.get(key) or by_domain.get(key.rsplit("@", 1)[-1])
        if match is not None:
            matches[key] = match
    return matches


def suppressed_among(session: Session, email_keys: Iterable[str]) -> dict[str, str]:
    """For each of these addresses that must never be emailed, why."""
    return {key: reason for key, (_, _, reason) in suppressions_of(session, email_keys).items()}


def suppression_reason(session: Session, email_key: str) -> str | None:
    """Why the address (or its domain) must never be emailed, or None."""
    return suppressed_among(session, (email_key,)).get(email_key)


def mailbox_day_start(mailbox_zone: str, now: datetime) -> datetime:
    """Midnight of the mailbox's current day (its cap counts from then)."""
    local = now.astimezone(ZoneInfo(mailbox_zone))
    return datetime.combine(local.date(), time(), tzinfo=local.tzinfo)


def sent_today(session: Session, mailbox: Mailbox, now: datetime, *,
               in_flight: bool = False) -> int:
    """Emails the mailbox sent since its midnight; with ``in_flight``, those on their way too.

    Two index range counts, (mailbox, sent_at) and the partial index of messages in
    flight, rather than one OR, which would read every message the mailbox ever sent.
    """
    since = mailbox_day_start(mailbox.timezone, now)
    count = session.scalar(_SENT_SINCE, {"b_mailbox": mailbox.id, "b_since": since}) or 0
    if in_flight:
        count += session.scalar(_IN_FLIGHT, {"b_mailbox": mailbox.id}) or 0
    return count


def recent_touches(session: Session, prospect_ids: Iterable[int],
                   now: datetime) -> dict[int, tuple[datetime, ...]]:
    """Per prospect, when they were touched (email sent, task created) in the last week.

    The runs are found through the prospects' enrollments; the state is checked here,
    not in SQL, so that PostgreSQL cannot choose the state index instead (every run
    ever sent, read on each batch whenever its statistics are behind).
    """
    ids = set(prospect_ids)
    if not ids:
        return {}
    rows = session.execute(_touches(dialect_of(session)),
                           {"b_ids": list(ids), "b_since": now - RECENT}).all()
    touches: dict[int, list[datetime]] = defaultdict(list)
    for prospect_id, finished_at, state in rows:
        if finished_at is not None and state in TOUCHES:
            touches[prospect_id].append(finished_at)
    return {pid: tuple(found) for pid, found in touches.items()}


# The statements the executor asks on every batch, built once (``sequencer.store.bound``).
_SENT_SINCE = select(func.count()).where(Message.mailbox_id == bindparam("b_mailbox"),
                                         Message.sent_at >= bindparam("b_since"))
_IN_FLIGHT = select(func.count()).select_from(Message).where(
    Message.mailbox_id == bindparam("b_mailbox"), text(f"messages.{IN_FLIGHT_SQL}"))


@functools.cache
def _suppressions(dialect: str) -> Select[str, str, str]:
    return select(Suppression.kind, Suppression.value, Suppression.reason).where(or_(
        (Suppression.kind == "address") & among(Suppression.value, "b_keys", dialect),
        (Suppression.kind == "domain") & among(Suppression.value, "b_domains", dialect)))


@functools.cache
def _touches(dialect: str) -> Select[int, datetime | None, str]:
    return (select(Enrollment.prospect_id, StepRun.finished_at, StepRun.state)
            .join(Enrollment, Enrollment.id == StepRun.enrollment_id)
            .where(among(Enrollment.prospect_id, "b_ids", dialect),
                   StepRun.finished_at >= bindparam("b_since")))


def mailbox_owner(session: Session, mailbox_id: int) -> str | None:
    """The rep who sends from the mailbox: the assignee of the tasks its enrollments make."""
    owner: str | None = session.scalar(select(Mailbox.owner).where(Mailbox.id == mailbox_id))
    return owner


def enrollments_of(session: Session, email: str, sequence: str | None = None
                   ) -> list[Enrollment]:
    """A prospect's enrollments (by address, any case), oldest first."""
    query = (select(Enrollment).join(Prospect, Prospect.id == Enrollment.prospect_id)
             .where(Prospect.email_key == email.strip().lower()))
    if sequence:
        query = query.where(Enrollment.sequence_name == sequence)
    return list(session.scalars(query.order_by(Enrollment.id)))
