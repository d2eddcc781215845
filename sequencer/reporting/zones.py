"""Local time on SQLite: the UTC offset of each zone, period by period.

PostgreSQL converts with ``AT TIME ZONE`` itself. SQLite knows no zones, so for the
zones and the span a report covers this module lists the periods of constant
offset (cut at every DST change, found with ``zoneinfo``), and the report's SQL
adds the offset of the period each send falls in. The conversion rules come from
Python; the millions of rows stay in SQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

STORED = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a datetime on SQLite
_DAY = timedelta(days=1)


def offset_periods(zones: Iterable[str], start: datetime, end: datetime
                   ) -> list[tuple[str, str, str, int]]:
    """``(zone, from, to, offset seconds)`` covering ``start``..``end`` (UTC) per zone.

    ``from`` is inclusive, ``to`` exclusive, both in SQLite's stored format so that
    they compare as text with the stored send times. An unknown zone is left out
    (its sends count in UTC, as the query's fallback says).
    """
    first = datetime(start.year, start.month, start.day, tzinfo=UTC) - _DAY
    last = datetime(end.year, end.month, end.day, tzinfo=UTC) + 2 * _DAY
    periods = []
    for name in sorted(set(zones)):
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        for begin, finish, offset in _constant_spans(zone, first, last):
            periods.append((name, begin.strftime(STORED), finish.strftime(STORED), offset))
    return periods


def _constant_spans(zone: ZoneInfo, first: datetime, last: datetime
                    ) -> list[tuple[datetime, datetime, int]]:
    spans = []
    begin, offset = first, _offset(zone, first)
    day = first
    while day < last:
        following = day + _DAY
        if _offset(zone, following) != offset:
            change = _change_between(zone, day, following, offset)
            spans.append((begin, change, offset))
            begin, offset = change, _offset(zone, change)
        day = following
    spans.append((begin, last, offset))
    return spans


def _change_between(zone: ZoneInfo, low: datetime, high: datetime, before: int) -> datetime:
    """The first second in (low, high] whose offset differs from ``before``."""
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if _offset(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high


def _offset(zone: ZoneInfo, moment: datetime) -> int:
    delta = moment.astimezone(zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def periods_json(periods: list[tuple[str, str, str, int]]) -> str:
    """The periods as one JSON parameter, read in SQL with ``json_each``."""
    return json.dumps(periods, separators=(",", ":"))
