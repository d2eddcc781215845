"""The step executor: the exactly-once protocol of ARCHITECTURE §5, steps 2 to 4.

1. Under the enrollments' row locks: re-check that each enrollment is active, the
   run is still its current step, the address is not suppressed and the mailbox
   has room; render; store the message with a pre-generated Message-ID and mark
   the run ``ready``; commit. Ordinary email steps go through in batches
   (``fastpath``); anything else goes one at a time through ``_prepare`` here.
2. Under the process's send lock (``handover``): one cheap statement marks it
   ``sending``, the transport takes the message, one cheap statement marks it
   ``sent``. No transaction is open while the transport talks to the server.
3. Under the enrollment locks again: the engine advances the enrollments.

A crash in 2 leaves at most one run ``sending`` per process; the sweeper turns it
``uncertain`` and it is never resent blindly. A run left ``ready`` was never
handed over and goes out later with the same Message-ID; a run recorded ``sent``
whose enrollment did not advance is advanced by the sweeper.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sequencer.definition.model import Definition
from sequencer.delivery import OutboundEmail
from sequencer.engine import events as ev
from sequencer.engine.actions import SendEmail
from sequencer.engine.advance import advance
from sequencer.engine.state import EnrollmentState, Status, evolve
from sequencer.render import Renderer, RenderError
from sequencer.runtime.compose import Prepared, compose, run_key
from sequencer.runtime.effects import apply
from sequencer.runtime.fastpath import advance_batch, prepare_batch
from sequencer.runtime.handover import send_all
from sequencer.services.app import App
from sequencer.services.learned import definition_for
from sequencer.store.bound import dialect_of, locked
from sequencer.store.codec import read_state
from sequencer.store.models import (
    Enrollment,
    Mailbox,
    Message,
    Prospect,
    StepRun,
    Task,
)
from sequencer.store.queries import (
    mailbox_day_start,
    mailbox_owner,
    recent_touches,
    sent_today,
    suppression_reason,
)
from sequencer.store.upsert import suppress

RETRY_AFTER = timedelta(minutes=10)  # the first retry after a temporary failure...
MAX_RETRY_AFTER = timedelta(days=1)  # ...doubling up to this
MAX_SEND_ATTEMPTS = 12  # then the step is held for a person: the provider keeps failing
MAILBOX_PAUSED_RECHECK = timedelta(hours=1)  # a paused mailbox's steps look again this often
# A refusal at send time that means the address is dead (RFC 3463; Postmark's 406 is an
# address it has deactivated after hard bounces or a complaint).
HARD_BOUNCE_CODES = ("5.1.1", "5.1.2", "5.1.10", "5.1.6", "ErrorCode 406")


def execute(app: App, run_id: int, renderer: Renderer | None = None) -> str:
    """Execute one claimed step run; returns what happened (for logs and tests)."""
    return execute_batch(app, [run_id], renderer)[run_id]


def execute_batch(app: App, run_ids: Sequence[int],
                  renderer: Renderer | None = None) -> dict[int, str]:
    """Execute claimed step runs; returns what happened to each."""
    renderer = renderer or Renderer(app.templates)
    with app.sessions.begin() as session:
        batch = prepare_batch(session, app, run_ids, renderer)
    outcomes = dict(batch.done)
    advance_sent(app, send_prepared(app, batch.prepared, outcomes))
    for run_id in batch.declined:
        outcomes[run_id] = execute_one(app, run_id, renderer)
    missing = set(run_ids) - outcomes.keys()
    outcomes.update(dict.fromkeys(missing, "unknown run"))
    return outcomes


def send_prepared(app: App, prepared: Sequence[Prepared],
                  outcomes: dict[int, str]) -> list[Prepared]:
    """Hand the prepared emails over; returns those the server took."""
    sent = []
    for item, outcome in send_all(app, prepared, lambda p, kind, error, wait:
                                  _record_failure(app, p, kind, error, wait)):
        outcomes[item.run_id] = outcome
        if outcome == "sent":
            sent.append(item)
    return sent


def advance_sent(app: App, sent: Sequence[Prepared]) -> None:
    """Tell the engine these emails left: in one batch, and one by one where rows follow."""
    if not sent:
        return
    with app.sessions.begin() as session:
        slow = advance_batch(session, app, sent)
    for item in slow:
        advance_after_send(app, item.enrollment_id, item.step, item.email.message_id,
                           item.email.subject)


def execute_one(app: App, run_id: int, renderer: Renderer) -> str:
    """The per-run path: every rule, one run at a time (rare cases, retries)."""
    with app.sessions.begin() as session:
        outcome = _prepare(session, app, run_id, renderer)
    if not isinstance(outcome, Prepared):
        return outcome
    outcomes: dict[int, str] = {}
    result = send_prepared(app, [outcome], outcomes)
    if not result:
        return outcomes[run_id]
    return advance_after_send(app, outcome.enrollment_id, outcome.step,
                              outcome.email.message_id, outcome.email.subject)


def lock_enrollment(session: Session, enrollment_id: int) -> Enrollment:
    """The enrollment row, locked for the rest of the transaction (every writer takes it)."""
    return session.scalars(locked(select(Enrollment).where(Enrollment.id == enrollment_id),
                                  dialect_of(session))).one()


def _prepare(session: Session, app: App, run_id: int, renderer: Renderer) -> str | Prepared:
    now = app.clock.now()
    run = session.get(StepRun, run_id)
    if run is None:
        return "unknown run"
    row = lock_enrollment(session, run.enrollment_id)
    session.refresh(run)
    if run.state != "claimed":
        return f"duplicate ({run.state})"  # another delivery of the same message
    state = read_state(row)
    if state.status is not Status.ACTIVE or state.step != run.step_id \
            or state.round_of(run.step_id) != run.round or state.waiting_on is not None:
        run.state, run.error, run.finished_at = "skipped", "the enrollment moved on", now
        return "skipped"
    definition = definition_for(session, app, row)
    prospect = session.get(Prospect, row.prospect_id)
    mailbox = session.get(Mailbox, row.mailbox_id)
    assert prospect is not None and mailbox is not None
    if definition.step(run.step_id).is_email:
        blocked = _blocked(session, app, row, run, definition, state, prospect, mailbox)
        if blocked is not None:
            return blocked
    recent = recent_touches(session, (row.prospect_id,), now).get(row.prospect_id, ())
    decision = advance(definition, state, ev.Due(recent), now=now, calendar=app.calendar)
    send = next((a for a in decision.actions if isinstance(a, SendEmail)), None)
    if send is None:
        if run.state == "claimed":  # not run now (window closed, weekly limit): put off
            run.state = "deferred"
        apply(session, row, decision, now=now, run=run)
        return run.state
    try:
        existing = session.scalar(select(Message.message_id).where(
            Message.step_run_id == run.id))
        email = compose(renderer, send, prospect, mailbox,
                        run_key(run.enrollment_id, run.step_id, run.round), existing,
                        settings=app.settings, definition=definition)
    except RenderError as exc:
        return _hold(session, app, row, run, definition, decision.state, str(exc))
    run.state, run.message_id = "ready", email.message_id
    run.attempts += 1
    _store_message(session, run, row, mailbox, email, send.variant)
    apply(session, row, decision, now=now, run=run)
    return Prepared(run.id, run.attempts, row.id, run.step_id, mailbox.transport, email)


def _blocked(session: Session, app: App, row: Enrollment, run: StepRun, definition: Definition,
             state: EnrollmentState, prospect: Prospect, mailbox: Mailbox) -> str | None:
    """Suppression and mailbox limits, checked at send time under the lock."""
    now = app.clock.now()
    reason = suppression_reason(session, prospect.email_key)
    if reason is not None:
        decision = advance(definition, state, ev.ExitRequested(f"suppressed: {reason}"),
                           now=now, calendar=app.calendar)
        run.state, run.error, run.finished_at = "skipped", f"suppressed: {reason}", now
        apply(session, row, decision, now=now)
        return "suppressed"
    not_before = _mailbox_room(session, mailbox, now)
    if not_before is None:
        return None
    decision = advance(definition, state, ev.Deferred(run.step_id, not_before,
                                                      "mailbox daily cap reached"
                                                      if not_before > now + timedelta(minutes=30)
                                                      else "mailbox spacing"),
                       now=now, calendar=app.calendar)
    run.state = "deferred"
    apply(session, row, decision, now=now)
    return "deferred"


def _mailbox_room(session: Session, mailbox: Mailbox, now: datetime) -> datetime | None:
    """None if the mailbox may send now, else the earliest moment it may.

    On PostgreSQL the mailbox row is locked to the end of the transaction, as the
    batch path does, so concurrent workers count the cap one after the other.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Mailbox.id).where(Mailbox.id == mailbox.id).with_for_update())
    if mailbox.paused:
        return now + MAILBOX_PAUSED_RECHECK
    if sent_today(session, mailbox, now, in_flight=True) >= mailbox.daily_cap:
        return mailbox_day_start(mailbox.timezone, now) + timedelta(days=1)
    if mailbox.min_spacing_seconds:
        last = session.scalar(select(func.max(Message.sent_at)).where(
            Message.mailbox_id == mailbox.id))
        if last is not None and last + timedelta(seconds=mailbox.min_spacing_seconds) > now:
            return last + timedelta(seconds=mailbox.min_spacing_seconds)
    return None


def _store_message(session: Session, run: StepRun, row: Enrollment, mailbox: Mailbox,
                   email: OutboundEmail, variant: str) -> None:
    message = session.scalars(select(Message).where(Message.step_run_id == run.id)).first()
    if message is None:
        message = Message(step_run_id=run.id, enrollment_id=row.id, mailbox_id=mailbox.id,
                          message_id=email.message_id, to_address=email.to_address)
        session.add(message)
    message.subject, message.text_body, message.variant = email.subject, email.text_body, variant
    message.in_reply_to = email.in_reply_to
    message.references = " ".join(email.references) or None
    message.status = "ready"


def _hold(session: Session, app: App, row: Enrollment, run: StepRun, definition: Definition,
          state: EnrollmentState, error: str) -> str:
    """A render error: nothing is sent; the enrollment waits for a person, with a task."""
    now = app.clock.now()
    decision = advance(definition, state, ev.Held(run.step_id, f"render error: {error}"),
                       now=now, calendar=app.calendar)
    run.state, run.error, run.finished_at = "held", error, now
    session.add(Task(step_run_id=run.id, enrollment_id=row.id, kind="fix_template",
                     step_id=run.step_id, due_at=now, state="open",
                     assignee=mailbox_owner(session, row.mailbox_id),
                     instructions=f"The email could not be rendered: {error}. Fix the template "
                     "or the prospect's data, then resume the enrollment."))
    apply(session, row, decision, now=now)
    return "held"


def advance_after_send(app: App, enrollment_id: int, step: str, message_id: str,
                       subject: str) -> str:
    """Tell the engine the email left; a no-op if it already knows (the sweeper may replay)."""
    with app.sessions.begin() as session:
        now = app.clock.now()
        row = lock_enrollment(session, enrollment_id)
        definition = definition_for(session, app, row)
        decision = advance(definition, read_state(row),
                           ev.EmailSent(step, message_id, subject, at=now),
                           now=now, calendar=app.calendar)
        apply(session, row, decision, now=now)
    return "sent"


def retry_delay(attempt: int, asked: float | None = None) -> timedelta:
    """How long to wait after the ``attempt``-th send failed for a while: doubling from
    ``RETRY_AFTER``, never less than the provider asked (Retry-After), at most a day."""
    backoff = RETRY_AFTER * (1 << min(max(attempt - 1, 0), 20))
    return min(MAX_RETRY_AFTER, max(backoff, timedelta(seconds=asked or 0)))


def _record_failure(app: App, prepared: Prepared, kind: str, error: str,
                    wait: float | None = None) -> str:
    """The transport said no (or could not say): record it under the lock."""
    with app.sessions.begin() as session:
        now = app.clock.now()
        row = lock_enrollment(session, prepared.enrollment_id)
        run = session.get(StepRun, prepared.run_id)
        message = session.scalars(select(Message).where(
            Message.step_run_id == prepared.run_id)).one()
        assert run is not None
        run.error = error
        definition = definition_for(session, app, row)
        state = read_state(row)
        if kind == "uncertain":  # maybe delivered: never resent blindly, shown to the operator
            run.state, message.status = "uncertain", "uncertain"
            return "uncertain"
        if kind == "held":  # our own check refused it: nothing left, a person must look
            run.state, run.finished_at, message.status = "held", now, "failed"
            decision = advance(definition, _not_waiting(state),
                               ev.Held(prepared.step, f"unsafe header: {error[:150]}"),
                               now=now, calendar=app.calendar)
            apply(session, row, decision, now=now)
            return "held"
        if kind == "mailbox":  # the sender cannot send at all: pause it, the step waits
            mailbox = session.get(Mailbox, row.mailbox_id, with_for_update=True)
            if mailbox is not None:
                mailbox.paused = True
                mailbox.pause_reason = f"the provider refused this sender: {error}"[:200]
            kind, wait = "retry", MAILBOX_PAUSED_RECHECK.total_seconds()
        if kind == "retry" and prepared.attempt >= MAX_SEND_ATTEMPTS:
            kind = "failed"
            error = f"still failing after {prepared.attempt} attempts: {error}"
        if kind == "retry":  # nothing was accepted: the same Message-ID goes out later
            run.state, message.status = "deferred", "retry"
            event: ev.Event = ev.Deferred(
                prepared.step, now + retry_delay(prepared.attempt, wait),
                f"temporary failure (attempt {prepared.attempt}): {error[:120]}")
            state = _not_waiting(state)
        elif any(code in error for code in HARD_BOUNCE_CODES):
            run.state, run.finished_at, message.status = "failed", now, "failed"
            suppress(session, prepared.email.to_address, f"hard bounce at send: {error[:150]}",
                     now)
            event = ev.Bounced(hard=True, step=prepared.step)
        else:
            run.state, run.finished_at, message.status = "failed", now, "failed"
            event = ev.Held(prepared.step, f"the provider refused the message: {error[:150]}")
            state = _not_waiting(state)
        decision = advance(definition, state, event, now=now, calendar=app.calendar)
        apply(session, row, decision, now=now)
    return run.state


def _not_waiting(state: EnrollmentState) -> EnrollmentState:
    """The email the engine waits for will not be reported sent: it may be retried."""
    return evolve(state, waiting_on=None)
