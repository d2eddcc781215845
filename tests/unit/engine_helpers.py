"""Helpers for the engine's unit tests: definitions from YAML text, aware times, a driver.

Definitions are written as YAML in each test and parsed by the real parser, so
that the tests read like the sequence files users write.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sequencer.definition.checks import LintPolicy, check_definition
from sequencer.definition.located import Report
from sequencer.definition.model import Definition
from sequencer.definition.parse import parse_definition
from sequencer.engine import EnrollmentState, advance, start
from sequencer.engine import actions as act
from sequencer.engine import events as ev
from sequencer.engine.actions import Decision
from sequencer.errors import Severity
from sequencer.sources import load_yaml

A = TypeVar("A", bound=act.Action)

NEW_YORK = "America/New_York"
NY = ZoneInfo(NEW_YORK)


def definition(text: str) -> Definition:
    """Parse a sequence written as YAML; fail the test on any error."""
    text = textwrap.dedent(text)
    data, lines, problems = load_yaml(text, "t.yaml")
    assert not problems, [p.format() for p in problems]
    report = Report("t.yaml", lines)
    parsed = parse_definition(data, report, zone_exists=lambda z: True)
    assert parsed is not None, [p.format() for p in report.problems]
    assert not report.has_errors, [p.format() for p in report.problems]
    check_definition(parsed, report, LintPolicy())
    errors = [p.format() for p in report.problems if p.severity is Severity.ERROR]
    assert not errors, errors
    return parsed


def local(day: date | str, clock: str = "00:00", zone: ZoneInfo = NY) -> datetime:
    """An aware UTC instant for a local wall-clock time in ``zone`` (New York by default)."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    wall = datetime.combine(day, time.fromisoformat(clock), tzinfo=zone)
    return wall.astimezone(UTC)


def in_zone(moment: datetime, zone: ZoneInfo = NY) -> datetime:
    """``moment`` as a naive local wall-clock time, for readable assertions."""
    return moment.astimezone(zone).replace(tzinfo=None)


def wall(text: str) -> datetime:
    """A naive local wall-clock time written as ``YYYY-MM-DD HH:MM``."""
    return datetime.fromisoformat(text)


def enroll(defn: Definition, now: datetime, *, seed: int = 7, timezone: str = NEW_YORK,
           country: str | None = None) -> Decision:
    return start(defn, timezone=timezone, country=country, seed=seed, now=now)


def only(decision: Decision, kind: type[A]) -> A:
    """The single action of ``kind`` in a decision."""
    found = [a for a in decision.actions if isinstance(a, kind)]
    assert len(found) == 1, decision.actions
    return found[0]


class Driver:
    """An enrollment driven through the engine on an explicit clock."""

    def __init__(self, defn: Definition, now: datetime, *, seed: int = 7,
                 timezone: str = NEW_YORK) -> None:
        self.defn = defn
        self.now = now
        self.decision = enroll(defn, now, seed=seed, timezone=timezone)

    @property
    def state(self) -> EnrollmentState:
        return self.decision.state

    def fire(self, event: ev.Event, *, at: datetime | None = None) -> Decision:
        if at is not None:
            assert at >= self.now, "the test clock only moves forward"
            self.now = at
        self.decision = advance(self.defn, self.state, event, now=self.now)
        return self.decision

    def due(self, *, recent: tuple[datetime, ...] = ()) -> Decision:
        """Move the clock to the current due time and fire Due."""
        assert self.state.due_at is not None
        return self.fire(ev.Due(recent), at=max(self.now, self.state.due_at))

    def send_current(self, subject: str | None = None, *, after: timedelta = timedelta(0)
                     ) -> Decision:
        """Run the due email step and report it sent; returns the SendEmail decision."""
        handed = self.due()
        send = only(handed, act.SendEmail)
        message_id = f"<{send.step}.{send.round}@test>"
        self.fire(ev.EmailSent(send.step, message_id, subject or send.subject or "(none)"),
                  at=self.now + after)
        return handed

    def complete_current(self, outcome: str) -> Decision:
        handed = self.due()
        task = only(handed, act.CreateTask)
        self.fire(ev.TaskCompleted(task.step, outcome))
        return handed
