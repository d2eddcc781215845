"""What a simulation shows: touches per day and step, exits, slips, local hours, capacity."""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from sequencer.definition.checks import successors
from sequencer.definition.model import Definition
from sequencer.engine.state import Status
from sequencer.simulate.runner import SimulationResult

BUSINESS_HOURS = (8, 18)


@dataclass(frozen=True, slots=True)
class StepFigures:
    step: str
    type: str
    touches: int
    nominal_day: float
    median_day: float | None
    p90_slip_days: float | None
    max_slip_days: float | None


@dataclass(frozen=True, slots=True)
class MailboxFigures:
    address: str
    daily_cap: int | None
    emails: int
    days_used: int
    days_capped: int
    deferrals: int


@dataclass
class Summary:
    prospects: int
    touches: int
    emails: int
    tasks: int
    first_touch: datetime | None
    last_touch: datetime | None
    outside_business_hours: float
    per_day: dict[date, int]
    steps: list[StepFigures]
    exits: dict[str, int]
    still_open: dict[str, int]
    mailboxes: list[MailboxFigures]
    capped_days: dict[date, int] = field(default_factory=dict)
    replies: int = 0
    auto_replies: int = 0

    def mailbox_days_needed(self) -> int | None:
        """Mailbox-days at full cap that these emails need (None when caps are unlimited)."""
        caps = [m.daily_cap for m in self.mailboxes if m.daily_cap]
        if not caps or len(caps) != len(self.mailboxes):
            return None
        return math.ceil(self.emails / (sum(caps) / len(caps)))

    def as_json(self) -> dict[str, Any]:
        return {
            "prospects": self.prospects,
            "touches": self.touches,
            "emails": self.emails,
            "tasks": self.tasks,
            "first_touch": self.first_touch.isoformat() if self.first_touch else None,
            "last_touch": self.last_touch.isoformat() if self.last_touch else None,
            "share_outside_08_18_local": round(self.outside_business_hours, 6),
            "touches_per_day": {d.isoformat(): n for d, n in sorted(self.per_day.items())},
            "steps": [vars_of(s) for s in self.steps],
            "exits": self.exits,
            "still_open": self.still_open,
            "replies": self.replies,
            "auto_replies": self.auto_replies,
            "mailboxes": [vars_of(m) for m in self.mailboxes],
            "mailbox_days_needed": self.mailbox_days_needed(),
            "days_caps_pushed_back": {d.isoformat(): n
                                      for d, n in sorted(self.capped_days.items())},
        }


def vars_of(obj: object) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}  # type: ignore[attr-defined]


def nominal_step_days(definition: Definition) -> dict[str, float]:
    """Each step's earliest nominal day from enrollment, over the shortest path to it."""
    best = {0: definition.steps[0].wait.nominal_days()} if definition.steps else {}
    queue = [(best.get(0, 0.0), 0)]
    while queue:
        day, index = heapq.heappop(queue)
        if day > best.get(index, math.inf):
            continue
        for nxt in successors(definition, index):
            candidate = day + definition.steps[nxt].wait.nominal_days()
            if candidate < best.get(nxt, math.inf):
                best[nxt] = candidate
                heapq.heappush(queue, (candidate, nxt))
    return {definition.steps[i].id: d for i, d in best.items()}


def summarize(result: SimulationResult) -> Summary:
    definition = result.definition
    start = result.start.timestamp()
    zones = {z: ZoneInfo(z) for z in {p.timezone for p in result.prospects}}
    per_day: Counter[date] = Counter()
    days_by_step: dict[str, list[float]] = defaultdict(list)
    outside = emails = 0
    for touch in result.touches:
        per_day[datetime.fromtimestamp(touch.at, UTC).date()] += 1
        days_by_step[touch.step].append((touch.at - start) / 86400)
        zone = zones[result.prospects[touch.prospect].timezone]
        hour = datetime.fromtimestamp(touch.at, zone).hour
        outside += not BUSINESS_HOURS[0] <= hour < BUSINESS_HOURS[1]
        emails += touch.mailbox is not None
    times = [t.at for t in result.touches]
    statuses = Counter(s.status for s in result.states)
    return Summary(
        prospects=len(result.prospects),
        touches=len(result.touches),
        emails=emails,
        tasks=len(result.touches) - emails,
        first_touch=datetime.fromtimestamp(min(times), UTC) if times else None,
        last_touch=datetime.fromtimestamp(max(times), UTC) if times else None,
        outside_business_hours=outside / len(result.touches) if result.touches else 0.0,
        per_day=dict(per_day),
        steps=_step_figures(definition, days_by_step),
        exits=dict(result.exits),
        still_open={s.value: statuses[s] for s in (Status.ACTIVE, Status.PAUSED) if statuses[s]},
        mailboxes=_mailbox_figures(result),
        capped_days=_capped_days(result),
        replies=result.replies,
        auto_replies=result.auto_replies,
    )


def _step_figures(definition: Definition, days_by_step: dict[str, list[float]]
                  ) -> list[StepFigures]:
    nominal = nominal_step_days(definition)
    out = []
    for step in definition.steps:
        if not step.type.is_touch:
            continue
        days = sorted(days_by_step.get(step.id, []))
        base = nominal.get(step.id, 0.0)
        slips = [max(0.0, d - base) for d in days]
        out.append(StepFigures(
            step.id, step.type.value, len(days), round(base, 2),
            round(median(days), 2) if days else None,
            round(slips[int(0.9 * (len(slips) - 1))], 2) if slips else None,
            round(slips[-1], 2) if slips else None,
        ))
    return out


def _mailbox_figures(result: SimulationResult) -> list[MailboxFigures]:
    out = []
    for index, mailbox in enumerate(result.mailboxes):
        sends = {day: n for (m, day), n in result.sends.items() if m == index}
        deferred = {day: n for (m, day), n in result.deferrals.items() if m == index}
        out.append(MailboxFigures(mailbox.address, mailbox.daily_cap, sum(sends.values()),
                                  len(sends), len(deferred), sum(deferred.values())))
    return out


def _capped_days(result: SimulationResult) -> dict[date, int]:
    days: Counter[date] = Counter()
    for (_, day), n in result.deferrals.items():
        days[day] += n
    return dict(days)
