"""Running a breakdown: counts from ``query``, rates from ``stats``, one value object.

``report(app, by=[...])`` is the service function the CLI, the API and the HTML
page call; ``build_report(connection, ...)`` does the same on a bare connection
(benchmarks, tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.engine import Connection

from sequencer.clock import SystemClock
from sequencer.reporting import query
from sequencer.reporting.dimensions import key_columns
from sequencer.reporting.rollup import refresh
from sequencer.reporting.rules import Rules, load_rules
from sequencer.reporting.sqlfuncs import prepare_sqlite, tune
from sequencer.reporting.stats import MIN_BASE, Rate
from sequencer.services.app import App


@dataclass(frozen=True, slots=True)
class Figures:
    """The counts of one slice; each rate is a property with its own base."""

    emails_sent: int = 0
    emails_bounced: int = 0
    prospects_sent: int = 0
    prospects_delivered: int = 0
    replied: int = 0
    positive: int = 0
    negative: int = 0
    unsubscribed: int = 0
    meetings: int = 0
    open_base: int = 0
    opened: int = 0
    click_base: int = 0
    clicked: int = 0
    median_hours_to_reply: float | None = None
    minimum: int = MIN_BASE

    @classmethod
    def from_row(cls, row: Mapping[str, Any], minimum: int = MIN_BASE) -> Figures:
        counts = {name: int(row[name] or 0) for name in query.COUNTS[:-1]}
        hours = row["median_hours_to_reply"]
        return cls(**counts, median_hours_to_reply=None if hours is None else float(hours),
                   minimum=minimum)

    @property
    def emails_delivered(self) -> int:
        return self.emails_sent - self.emails_bounced

    def _of_delivered(self, count: int) -> Rate:
        return Rate(count, self.prospects_delivered, self.minimum)

    @property
    def reply_rate(self) -> Rate:
        return self._of_delivered(self.replied)

    @property
    def positive_rate(self) -> Rate:
        return self._of_delivered(self.positive)

    @property
    def negative_rate(self) -> Rate:
        return self._of_delivered(self.negative)

    @property
    def unsubscribe_rate(self) -> Rate:
        return self._of_delivered(self.unsubscribed)

    @property
    def meeting_rate(self) -> Rate:
        return self._of_delivered(self.meetings)

    @property
    def bounce_rate(self) -> Rate:
        return Rate(self.emails_bounced, self.emails_sent, self.minimum)

    @property
    def open_rate(self) -> Rate | None:
        return Rate(self.opened, self.open_base, self.minimum) if self.open_base else None

    @property
    def click_rate(self) -> Rate | None:
        return Rate(self.clicked, self.click_base, self.minimum) if self.click_base else None

    def rates(self) -> dict[str, Rate | None]:
        return {"reply": self.reply_rate, "positive_reply": self.positive_rate,
                "negative_reply": self.negative_rate, "bounce": self.bounce_rate,
                "unsubscribe": self.unsubscribe_rate, "meeting": self.meeting_rate,
                "open": self.open_rate, "click": self.click_rate}


@dataclass(frozen=True, slots=True)
class Slice:
    key: dict[str, Any]
    figures: Figures


@dataclass(frozen=True, slots=True)
class Report:
    by: tuple[str, ...]
    keys: tuple[str, ...]
    rows: tuple[Slice, ...]
    total: Figures
    generated_at: datetime
    sequence: str | None = None
    since: datetime | None = None
    rules_source: str = ""
    minimum: int = MIN_BASE
    tracking: dict[str, bool] = field(default_factory=dict)  # opens / clicks tracked anywhere


def report(app: App, by: Iterable[str], *, sequence: str | None = None,
           since: datetime | None = None, rules: Rules | None = None,
           minimum: int = MIN_BASE) -> Report:
    """The breakdown ``by`` (``--by`` values) of the emails in scope.

    Raises:
        InputError: an unknown dimension, or unreadable reply rules.
    """
    with app.engine.connect() as connection:
        return build_report(connection, by, sequence=sequence, since=since, rules=rules,
                            minimum=minimum, now=app.clock.now())


def build_report(connection: Connection, by: Iterable[str], *, sequence: str | None = None,
                 since: datetime | None = None, rules: Rules | None = None,
                 minimum: int = MIN_BASE, now: datetime | None = None,
                 with_total: bool = True, refresh_rollup: bool = True) -> Report:
    """``report`` on an open connection; the rollup is refreshed first (and committed)
    unless ``refresh_rollup`` is false (a page of several reports refreshes once)."""
    by = tuple(by)
    keys = key_columns(by)
    rules = rules or load_rules()
    now = now or SystemClock().now()
    prepare_sqlite(connection)
    tracked = tracked_versions(connection)
    if refresh_rollup:
        refresh(connection, rules, tracked.opens, tracked.clicks, now=now)
        connection.commit()
    tune(connection)
    rows = query.run(connection, query.Scope(keys, sequence, since))
    slices = tuple(sorted((Slice({k: row[k] for k in keys}, Figures.from_row(row, minimum))
                           for row in rows), key=slice_order))
    total = Figures(minimum=minimum)
    if with_total:
        totals = query.run(connection, query.Scope((), sequence, since))
        total = Figures.from_row(totals[0], minimum) if totals else total
    return Report(by, keys, slices, total, now, sequence, since,
                  rules.source, minimum,
                  {"opens": bool(tracked.opens), "clicks": bool(tracked.clicks)})


@dataclass(frozen=True, slots=True)
class Tracked:
    """Sequence version ids whose emails carry an open pixel / rewritten links."""

    opens: frozenset[int] = frozenset()
    clicks: frozenset[int] = frozenset()


def slice_order(piece: Slice) -> tuple[tuple[bool, str], ...]:
    """Rows in key order: numbers by value, text alphabetically, none last."""
    return tuple((value is None, f"{value:08d}" if isinstance(value, int) else str(value))
                 for value in piece.key.values())


def tracked_versions(connection: Connection) -> Tracked:
    """The sequence versions whose ``tracking:`` turns opens or clicks on."""
    opens, clicks = set(), set()
    for version_id, source in connection.execute(select(query.VERSIONS.c.id,
                                                        query.VERSIONS.c.source)):
        tracking = _tracking(source)
        if tracking.get("opens") is True:
            opens.add(version_id)
        if tracking.get("clicks") is True:
            clicks.add(version_id)
    return Tracked(frozenset(opens), frozenset(clicks))


def _tracking(source: str) -> Mapping[str, Any]:
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError:
        return {}
    tracking = data.get("tracking") if isinstance(data, Mapping) else None
    return tracking if isinstance(tracking, Mapping) else {}
