"""The ``report_sends`` rollup: each email sent, joined once, with what happened to it.

A report over a million emails cannot afford to join ``messages``, ``step_runs``,
``enrollments`` and ``events`` every time (bench/report_speed.py measured 7 s).
This table holds one narrow row per email with its keys and its ``flags``
(``facts.py``), and ``refresh`` brings it up to date before each report:

1. emails sent since the latest send it holds (less ``MARGIN``, for transactions
   that committed late; a resend moves ``sent_at``) are upserted, and any email
   still missing (the counts differ) is added;
2. every prospect with a new send, or with a new relevant event (events after the
   last one seen, or less than ``EVENT_MARGIN`` older than it), has the facts of all its
   emails computed again: attribution depends on a prospect's other emails, so the
   prospect is the unit of recomputation;
3. a change of the reply rules, a first run, or more than ``FULL_ABOVE`` prospects
   to look at rebuilds the table: the emails go to a temporary staging table, their
   facts are computed from it, and each row is written once (updating a million
   rows in place would leave the table and its indexes twice their size).

Emptying both tables is always safe: the next report rebuilds them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    MetaData,
    Select,
    Table,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from sequencer.reporting.facts import EVENTS, RELEVANT_KINDS, facts
from sequencer.reporting.rules import Rules
from sequencer.store.models import Enrollment, Message, ReportRollup, ReportSend, StepRun

ROLLUP: Table = ReportSend.__table__  # type: ignore[assignment]
STATE: Table = ReportRollup.__table__  # type: ignore[assignment]
MESSAGES: Table = Message.__table__  # type: ignore[assignment]
MARGIN = timedelta(hours=1)  # how late a send's transaction may commit and still be seen
# The same for events; short, because every prospect with an event this close to the
# latest one is recomputed at every refresh (an event's transaction lasts milliseconds).
EVENT_MARGIN = timedelta(minutes=5)
FULL_ABOVE = 100_000  # prospects to look at again beyond which a rebuild is cheaper
STAGING = "report_sends_staging"
COLUMNS = ("message_pk", "prospect_id", "enrollment_id", "sequence_version_id",
           "sequence_name", "step_id", "variant", "mailbox_id", "timezone", "sent_at",
           "flags")


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What a refresh did: rows upserted, prospects recomputed (None: all of them)."""

    sends: int
    prospects: int | None


def refresh(connection: Connection, rules: Rules, tracked_opens: Collection[int],
            tracked_clicks: Collection[int], *, now: datetime) -> Refreshed:
    """Bring the rollup up to date, in the connection's transaction (commit it)."""
    if connection.dialect.name == "postgresql":
        # One refresh at a time; reports reading the rollup are not held up.
        connection.exec_driver_sql("LOCK TABLE report_rollup IN SHARE ROW EXCLUSIVE MODE")
    state = connection.execute(select(STATE).where(STATE.c.id == 1)).first()
    horizon = _horizon(connection)
    changed: set[int] | None = None
    if state is not None and state.rules == rules.digest:
        sends, changed = _new_sends(connection)
        changed |= _new_events(connection, state.events_seen, state.events_seen_at)
    if changed is None or len(changed) > FULL_ABOVE:
        sends, changed = _rebuild(connection, rules, tracked_opens, tracked_clicks), None
    else:
        for chunk in _chunks(sorted(changed), 5_000):
            _recompute(connection, rules, tracked_opens, tracked_clicks, chunk)
    _save(connection, state is None, rules.digest, horizon, now)
    return Refreshed(sends, None if changed is None else len(changed))


def _source() -> Select[Any]:
    m, e, sr = MESSAGES, Enrollment.__table__, StepRun.__table__
    return (select(m.c.id, e.c.prospect_id, m.c.enrollment_id, e.c.sequence_version_id,
                   e.c.sequence_name, sr.c.step_id, m.c.variant, m.c.mailbox_id,
                   e.c.timezone, m.c.sent_at, literal(0))
            .select_from(m.join(e, e.c.id == m.c.enrollment_id)
                         .join(sr, sr.c.id == m.c.step_run_id))
            .where(m.c.sent_at.is_not(None)))


def _new_sends(connection: Connection) -> tuple[int, set[int]]:
    latest = connection.scalar(select(func.max(ROLLUP.c.sent_at)))
    source = _source()
    if latest is not None:
        source = source.where(MESSAGES.c.sent_at >= latest - MARGIN)
    written, prospects = _upsert(connection, source, returning=True)
    sent = connection.scalar(select(func.count()).select_from(MESSAGES).where(
        MESSAGES.c.sent_at.is_not(None))) or 0
    if (connection.scalar(select(func.count()).select_from(ROLLUP)) or 0) < sent:
        missing = _source().where(~select(ROLLUP.c.message_pk).where(
            ROLLUP.c.message_pk == MESSAGES.c.id).exists())
        more, found = _upsert(connection, missing, returning=True)
        written, prospects = written + more, prospects | found
    return written, prospects


def _upsert(connection: Connection, source: Select[Any], *, returning: bool = False
            ) -> tuple[int, set[int]]:
    module: Any = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = module.insert(ROLLUP).from_select(COLUMNS, source)
    statement = statement.on_conflict_do_update(
        index_elements=["message_pk"], set_={"sent_at": statement.excluded.sent_at},
        where=ROLLUP.c.sent_at != statement.excluded.sent_at)
    if not returning:
        return int(connection.execute(statement).rowcount or 0), set()
    prospects = connection.scalars(statement.returning(ROLLUP.c.prospect_id)).all()
    return len(prospects), set(prospects)


def _new_events(connection: Connection, seen: int, seen_at: datetime | None) -> set[int]:
    e = EVENTS
    recent = e.c.id > seen
    if seen_at is not None:
        recent = or_(recent, e.c.occurred_at >= seen_at - EVENT_MARGIN)
    return set(connection.scalars(select(e.c.prospect_id).distinct().where(
        recent, e.c.kind.in_(RELEVANT_KINDS), e.c.prospect_id.is_not(None))))


def _rebuild(connection: Connection, rules: Rules, opens: Collection[int],
             clicks: Collection[int]) -> int:
    """Every email, staged, its facts computed from the staging table, written once."""
    postgres = connection.dialect.name == "postgresql"
    staging = _staging()
    staging.drop(connection, checkfirst=True)
    staging.create(connection)
    connection.execute(insert(staging).from_select(COLUMNS, _source()))
    if postgres:
        connection.exec_driver_sql(f"ANALYZE {STAGING}")
    found = facts(connection.dialect.name, rules, opens, clicks, sends=staging).subquery("f")
    if postgres:
        connection.exec_driver_sql("TRUNCATE report_sends")
    else:
        connection.execute(delete(ROLLUP))
    rows = (select(*(staging.c[name] for name in COLUMNS[:-1]), found.c.flags,
                     found.c.first_reply_at)
            .select_from(staging.join(found, found.c.mid == staging.c.message_pk)))
    written = connection.execute(insert(ROLLUP).from_select(
        [*COLUMNS, "first_reply_at"], rows)).rowcount
    staging.drop(connection)
    if postgres:
        connection.exec_driver_sql("ANALYZE report_sends")  # the plans need its new size
    return int(written or 0)


def _staging() -> Table:
    """A temporary table shaped like the rollup, with the index attribution uses."""
    columns = [Column(c.name, c.type, primary_key=c.primary_key) for c in ROLLUP.columns]
    table = Table(STAGING, MetaData(), *columns, prefixes=["TEMPORARY"])
    Index(f"ix_{STAGING}_prospect", table.c.prospect_id, table.c.sent_at)
    return table


def _recompute(connection: Connection, rules: Rules, opens: Collection[int],
               clicks: Collection[int], prospects: Collection[int] | None) -> None:
    found = facts(connection.dialect.name, rules, opens, clicks, prospects).subquery("f")
    connection.execute(update(ROLLUP).where(ROLLUP.c.message_pk == found.c.mid).values(
        flags=found.c.flags, first_reply_at=found.c.first_reply_at))


def _horizon(connection: Connection) -> tuple[int, datetime | None]:
    """The last event id and time seen, read before recomputing (so nothing that
    arrives meanwhile is skipped next time)."""
    seen = connection.scalar(select(func.max(EVENTS.c.id))) or 0
    return seen, connection.scalar(select(func.max(EVENTS.c.occurred_at)))


def _save(connection: Connection, new: bool, digest: str,
          horizon: tuple[int, datetime | None], now: datetime) -> None:
    values = {"events_seen": horizon[0], "events_seen_at": horizon[1], "rules": digest,
              "refreshed_at": now}
    if new:
        connection.execute(insert(STATE).values(id=1, **values))
    else:
        connection.execute(update(STATE).where(STATE.c.id == 1).values(**values))


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
