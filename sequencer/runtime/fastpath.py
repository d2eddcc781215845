"""The executor's batch path: ordinary email steps, many at a time, in few statements.

ARCHITECTURE §8: per-step ORM work and a transaction per state change cost more
than sending the email. Here a batch of claimed runs is prepared in one
transaction (enrollments locked in id order, the mailbox row locked while its
cap is shared out, one query each for prospects, suppressions and recent
touches, one multi-row write each for messages, runs and enrollments), and the
engine is told about a batch of sent emails in one more.

This path only does the common case faster, never differently: a run that is a
retry, a step that is not an email, a suppressed address, a paused, spaced or
full mailbox, a render error, a decision that creates rows -- each is *declined*
and goes through the per-run path in ``executor``, which owns those rules.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, select
from sqlalchemy.orm import Session

from sequencer.engine import events as ev
from sequencer.engine.actions import SendEmail
from sequencer.engine.advance import advance
from sequencer.engine.state import Status
from sequencer.render import Renderer, RenderError
from sequencer.runtime.compose import Prepared, compose, run_key
from sequencer.runtime.effects import only_row_effects, row_effects
from sequencer.services.app import App
from sequencer.services.learned import definition_for
from sequencer.store.bound import among, dialect_of, locked
from sequencer.store.bulk import BulkInsert, BulkUpdate
from sequencer.store.codec import columns_of, read_state
from sequencer.store.models import Enrollment, Mailbox, Message, Prospect, StepRun
from sequencer.store.queries import recent_touches, sent_today, suppressed_among

ENROLLMENTS: Table = Enrollment.__table__  # type: ignore[assignment]
RUNS: Table = StepRun.__table__  # type: ignore[assignment]
MESSAGES: Table = Message.__table__  # type: ignore[assignment]
PROSPECTS: Table = Prospect.__table__  # type: ignore[assignment]


# Built once (``sequencer.store.bound``, ``sequencer.store.bulk``): the statements every
# batch runs, each writing the whole batch's rows in one.
_NEW_MESSAGES = BulkInsert(MESSAGES)
_MARK_READY = BulkUpdate(RUNS, also={"state": "ready", "attempts": RUNS.c.attempts + 1})
# The version column moves as the ORM's would. Only some decisions set ``schedule_note``
# or ``ended_at``: a statement each for the rows that do and those that do not.
_STORE_STATE = BulkUpdate(ENROLLMENTS, also={"row_version": ENROLLMENTS.c.row_version + 1})


@functools.cache
def _locking(dialect: str, of_runs: bool) -> Select[Any]:
    ids = (ENROLLMENTS.c.id.in_(select(RUNS.c.enrollment_id).where(
        among(RUNS.c.id, "b_ids", dialect))) if of_runs
        else among(ENROLLMENTS.c.id, "b_ids", dialect))
    return locked(select(ENROLLMENTS).where(ids).order_by(ENROLLMENTS.c.id), dialect)


@functools.cache
def _runs(dialect: str) -> Select[Any]:
    return select(RUNS).where(among(RUNS.c.id, "b_ids", dialect))


@functools.cache
def _prospects(dialect: str) -> Select[Any]:
    return select(PROSPECTS).where(among(PROSPECTS.c.id, "b_ids", dialect))


@functools.cache
def _mailboxes(dialect: str) -> Select[Mailbox]:
    """The mailboxes by id, locked while their caps are shared out (on PostgreSQL)."""
    return locked(select(Mailbox).where(among(Mailbox.id, "b_ids", dialect))
                  .order_by(Mailbox.id), dialect)


@dataclass
class Batch:
    """What preparing a batch came to."""

    prepared: list[Prepared] = field(default_factory=list)
    declined: list[int] = field(default_factory=list)  # for the per-run path
    done: dict[int, str] = field(default_factory=dict)  # nothing more to do (duplicates)


def lock_rows(session: Session, ids: Iterable[int], *, of_runs: bool = False
              ) -> dict[int, Any]:
    """The enrollments' rows, locked in id order (no deadlock between batches).

    ``ids`` are the enrollments', or with ``of_runs`` those of runs of theirs.
    """
    return {row.id: row for row in session.execute(  # .all(): one fetch, not one per row
        _locking(dialect_of(session), of_runs), {"b_ids": sorted(set(ids))}).all()}


def prepare_batch(session: Session, app: App, run_ids: Sequence[int],
                  renderer: Renderer) -> Batch:
    batch = Batch()
    now = app.clock.now()
    dialect = dialect_of(session)
    rows = lock_rows(session, run_ids, of_runs=True)
    runs = session.execute(_runs(dialect), {"b_ids": list(run_ids)}).all()  # under the lock
    candidates = []
    seen: set[int] = set()
    for run in runs:
        if run.state != "claimed":
            batch.done[run.id] = f"duplicate ({run.state})"  # another delivery of the message
            continue
        row = rows[run.enrollment_id]
        state = read_state(row)
        ordinary = (run.attempts == 0 and run.enrollment_id not in seen
                    and state.status is Status.ACTIVE and state.step == run.step_id
                    and state.round_of(run.step_id) == run.round and state.waiting_on is None)
        definition = definition_for(session, app, row) if ordinary else None
        if definition is None or not definition.step(run.step_id).is_email:
            batch.declined.append(run.id)
            continue
        seen.add(run.enrollment_id)
        candidates.append((run, row, state, definition))
    if not candidates:
        return batch
    prospects = {p.id: p for p in session.execute(_prospects(dialect), {
        "b_ids": list({row.prospect_id for _, row, _, _ in candidates})}).all()}
    suppressed = suppressed_among(session, (p.email_key for p in prospects.values()))
    touches = recent_touches(session, prospects, now)
    room = _mailbox_room(session, {row.mailbox_id for _, row, _, _ in candidates}, now)
    messages: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    for run, row, state, definition in candidates:
        prospect = prospects[row.prospect_id]
        mailbox, left = room[row.mailbox_id]
        decision = advance(definition, state, ev.Due(touches.get(row.prospect_id, ())),
                           now=now, calendar=app.calendar)
        send = decision.actions[0] if len(decision.actions) == 1 else None
        if prospect.email_key in suppressed or left <= 0 or not isinstance(send, SendEmail):
            batch.declined.append(run.id)
            continue
        try:
            email = compose(renderer, send, prospect, mailbox,
                            run_key(row.id, run.step_id, run.round),
                            settings=app.settings, definition=definition)
        except RenderError:
            batch.declined.append(run.id)  # the per-run path holds it and tells the rep
            continue
        room[row.mailbox_id] = (mailbox, left - 1)
        messages.append({"step_run_id": run.id, "enrollment_id": row.id,
                         "mailbox_id": mailbox.id, "message_id": email.message_id,
                         "to_address": email.to_address, "subject": email.subject,
                         "text_body": email.text_body, "variant": send.variant,
                         "in_reply_to": email.in_reply_to,
                         "references": " ".join(email.references) or None,
                         "status": "ready"})
        marks.append({"id": run.id, "message_id": email.message_id})
        states.append({"id": row.id, **columns_of(decision.state)})
        batch.prepared.append(Prepared(run.id, run.attempts + 1, row.id, run.step_id,
                                       mailbox.transport, email))
    if batch.prepared:
        _NEW_MESSAGES.execute(session, messages)
        _MARK_READY.execute(session, marks)
        _STORE_STATE.execute(session, states)
    return batch


def _mailbox_room(session: Session, mailbox_ids: set[int],
                  now: datetime) -> dict[int, tuple[Mailbox, int]]:
    """How many more emails each mailbox may take now (0: let the per-run path decide).

    On PostgreSQL the mailbox rows stay locked to the end of the transaction, so
    two workers cannot both hand out the same last places under the cap.
    """
    room: dict[int, tuple[Mailbox, int]] = {}
    for mailbox in session.scalars(_mailboxes(dialect_of(session)),
                                   {"b_ids": sorted(mailbox_ids)}):
        limited = mailbox.paused or bool(mailbox.min_spacing_seconds)
        left = 0 if limited else mailbox.daily_cap - sent_today(session, mailbox, now,
                                                                in_flight=True)
        room[mailbox.id] = (mailbox, left)
    return room


def advance_batch(session: Session, app: App, sent: Sequence[Prepared]) -> list[Prepared]:
    """Tell the engine these emails left; returns those whose advance creates rows.

    A replayed advance is a no-op (the engine only moves on if it still waits).
    """
    now = app.clock.now()
    rows = lock_rows(session, [item.enrollment_id for item in sent])
    states: list[dict[str, Any]] = []
    declined: list[Prepared] = []
    seen: set[int] = set()
    for item in sent:
        row = rows[item.enrollment_id]
        definition = definition_for(session, app, row)
        decision = advance(definition, read_state(row),
                           ev.EmailSent(item.step, item.email.message_id, item.email.subject,
                                        at=now), now=now, calendar=app.calendar)
        if item.enrollment_id in seen or not only_row_effects(decision):
            declined.append(item)
            continue
        seen.add(item.enrollment_id)
        states.append({"id": row.id, **columns_of(decision.state),
                       **row_effects(decision, now)})
    _STORE_STATE.execute(session, states)
    return declined

