"""Bulk enrollment from a CSV file: every good row enrolled, every bad row named by line.

Rows are checked before anything is written; each batch of rows is one
transaction (prospects and their enrollments together), so a crash never leaves
a half-written enrollment and a bad row never aborts the good ones.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Select, Table, bindparam, select
from sqlalchemy.orm import Session

from sequencer.definition.model import Definition
from sequencer.engine.advance import start
from sequencer.engine.eligibility import PastEnrollment, may_enroll
from sequencer.engine.state import Status
from sequencer.errors import InputError
from sequencer.services.app import App
from sequencer.services.learned import definition_for_new
from sequencer.services.mailboxes import find_mailbox
from sequencer.services.prospect_admin import storage_problem
from sequencer.services.prospects import ProspectRow, read_row, valid_email
from sequencer.services.sequences import definition_of, publish
from sequencer.store.bound import among, dialect_of
from sequencer.store.bulk import BulkInsert
from sequencer.store.codec import columns_of
from sequencer.store.models import Enrollment, Mailbox, Prospect, SequenceVersion
from sequencer.store.queries import suppressions_of
from sequencer.store.upsert import keeping_existing
from sequencer.timing.sendtime import mix
from sequencer.validation import zone_exists

BATCH = 2000  # measured: 2,000 rows a transaction enrolls ~50% faster than 1,000
ENROLLMENTS: Table = Enrollment.__table__  # type: ignore[assignment]
PROSPECTS: Table = Prospect.__table__  # type: ignore[assignment]
_NEW_PROSPECTS = BulkInsert(PROSPECTS, on_conflict=keeping_existing(("email_key",)),
                            returning=("id", "email_key"), share_alike=True)
_NEW_ENROLLMENTS = BulkInsert(ENROLLMENTS, returning=("id", "prospect_id"), share_alike=True)
Progress = Callable[[int], None]


@dataclass
class EnrollSummary:
    sequence: str
    version: str
    rows: int = 0
    enrolled: int = 0
    enrolled_lines: list[tuple[int, int]] = field(default_factory=list)  # (line, prospect id)
    # prospect id -> its new enrollment's id
    enrollment_ids: dict[int, int] = field(default_factory=dict)
    skipped: list[tuple[int, str, str]] = field(default_factory=list)  # (line, code, why)

    def reasons(self) -> Counter[str]:
        return Counter(code for _, code, _ in self.skipped)


def count_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


@dataclass(frozen=True, slots=True)
class Target:
    """Where rows are enrolled: a published sequence version, from one mailbox."""

    definition: Definition
    version_id: int
    mailbox_id: int


def enroll_csv(app: App, sequence: Path, rows_file: Path, *, mailbox: str,
               progress: Progress | None = None, batch: int = BATCH) -> EnrollSummary:
    """Enroll every valid row of ``rows_file`` into ``sequence`` from ``mailbox``.

    Raises:
        DefinitionError: the sequence file has errors.
        InputError: no such mailbox, an unreadable file, or no ``email`` column.
    """
    with app.sessions.begin() as session:
        version, definition = publish(session, app, sequence)
        target = Target(definition, version.id, _mailbox_id(session, mailbox))
    return enroll_rows(app, target, _rows(rows_file), progress=progress, batch=batch)


def enroll_rows(app: App, target: Target, rows: Iterable[ProspectRow], *,
                progress: Progress | None = None, batch: int = BATCH) -> EnrollSummary:
    """Enroll every valid row into ``target``: the one pipeline behind the CSV file and
    the API. Each row's ``line`` names it in ``skipped`` (and ``enrolled``); a batch of
    ``batch`` rows is one transaction, and a bad row never aborts the good ones."""
    definition = target.definition
    summary = EnrollSummary(definition.name, definition.version)
    seen: set[str] = set()
    for number, chunk in enumerate(_chunks(iter(rows), batch), start=1):
        good = [row for row in chunk if _row_ok(row, seen, summary)]
        with app.sessions.begin() as session:
            _enroll_batch(session, app, definition, target.version_id, target.mailbox_id,
                          good, summary)
        if len(chunk) == batch and number & (number - 1) == 0:  # a bulk load: after
            _refresh_statistics(app)  # full batches 1, 2, 4, 8... the tables doubled
        summary.rows += len(chunk)
        if progress is not None:
            progress(len(chunk))
    return summary


def latest_target(app: App, sequence: str, mailbox: str) -> Target:
    """The latest published version of the sequence named ``sequence``, from ``mailbox``.

    Raises:
        InputError: no such sequence or mailbox.
    """
    with app.sessions() as session:
        # Read-only: no transaction of its own, so no BEGIN and ROLLBACK round trips.
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        version_id, mailbox_id = session.execute(
            _target_query(), {"sequence": sequence, "mailbox": mailbox.strip()}).one()
        if version_id is None:
            raise InputError(f"no sequence {sequence!r}: publish it first")
        if mailbox_id is None:
            raise _no_mailbox(mailbox)
        return Target(definition_of(session, app, version_id), version_id, mailbox_id)


@cache
def _target_query() -> Select[int | None, int | None]:
    """The latest version's id of a sequence and a mailbox's id, in one round trip."""
    version = (select(SequenceVersion.id).where(SequenceVersion.name == bindparam("sequence"))
               .order_by(SequenceVersion.id.desc()).limit(1).scalar_subquery())
    sender = select(Mailbox.id).where(Mailbox.address == bindparam("mailbox")).scalar_subquery()
    return select(version, sender)


def _mailbox_id(session: Session, mailbox: str) -> int:
    sender = find_mailbox(session, mailbox)
    if sender is None:
        raise _no_mailbox(mailbox)
    return sender.id


def _no_mailbox(mailbox: str) -> InputError:
    return InputError(f"no mailbox {mailbox!r}: add it with 'sequencer mailbox add'")


def _refresh_statistics(app: App) -> None:
    """Tell PostgreSQL's planner how big the tables have grown.

    Autovacuum analyzes a minute or more later. Until then the planner believes
    the tables tiny and scans them whole for each batch's lookups, with a
    2,000-value IN list compared row by row: 100,000 rows enrolled at ~400 a
    second instead of thousands (measured with bench/throughput.py).
    """
    if app.engine.dialect.name == "postgresql":
        with app.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE prospects, enrollments")


def _rows(path: Path) -> Iterator[ProspectRow]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            if "email" not in header:
                raise InputError(f"{path}:1: the header needs an 'email' column "
                                 f"(found: {', '.join(header) or 'nothing'})")
            for line, raw in enumerate(reader, start=2):
                yield read_row(line, raw)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a valid UTF-8 CSV file: {exc}") from exc


def _chunks(rows: Iterator[ProspectRow], size: int) -> Iterator[list[ProspectRow]]:
    chunk: list[ProspectRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _row_ok(row: ProspectRow, seen: set[str], summary: EnrollSummary) -> bool:
    """Checks that need no database; records the reason of a skip."""
    if not valid_email(row.email):
        summary.skipped.append((row.line, "invalid_email",
                                f"{row.email!r} is not an email address"))
        return False
    zone = row.fields.get("timezone")
    if zone and not zone_exists(zone):
        summary.skipped.append((row.line, "unknown_timezone", f"unknown time zone {zone!r}"))
        return False
    unstorable = storage_problem(row)
    if unstorable is not None:
        summary.skipped.append((row.line, "invalid_field", unstorable))
        return False
    if row.key in seen:
        summary.skipped.append((row.line, "duplicate_in_file",
                                f"{row.email} appears earlier in the file"))
        return False
    seen.add(row.key)
    return True


def _enroll_batch(session: Session, app: App, definition: Definition, version_id: int,
                  mailbox_id: int, rows: Sequence[ProspectRow], summary: EnrollSummary) -> None:
    if not rows:
        return
    now = app.clock.now()
    blocked = _suppressed(session, rows)
    prospects = _prospects_of(session, rows, now)
    history = _history(session, [i for i in prospects.ids.values()
                                 if i not in prospects.created])
    enrollments: list[dict[str, Any]] = []
    for row in rows:
        if row.key in blocked:
            summary.skipped.append((row.line, "suppressed", blocked[row.key]))
            continue
        if row.key in prospects.refused:
            summary.skipped.append((row.line, "do_not_contact",
                                    f"{row.email} is marked do-not-contact"))
            continue
        prospect_id = prospects.ids[row.key]
        verdict = may_enroll(definition, history.get(prospect_id, []), now=now)
        if not verdict.allowed:
            summary.skipped.append((row.line, verdict.code, verdict.reason))
            continue
        enrollments.append(_enrollment(session, app, definition, version_id, mailbox_id,
                                       prospect_id, row, now))
        summary.enrolled_lines.append((row.line, prospect_id))
    # Core, in one statement (``sequencer.store.bulk``): the ORM's bulk insert costs
    # more than the rows.
    summary.enrollment_ids.update((p, e) for e, p in _NEW_ENROLLMENTS.execute(session,
                                                                              enrollments))
    summary.enrolled += len(enrollments)


def _enrollment(session: Session, app: App, definition: Definition, version_id: int,
                mailbox_id: int, prospect_id: int, row: ProspectRow, now: datetime
                ) -> dict[str, Any]:
    zone = row.fields.get("timezone") or definition.schedule.default_timezone
    country = row.fields.get("country") or definition.schedule.default_country
    seed = mix(prospect_id, version_id) >> 1  # fits a signed BIGINT
    windowed = definition_for_new(session, app, definition, version_id, fields=row.fields,
                                  country=country, seed=seed)
    decision = start(windowed, timezone=zone, country=country, seed=seed, now=now,
                     calendar=app.calendar)
    return {**columns_of(decision.state), "prospect_id": prospect_id,
            "sequence_version_id": version_id, "sequence_name": definition.name,
            "mailbox_id": mailbox_id, "row_version": 1}


def _suppressed(session: Session, rows: Sequence[ProspectRow]) -> dict[str, str]:
    messages = {"address": "{value} is suppressed ({reason})",
                "domain": "the domain {value} is suppressed ({reason})"}
    return {key: messages[kind].format(value=value, reason=reason)
            for key, (kind, value, reason) in suppressions_of(session, (r.key for r in rows))
            .items()}


@dataclass(frozen=True, slots=True)
class _Prospects:
    ids: dict[str, int]  # by email key
    refused: set[str]  # the email keys marked do-not-contact
    created: set[int]  # ids made by this batch: they have no past enrollments


def _prospects_of(session: Session, rows: Sequence[ProspectRow], now: datetime) -> _Prospects:
    """The rows' prospects, creating the new ones."""
    known = _known(session, [r.key for r in rows])
    new = [{"email": r.email, "email_key": r.key, **r.fields, "custom": r.custom,
            "do_not_contact": False, "created_at": now} for r in rows if r.key not in known]
    created: set[int] = set()
    if new:
        # Another enroller may create the same prospect at once: the unique key settles
        # it. What was not returned as made here is read back.
        for prospect_id, key in _NEW_PROSPECTS.execute(session, new):
            known[key] = (prospect_id, False)
            created.add(prospect_id)
        lost = [r.key for r in rows if r.key not in known]
        if lost:
            known.update(_known(session, lost))
    return _Prospects({k: v[0] for k, v in known.items()},
                      {k for k, v in known.items() if v[1]}, created)


def _known(session: Session, keys: list[str]) -> dict[str, tuple[int, bool]]:
    """(id, do-not-contact) of the prospects with these email keys."""
    return {k: (i, dnc) for i, k, dnc in session.connection().execute(
        _known_query(dialect_of(session)), {"keys": keys})}


@cache
def _known_query(dialect: str) -> Select[int, str, bool]:
    return select(Prospect.id, Prospect.email_key, Prospect.do_not_contact).where(
        among(Prospect.email_key, "keys", dialect))


def _history(session: Session, prospect_ids: list[int]) -> dict[int, list[PastEnrollment]]:
    out: dict[int, list[PastEnrollment]] = {}
    if not prospect_ids:
        return out
    rows = session.execute(_history_query(dialect_of(session)), {"ids": prospect_ids})
    for prospect_id, name, status, started, ended in rows:
        out.setdefault(prospect_id, []).append(PastEnrollment(name, Status(status), started,
                                                              ended))
    return out


@cache
def _history_query(dialect: str) -> Select[int, str, str, datetime, datetime | None]:
    return select(Enrollment.prospect_id, Enrollment.sequence_name, Enrollment.status,
                  Enrollment.started_at, Enrollment.ended_at).where(
        among(Enrollment.prospect_id, "ids", dialect))
