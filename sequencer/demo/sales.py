"""The simulated account executive: positive replies become meetings, some meetings
become deals.

Each reply the demo wrote as positive is marked positive, as a rep reading it would.

A prospect whose reply the demo wrote as positive may book a meeting a few working
hours later; after it, their deal may climb the default lifecycle (SQL with a value,
opportunity with a revised value, then customer) or be lost on the way. Each step is
recorded at its own moment of the virtual clock, through the same services as
``sequencer record meeting`` and ``sequencer record stage``, so the funnel and the
HTML report read what the team would have entered. Every draw is seeded by (seed,
prospect): the same seed gives the same deals.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sequencer.reporting.lifecycle import Lifecycle
from sequencer.reporting.marks import mark_reply
from sequencer.services.actions import record_meeting, record_stage
from sequencer.services.app import App

LIFECYCLE = Lifecycle()  # the default ladder: the demo never reads a lifecycle.yaml


@dataclass(frozen=True, slots=True)
class Chances:
    """How a positive reply plays out, step by step."""

    meeting: float = 0.7  # a positive reply books a meeting
    qualified: float = 0.7  # a meeting reaches SQL
    opportunity: float = 0.65  # an SQL becomes an opportunity ...
    lost_at_sql: float = 0.15  # ... or is lost
    won: float = 0.5  # an opportunity is won ...
    lost_at_opportunity: float = 0.25  # ... or lost


@dataclass(frozen=True, slots=True)
class _Step:
    """One thing to record: a meeting, or a stage with an optional deal value."""

    stage: str | None  # None: the meeting
    value: float | None = None


@dataclass(order=True)
class _Due:
    at: datetime
    order: int
    address: str = field(compare=False)
    step: _Step = field(compare=False)


@dataclass
class Sales:
    app: App
    seed: int
    chances: Chances = field(default_factory=Chances)
    recorded: Counter[str] = field(default_factory=Counter)  # "meeting" or the stage
    _due: list[_Due] = field(default_factory=list)
    _queued: int = 0
    _heard: set[str] = field(default_factory=set)

    def heard(self, address: str, at: datetime) -> None:
        """``address`` replied with interest at ``at``: the rep marks the reply positive
        (as ``sequencer record reply EMAIL positive`` does: the phrase rules do not read
        every language the demo writes in) and plans what follows, once a person."""
        mark_reply(self.app, address, True, note="read by the demo's rep")
        if address in self._heard:
            return
        self._heard.add(address)
        when = at
        for step, days in plan(address, seed=self.seed, chances=self.chances):
            when += days
            self._queued += 1
            heapq.heappush(self._due, _Due(when, self._queued, address, step))

    def next_at(self) -> datetime | None:
        return self._due[0].at if self._due else None

    def work(self) -> int:
        """Record every meeting and stage change due by now; returns how many."""
        now = self.app.clock.now()
        done = 0
        while self._due and self._due[0].at <= now:
            due = heapq.heappop(self._due)
            if due.step.stage is None:
                record_meeting(self.app, due.address, at=due.at)
                self.recorded["meeting"] += 1
            else:
                record_stage(self.app, due.address, due.step.stage, value=due.step.value,
                             at=due.at, lifecycle=LIFECYCLE)
                self.recorded[due.step.stage] += 1
            done += 1
        return done


def plan(address: str, *, seed: int, chances: Chances = Chances()
         ) -> list[tuple[_Step, timedelta]]:
    """What follows a positive reply from ``address``: each step with the time it comes
    after the one before (the first after the reply)."""
    rng = random.Random(f"demo-sales:{seed}:{address}")
    if rng.random() >= chances.meeting:
        return []
    steps = [(_Step(None), timedelta(hours=rng.randint(2, 30)))]
    if rng.random() >= chances.qualified:
        return steps
    value = float(rng.randrange(5_000, 60_000, 500))
    steps.append((_Step("SQL", value), timedelta(days=rng.uniform(1, 4))))
    roll = rng.random()
    if roll >= chances.opportunity:
        if roll < chances.opportunity + chances.lost_at_sql:
            steps.append((_Step("lost"), timedelta(days=rng.uniform(2, 8))))
        return steps
    value = round(value * rng.uniform(0.8, 1.5) / 500) * 500.0
    steps.append((_Step("opportunity", value), timedelta(days=rng.uniform(2, 7))))
    roll = rng.random()
    if roll < chances.won:
        steps.append((_Step("customer"), timedelta(days=rng.uniform(3, 10))))
    elif roll < chances.won + chances.lost_at_opportunity:
        steps.append((_Step("lost"), timedelta(days=rng.uniform(3, 10))))
    return steps
