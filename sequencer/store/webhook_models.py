"""CRM webhooks' tables: the endpoints we tell, the outbox of deliveries, the cursors.

A delivery is unique on (endpoint, event key): that constraint is what makes an
event reach an endpoint at most once, however many fan-outs see it. The cursors
record how far the fan-out has read the facts it announces (see
``sequencer.services.webhooks_out`` for why they trail behind).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from sequencer.store.models import Base, Enrollment


class WebhookEndpoint(Base):
    """A URL to tell about facts: signed with ``secret``, for the ``events`` it wants."""

    __tablename__ = "webhook_endpoints"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    events: Mapped[str] = mapped_column(String(200))  # comma-separated kinds
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class WebhookDelivery(Base):
    """One event for one endpoint: ``pending`` → ``sending`` → ``delivered`` | ``failed``
    (or back to ``pending`` with a later ``next_attempt_at``; ``uncertain`` when a
    sender died mid-request)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_key", name="uq_webhook_deliveries_once"),
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    event_key: Mapped[str] = mapped_column(String(200))  # the id the receiver sees
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the "data" object
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class WebhookCursor(Base):
    """How far the fan-out has read one source of facts (``events`` by id, ``exits`` by
    end time). ``safe_*`` is the point below which everything was committed when read;
    ``seen_*`` the furthest point read at ``seen_at``, promoted to safe one grace later."""

    __tablename__ = "webhook_cursors"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    safe_id: Mapped[int] = mapped_column(BigInteger, default=0)
    seen_id: Mapped[int] = mapped_column(BigInteger, default=0)
    safe_at: Mapped[datetime | None]
    seen_at: Mapped[datetime | None]


# The fan-out finds exits by end time; without this index it would read every
# enrollment each tick. Declared here (it serves the webhooks) on the domain's table.
Index("ix_enrollments_ended_at", Enrollment.ended_at,
      postgresql_where=text("ended_at IS NOT NULL"), sqlite_where=text("ended_at IS NOT NULL"))
