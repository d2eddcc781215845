"""Read-only questions several services ask the store: one answer, one place."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from sequencer.store.models import Mailbox, Message, Suppression


def suppression_reason(session: Session, email_key: str) -> str | None:
    """Why the address (or its domain) must never be emailed, or None."""
    domain = email_key.rsplit("@", 1)[-1]
    return session.scalar(select(Suppression.reason).where(or_(
        (Suppression.kind == "address") & (Suppression.value == email_key),
        (Suppression.kind == "domain") & (Suppression.value == domain))))


def mailbox_day_start(mailbox_zone: str, now: datetime) -> datetime:
    """Midnight of the mailbox's current day (its cap counts from then)."""
    local = now.astimezone(ZoneInfo(mailbox_zone))
    return datetime.combine(local.date(), time(), tzinfo=local.tzinfo)


def sent_today(session: Session, mailbox: Mailbox, now: datetime, *,
               in_flight: bool = False) -> int:
    """Emails the mailbox sent since its midnight; with ``in_flight``, those on their way too."""
    since = Message.sent_at >= mailbox_day_start(mailbox.timezone, now)
    counted = or_(since, Message.status.in_(("ready", "sending"))) if in_flight else since
    return session.scalar(select(func.count()).where(
        Message.mailbox_id == mailbox.id, counted)) or 0
