"""The definition an enrollment runs with: its pinned version, with learned windows if opted in.

A sequence that opts in (``schedule.learned_windows``) has its windows replaced,
for each segment of prospects, by the local hours that earned replies in its own
history (``sequencer.timing.learned`` decides; this module reads the history).
The history is one SQL aggregate per sequence and segment kind, kept on the
``App`` for ``REFRESH`` of the app clock. A sequence that has not opted in costs
one dict lookup and one attribute read more than ``definition_of``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, distinct, func, select
from sqlalchemy.orm import Session

from sequencer.definition.model import Definition, LearnedWindows, Segment
from sequencer.services.app import App
from sequencer.services.learned_cache import LearnedHistory, SegmentCounts
from sequencer.services.sequences import definition_of
from sequencer.store.models import Enrollment, Event, Message, Prospect
from sequencer.timing.learned import Learning, Slot, SlotCounts, explores, learn_windows

REFRESH = timedelta(minutes=15)
LOOKBACK = timedelta(days=180)  # older habits say little about when people answer now
HALF_HOUR = timedelta(minutes=30)


class EnrollmentRow(Protocol):
    """What ``definition_for`` reads: an ``Enrollment`` or a Core row of its table."""

    @property
    def sequence_version_id(self) -> int: ...
    @property
    def prospect_id(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def country(self) -> str | None: ...


def definition_for(session: Session, app: App, row: EnrollmentRow) -> Definition:
    """The definition to hand to ``advance`` for ``row``.

    Its pinned version as it is, unless the sequence opted in to learned windows:
    then a copy whose windows are those learned for the enrollment's segment
    (the same object for every enrollment of that segment until the history is
    read again), or the configured windows when the enrollment explores or the
    segment has too little history.
    """
    definition = definition_of(session, app, row.sequence_version_id)
    settings = definition.schedule.learned
    if settings is None:
        return definition
    segment = _segment_of_enrollment(session, row, settings.segment)
    return learned_definition(session, app, definition, row.sequence_version_id,
                              segment=segment, seed=row.seed)


def definition_for_new(session: Session, app: App, definition: Definition, version_id: int, *,
                       fields: Mapping[str, str | None], country: str | None, seed: int
                       ) -> Definition:
    """``definition_for`` for an enrollment being created from a prospect's ``fields``."""
    settings = definition.schedule.learned
    if settings is None:
        return definition
    raw = country if settings.segment is Segment.COUNTRY else fields.get(settings.segment.value)
    return learned_definition(session, app, definition, version_id,
                              segment=segment_key(settings.segment, raw), seed=seed)


def learned_definition(session: Session, app: App, definition: Definition, version_id: int, *,
                       segment: str | None, seed: int) -> Definition:
    """``definition`` with the windows learned for ``segment`` (see ``definition_for``)."""
    settings = definition.schedule.learned
    if settings is None or explores(seed, settings.explore):
        return definition
    history = _history(session, app, definition.name, settings.segment)
    key = (version_id, segment)
    found = history.definitions.get(key)
    if found is None:
        learning = _learning(history, definition, settings, version_id, segment)
        prior = history.previous.get(key)
        if not learning.learned:
            found = definition
        elif prior is not None and prior.schedule.windows == learning.windows:
            found = prior
        else:
            found = replace(definition,
                            schedule=replace(definition.schedule, windows=learning.windows))
        history.definitions[key] = found
    return found


def learnings(session: Session, app: App, definition: Definition, version_id: int
              ) -> list[Learning]:
    """What ``definition`` has learned for each segment with history, largest first."""
    settings = definition.schedule.learned or LearnedWindows()
    history = _history(session, app, definition.name, settings.segment)
    found = [_learning(history, definition, settings, version_id, segment)
             for segment in history.counts]
    return sorted(found, key=lambda learning: (-learning.sends, learning.segment))


def segment_key(kind: Segment, raw: str | None) -> str | None:
    """The segment a prospect's value falls in: countries upper-cased, words lower-cased."""
    if kind is Segment.NONE:
        return "everyone"
    if raw is None or not raw.strip():
        return None
    return raw.strip().upper() if kind is Segment.COUNTRY else raw.strip().lower()


def segment_label(segment: str | None) -> str:
    return segment if segment is not None else "prospects with no value"


def _segment_of_enrollment(session: Session, row: EnrollmentRow, kind: Segment) -> str | None:
    if kind is Segment.NONE:
        return segment_key(kind, None)
    if kind is Segment.COUNTRY:
        return segment_key(kind, row.country)
    prospect = session.get(Prospect, row.prospect_id)
    return segment_key(kind, getattr(prospect, kind.value) if prospect else None)


def _learning(history: LearnedHistory, definition: Definition, settings: LearnedWindows,
              version_id: int, segment: str | None) -> Learning:
    key = (version_id, segment)
    found = history.learnings.get(key)
    if found is None:
        found = history.learnings[key] = learn_windows(
            history.counts.get(segment, {}), definition.schedule, settings,
            segment=segment_label(segment))
    return found


def _history(session: Session, app: App, name: str, kind: Segment) -> LearnedHistory:
    now = app.clock.now()
    cache = app.learned_windows
    found = cache.fresh(name, kind, now=now, max_age=REFRESH.total_seconds())
    if found is None:
        found = LearnedHistory(now, read_counts(session, name, kind, since=now - LOOKBACK))
        cache.replace(name, kind, found)
    return found


def read_counts(session: Session, name: str, kind: Segment, *, since: datetime
                ) -> SegmentCounts:
    """Emails of sequence ``name`` sent since ``since`` and those that earned a reply, by
    segment and local (weekday, hour).

    The database groups by the enrollment's zone and the UTC hour; the hours become
    local in Python, so the same query serves SQLite and PostgreSQL and stays right
    across DST (each UTC hour of each date is converted on its own date).
    """
    hour = _utc_hour(session)
    columns: list[ColumnElement[Any]] = [Enrollment.timezone.expression, hour]
    segment_column = _segment_column(kind)
    if segment_column is not None:
        columns.append(segment_column)
    replied = and_(Event.message_id == Message.message_id, Event.kind == "reply")
    query = (select(*columns, func.count(distinct(Message.id)),
                    func.count(distinct(Event.message_id)))
             .select_from(Message)
             .join(Enrollment, Enrollment.id == Message.enrollment_id)
             .outerjoin(Event, replied)
             .where(Enrollment.sequence_name == name, Message.sent_at.is_not(None),
                    Message.sent_at >= since)
             .group_by(*columns))
    if kind in (Segment.INDUSTRY, Segment.TITLE):
        query = query.join(Prospect, Prospect.id == Enrollment.prospect_id)
    out: SegmentCounts = {}
    for zone, utc_hour, *rest in session.execute(query):
        raw, sends, replies = (rest[0], rest[1], rest[2]) if len(rest) == 3 \
            else (None, rest[0], rest[1])
        slots = out.setdefault(segment_key(kind, raw), {})
        slot = local_slot(str(utc_hour), str(zone))
        slots[slot] = slots.get(slot, SlotCounts()).plus(int(sends), int(replies))
    return out


def local_slot(utc_hour: str, zone: str) -> Slot:
    """The local (weekday, hour) of the UTC hour ``YYYY-MM-DD HH`` in ``zone``.

    The middle of the UTC hour decides, which places a zone with a half-hour
    offset in the local hour that holds most of it.
    """
    start = datetime.fromisoformat(f"{utc_hour}:00").replace(tzinfo=UTC)
    local = (start + HALF_HOUR).astimezone(_zone(zone))
    return local.weekday(), local.hour


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _segment_column(kind: Segment) -> ColumnElement[Any] | None:
    match kind:
        case Segment.COUNTRY:
            return Enrollment.country.expression
        case Segment.INDUSTRY:
            return Prospect.industry.expression
        case Segment.TITLE:
            return Prospect.title.expression
        case Segment.NONE:
            return None


def _utc_hour(session: Session) -> ColumnElement[Any]:
    """``sent_at`` as the text ``YYYY-MM-DD HH`` of its UTC hour, in this database's words."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", Message.sent_at), "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", Message.sent_at)  # SQLite keeps the UTC wall time
