"""Handing prepared emails to the transport: ``ready`` → ``sending`` → ``sent``.

One message is in flight per process at any moment (``SEND_LOCK``), so a worker
killed at any line leaves at most one run ``sending``, which the sweeper turns
``uncertain``. The transport may start the next message (its SMTP envelope) while
the hand-over is recorded, but delivers it only once the run is ``sending``. Each
step of the hand-over is one short Core transaction with no external call inside;
the ``sent`` mark of one message and the ``sending`` mark of the next share a
commit, which halves the commits on a batch (ARCHITECTURE §8).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, bindparam, update

from sequencer.delivery import UncertainSendError
from sequencer.delivery.model import Delivery, SendResult, begin_send, build_ahead
from sequencer.errors import (
    HeaderInjectionError,
    MailboxRefusedError,
    PermanentSendError,
    TransientSendError,
)
from sequencer.runtime.compose import Prepared
from sequencer.runtime.transports import transport_for
from sequencer.services.app import App
from sequencer.store.models import Message, StepRun
from sequencer.store.types import aware_utc

SEND_LOCK = threading.Lock()

# (what to record: held|uncertain|retry|mailbox|failed, the error, seconds to wait)
Failure = tuple[str, str, float | None]


# Built once: constructing a statement costs more than PostgreSQL takes to run it.
_MARK_SENT = update(StepRun).where(StepRun.id == bindparam("b_run"),
                                   StepRun.state == "sending").values(
    state="sent", finished_at=bindparam("b_now"))
_MESSAGE_SENT = update(Message).where(Message.step_run_id == bindparam("b_run")).values(
    status="sent", sent_at=bindparam("b_now"), provider_id=bindparam("b_provider"))
_MARK_SENDING = update(StepRun).where(StepRun.id == bindparam("b_run"),
                                      StepRun.state == "ready",
                                      StepRun.attempts == bindparam("b_attempt")).values(
    state="sending", sending_started_at=bindparam("b_now"))
# PostgreSQL does all three in one statement, run in autocommit: one round trip
# instead of five (BEGIN, three UPDATEs, COMMIT) on the path every email takes. It
# goes straight to psycopg: the send lane is the one stage that works one message at
# a time, and SQLAlchemy's execution took as much of the lane's CPU as psycopg's.
_HANDOVER_PG = """
    WITH sent AS (
        UPDATE step_runs SET state = 'sent', finished_at = %(now)s
        WHERE id = %(sent)s AND state = 'sending' RETURNING id),
    message AS (
        UPDATE messages SET status = 'sent', sent_at = %(now)s, provider_id = %(provider)s
        WHERE step_run_id IN (SELECT id FROM sent))
    UPDATE step_runs SET state = 'sending', sending_started_at = %(now)s
    WHERE id = %(run)s AND state = 'ready' AND attempts = %(attempt)s
    RETURNING id"""


def handover(app: App, *, sent: tuple[int, str | None] | None = None,
             next_run: Prepared | None = None, connection: Connection | None = None) -> bool:
    """Record ``sent`` (run id, provider id) and/or claim ``next_run`` for sending.

    Returns whether ``next_run`` may be handed over: only its latest preparation,
    still ``ready``, may (a worker that stalled while the sweeper gave its run to
    another worker finds it taken).
    """
    if connection is None:
        with connect(app) as own:
            return handover(app, sent=sent, next_run=next_run, connection=own)
    now = app.clock.now()
    if connection.dialect.name == "postgresql":
        run_id, provider_id = sent or (None, None)
        driver: Any = connection.connection.driver_connection
        if not driver.autocommit:
            raise ValueError("a hand-over needs an autocommit connection (handover.connect)")
        with driver.cursor() as cursor:
            moved = cursor.execute(_HANDOVER_PG, {
                "now": aware_utc(now), "sent": run_id, "provider": provider_id,
                "run": next_run.run_id if next_run else None,
                "attempt": next_run.attempt if next_run else None}).fetchone()
        return next_run is None or moved is not None  # autocommit: durable already
    moved = True
    with connection.begin():
        if sent is not None:
            run_id, provider_id = sent
            connection.execute(_MARK_SENT, {"b_run": run_id, "b_now": now})
            connection.execute(_MESSAGE_SENT, {"b_run": run_id, "b_now": now,
                                               "b_provider": provider_id})
        if next_run is not None:
            moved = bool(connection.execute(_MARK_SENDING, {
                "b_run": next_run.run_id, "b_attempt": next_run.attempt,
                "b_now": now}).rowcount)
    return moved


def _finish(delivery: Delivery) -> tuple[SendResult | None, Failure | None]:
    """Deliver; the provider's answer, or what to record about its refusal."""
    try:
        return delivery.finish(), None
    except HeaderInjectionError as exc:  # refused before anything left
        return None, ("held", str(exc), None)
    except UncertainSendError as exc:
        return None, ("uncertain", str(exc), None)
    except TransientSendError as exc:
        return None, ("retry", str(exc), exc.retry_after)
    except MailboxRefusedError as exc:  # the sender's login or account
        return None, ("mailbox", str(exc), None)
    except PermanentSendError as exc:
        return None, ("failed", str(exc), None)


def built_ahead(item: Prepared) -> Prepared:
    """``item`` with its message built by its transport, for a thread other than the
    send lane to call: the lane then spends its turn (one message in flight per
    process) on the provider alone. Unchanged when there is nothing to build ahead."""
    try:
        transport = transport_for(item.transport)
    except ValueError:  # the lane records why the mailbox's transport cannot be used
        return item
    built = build_ahead(transport, item.email)
    return item if built is None else replace(item, built=built)


def connect(app: App) -> Connection:
    """A connection for hand-overs: in autocommit on PostgreSQL (see ``_HANDOVER_PG``)."""
    if app.engine.dialect.name == "postgresql":
        return app.engine.execution_options(isolation_level="AUTOCOMMIT").connect()
    return app.engine.connect()


RecordFailure = Callable[[Prepared, str, str, float | None], str]


def send_all(app: App, prepared: Sequence[Prepared],
             record_failure: RecordFailure) -> list[tuple[Prepared, str]]:
    """Send each prepared email once, in order; returns each with what happened.

    "sent" means the server took it and it is recorded; the engine is told later.
    A refusal is recorded at once through ``record_failure`` (before the next
    message goes), so a run never lingers ``sending`` behind the one in flight.
    """
    results: list[tuple[Prepared, str]] = []
    with SEND_LOCK, connect(app) as connection:
        pending: tuple[int, str | None] | None = None
        for item in prepared:
            try:  # before the hand-over: a mailbox that cannot send leaves nothing "sending"
                transport = transport_for(item.transport)
            except ValueError as exc:  # e.g. the API key's variable is not set
                results.append((item, record_failure(
                    item, "retry", f"the mailbox's transport cannot be used: {exc}", None)))
                continue
            # The envelope goes out while the hand-over is recorded; nothing is delivered
            # before ``finish``, so the one message in flight is still the only one.
            delivery = begin_send(transport, item.email, item.built)
            try:
                taken = handover(app, sent=pending, next_run=item, connection=connection)
            except BaseException:
                delivery.abandon()
                raise
            pending = None
            if not taken:
                delivery.abandon()
                results.append((item, "duplicate (already handed over)"))
                continue
            try:
                result, failure = _finish(delivery)
            except BaseException as exc:  # a time limit, a bug: the message may have left
                record_failure(item, "uncertain", f"interrupted while sending: {exc!r}", None)
                raise
            if result is not None:
                pending = (item.run_id, result.provider_id)
            results.append((item, "sent" if failure is None
                            else record_failure(item, *failure)))
        if pending is not None:
            handover(app, sent=pending, connection=connection)
    return results
