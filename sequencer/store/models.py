"""The domain's tables (ARCHITECTURE §2), typed with SQLAlchemy 2.

Step runs are unique on (enrollment, step, round): that constraint is what makes
a step happen once. Enrollments carry a version column so that a reply racing a
step loses cleanly instead of being overwritten.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
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
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sequencer.store.types import UTCDateTime

JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(),
                                                      dict[str, Any]: JSONType}


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))


class Prospect(Base):
    __tablename__ = "prospects"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320), unique=True)  # lower-cased
    first_name: Mapped[str | None] = mapped_column(String(120))
    last_name: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str | None] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(60))
    linkedin_url: Mapped[str | None] = mapped_column(String(500))
    city: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(3))
    timezone: Mapped[str | None] = mapped_column(String(64))
    industry: Mapped[str | None] = mapped_column(String(120))
    custom: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stage: Mapped[str | None] = mapped_column(String(60))
    owner: Mapped[str | None] = mapped_column(String(120))
    do_not_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]


class Mailbox(Base):
    __tablename__ = "mailboxes"
    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    transport: Mapped[str] = mapped_column(String(1000))
    daily_cap: Mapped[int] = mapped_column(Integer, default=200)
    min_spacing_seconds: Mapped[int] = mapped_column(Integer, default=0)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")  # when its day starts
    signature: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(120))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    pause_reason: Mapped[str | None] = mapped_column(String(200))
    # Inbound: the IMAP URL polled for answers, and how far the poller has read.
    inbound_url: Mapped[str | None] = mapped_column(String(1000))
    inbound_uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    inbound_last_uid: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class SequenceVersion(Base):
    """A published sequence: immutable; editing the file publishes a new version."""

    __tablename__ = "sequence_versions"
    __table_args__ = (UniqueConstraint("name", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    path: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime]


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (
        # The claim query reads only open enrollments that are due: a partial index
        # keeps its cost flat however many finished enrollments pile up.
        Index("ix_enrollments_due", "next_run_at",
              postgresql_where=text("next_run_at IS NOT NULL"),
              sqlite_where=text("next_run_at IS NOT NULL")),
        Index("ix_enrollments_prospect", "prospect_id", "status"),
        # The sweeper's "sent but not yet advanced" look starts from the few
        # enrollments waiting on a send, not from every run ever sent.
        Index("ix_enrollments_waiting", "waiting_on",
              postgresql_where=text("waiting_on IS NOT NULL"),
              sqlite_where=text("waiting_on IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    prospect_id: Mapped[int] = mapped_column(ForeignKey("prospects.id"))
    sequence_version_id: Mapped[int] = mapped_column(ForeignKey("sequence_versions.id"))
    sequence_name: Mapped[str] = mapped_column(String(200), index=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id"))
    status: Mapped[str] = mapped_column(String(16))
    current_step: Mapped[str | None] = mapped_column(String(64))
    next_run_at: Mapped[datetime | None]  # when to wake it: due step, or end of a pause
    due_at: Mapped[datetime | None]
    last_touch_at: Mapped[datetime | None]
    waiting_on: Mapped[str | None] = mapped_column(String(64))
    pause_reason: Mapped[str | None] = mapped_column(String(200))
    resume_at: Mapped[datetime | None]
    exit_reason: Mapped[str | None] = mapped_column(String(200))
    schedule_note: Mapped[str | None] = mapped_column(String(200))  # why next_run_at is then
    soft_bounces: Mapped[int] = mapped_column(Integer, default=0)
    seed: Mapped[int] = mapped_column(BigInteger)
    timezone: Mapped[str] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(3))
    memory: Mapped[dict[str, Any]] = mapped_column(default=dict)  # rounds, variants, threads, facts
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's own hook


class StepRun(Base):
    """That step S (round R) of enrollment E ran: the idempotency key of every touch."""

    __tablename__ = "step_runs"
    __table_args__ = (UniqueConstraint("enrollment_id", "step_id", "round",
                                       name="uq_step_runs_once"),
                      Index("ix_step_runs_state", "state", "claimed_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"))
    step_id: Mapped[str] = mapped_column(String(64))
    round: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    scheduled_for: Mapped[datetime | None]
    claimed_at: Mapped[datetime]
    sending_started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


# Prepared or being handed over: counted against the mailbox's cap until it is sent or
# fails. Literal SQL, so that PostgreSQL can match a query to the partial index on it.
IN_FLIGHT_SQL = "status IN ('ready', 'sending')"


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # A mailbox's sent-today count is an index range count; its in-flight count
        # reads a partial index of the messages on their way, whatever was sent before.
        Index("ix_messages_mailbox_sent", "mailbox_id", "sent_at"),
        Index("ix_messages_in_flight", "mailbox_id", postgresql_where=text(IN_FLIGHT_SQL),
              sqlite_where=text(IN_FLIGHT_SQL)),
        # The report's rollup picks up what was sent since it last looked.
        Index("ix_messages_sent_at", "sent_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    step_run_id: Mapped[int] = mapped_column(ForeignKey("step_runs.id"), unique=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"), index=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id"))
    message_id: Mapped[str] = mapped_column(String(500), unique=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(500))
    references: Mapped[str | None] = mapped_column(Text)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(1000))
    text_body: Mapped[str] = mapped_column(Text)
    variant: Mapped[str | None] = mapped_column(String(64))
    provider_id: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime | None]


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_queue", "state", "due_at"),
                      # A rep's queue: their open tasks by due time.
                      Index("ix_tasks_assignee", "assignee", "state", "due_at"),
                      # A page of it: the API lists by id, checking due times in the index.
                      Index("ix_tasks_assignee_by_id", "assignee", "state", "id", "due_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    step_run_id: Mapped[int] = mapped_column(ForeignKey("step_runs.id"), unique=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    step_id: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime]
    assignee: Mapped[str | None] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(16), default="open")
    outcome: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    instructions: Mapped[str | None] = mapped_column(Text)
    draft_subject: Mapped[str | None] = mapped_column(String(1000))
    draft_body: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None]


class Event(Base):
    """A fact that happened; deduplicated by its source key."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_mailbox_kind", "mailbox_id", "kind", "occurred_at"),
                      # Reports match bounces and replies to the email they name,
                      # and find what arrived since they last looked.
                      Index("ix_events_message_id", "message_id"),
                      Index("ix_events_occurred_at", "occurred_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    source_key: Mapped[str] = mapped_column(String(500), unique=True)
    prospect_id: Mapped[int | None] = mapped_column(ForeignKey("prospects.id"), index=True)
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id"), index=True)
    message_id: Mapped[str | None] = mapped_column(String(500))
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("mailboxes.id"))
    occurred_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Suppression(Base):
    """An address or domain never to be emailed again; opt-outs are kept, never deleted."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("kind", "value"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "address" or "domain"
    value: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class ReportSend(Base):
    """The reports' rollup: one row per email sent, with what never changes about it
    (who, which sequence version, step, variant, mailbox, the prospect's zone)
    already joined, its latest send time, and what happened to it (``flags``: the
    bits of ``sequencer.reporting.facts``). A cache of ``messages``, ``step_runs``,
    ``enrollments`` and ``events``, brought up to date by
    ``sequencer.reporting.rollup`` before each report; it can be emptied at any time."""

    __tablename__ = "report_sends"
    __table_args__ = (
        # Attribution by time: a prospect's latest emails before a reply.
        Index("ix_report_sends_prospect", "prospect_id", "sent_at"),
        # The sequence x step x variant report reads this index in group order, with
        # no hashing or sorting (PostgreSQL: an index-only scan, thanks to INCLUDE).
        Index("ix_report_sends_slice", "sequence_name", "step_id", "variant", "prospect_id",
              postgresql_include=["flags", "sent_at", "first_reply_at"]),
        # The median time to reply reads only the emails that were replied to.
        Index("ix_report_sends_replied", "message_pk",
              postgresql_where=text("first_reply_at IS NOT NULL"),
              sqlite_where=text("first_reply_at IS NOT NULL")),
    )
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), primary_key=True,
                                            autoincrement=False)
    prospect_id: Mapped[int] = mapped_column(Integer)
    enrollment_id: Mapped[int] = mapped_column(Integer)
    sequence_version_id: Mapped[int] = mapped_column(Integer)
    sequence_name: Mapped[str] = mapped_column(String(200))
    step_id: Mapped[str] = mapped_column(String(64))
    variant: Mapped[str | None] = mapped_column(String(64))
    mailbox_id: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime]
    flags: Mapped[int] = mapped_column(Integer, default=0)
    first_reply_at: Mapped[datetime | None]


class ReportRollup(Base):
    """How far the rollup has read: the events seen, under which reply rules."""

    __tablename__ = "report_rollup"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    events_seen: Mapped[int] = mapped_column(BigInteger, default=0)
    events_seen_at: Mapped[datetime | None]
    rules: Mapped[str] = mapped_column(String(64))
    refreshed_at: Mapped[datetime]


# Tables owned by other parts, imported here so that every table is on Base.metadata
# whenever the domain's models are.
from sequencer.store import api_models, webhook_models  # noqa: E402, F401
