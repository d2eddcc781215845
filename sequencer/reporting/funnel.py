"""The sales funnel: from calls and replies to meetings, qualified pipeline and customers.

:func:`funnel` reads the store once (:func:`load_facts`) and hands plain rows to the
pure :func:`compute`. The figures and the credit rules are stated in docs/funnel.md:

- dial connect rate: calls connected / calls made (call tasks done, any outcome but
  skipped), each call credited to its enrollment;
- positive reply rate: the reply reports' own figure (``report.report``: prospects
  with a reply marked positive by the rep or the rules / prospects delivered an
  email), so the funnel and ``sequencer report`` never disagree;
- meeting conversion, sales acceptance and close rate follow one prospect's journey
  (first conversation → meeting → qualified stage → opportunity → won), credited as a
  whole to one sequence: the one running when the journey began.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from sequencer.reporting.dimensions import SEGMENT
from sequencer.reporting.lifecycle import Lifecycle, StageChange, load_lifecycle, velocity
from sequencer.reporting.report import report
from sequencer.reporting.rules import Rules
from sequencer.reporting.stats import Rate
from sequencer.services.app import App
from sequencer.store.models import Enrollment, Event, Prospect, Task

By = Literal["sequence", "source"]
NO_SOURCE = "(no source)"
TOTAL = "all"
FUNNEL_KINDS = ("reply", "meeting_booked", "stage_changed")


@dataclass(frozen=True, slots=True)
class Run:
    """An enrollment, as the funnel sees it."""

    prospect_id: int
    sequence: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class Fact:
    """A dated fact about a prospect: a call made, a human reply, a meeting, a stage
    change."""

    kind: str  # call, reply, meeting_booked, stage_changed
    prospect_id: int
    enrollment_id: int | None
    at: datetime
    outcome: str | None = None  # call: its outcome
    stage: str | None = None  # stage change: the stage entered
    value: float | None = None  # stage change: the deal's value, if given
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    runs: dict[int, Run]  # by enrollment id
    sources: dict[int, str]  # by prospect id
    stages: dict[int, str | None]  # by prospect id: the stage now
    facts: list[Fact] = field(default_factory=list)
    # (positive replies, prospects delivered) by group, and under TOTAL: the reports' own
    positive_replies: dict[str, tuple[int, int]] = field(default_factory=dict)


# -- the edge: reading the store ---------------------------------------------------
def funnel(app: App, *, sequence: str | None = None, by: By = "sequence",
           since: datetime | None = None, lifecycle: Lifecycle | None = None,
           rules: Rules | None = None) -> dict[str, Any]:
    """The funnel figures by sequence or by prospect source, as plain data (see
    :func:`compute` for the shape). ``lifecycle`` and ``rules`` default to the ones
    configured for the working directory."""
    lifecycle = lifecycle or load_lifecycle()
    with app.sessions() as session:
        facts = load_facts(session, lifecycle, since=since)
    facts.positive_replies.update(positive_replies(app, lifecycle, by=by, sequence=sequence,
                                                   since=since, rules=rules))
    return compute(facts, lifecycle, by=by, sequence=sequence, since=since)


def html_section(app: App, *, sequence: str | None, since: datetime | None) -> str:
    """The funnel's section of the HTML report (see ``page.extra_sections``); drawn by
    ``funnel_html``."""
    from sequencer.reporting.funnel_html import section  # it imports this module

    return section(app, sequence=sequence, since=since)


def positive_replies(app: App, lifecycle: Lifecycle, *, by: By, sequence: str | None,
                     since: datetime | None, rules: Rules | None
                     ) -> dict[str, tuple[int, int]]:
    """(positive replies, prospects delivered) by group and in total, as the reply
    reports count them."""
    key = "sequence" if by == "sequence" else f"{SEGMENT}{lifecycle.source_field}"
    found = report(app, [key], sequence=sequence, since=since, rules=rules)
    out = {str(s.key[key] or NO_SOURCE): (s.figures.positive, s.figures.prospects_delivered)
           for s in found.rows}
    out[TOTAL] = (found.total.positive, found.total.prospects_delivered)
    return out


def load_facts(session: Session, lifecycle: Lifecycle, *, since: datetime | None = None
               ) -> Facts:
    """Everything the funnel counts, as plain rows (facts before ``since`` left out)."""
    runs = {i: Run(p, s, t) for i, p, s, t in session.execute(select(
        Enrollment.id, Enrollment.prospect_id, Enrollment.sequence_name, Enrollment.started_at))}
    sources: dict[int, str] = {}
    stages: dict[int, str | None] = {}
    enrolled = select(Enrollment.prospect_id)
    for pid, custom, stage in session.execute(select(
            Prospect.id, Prospect.custom, Prospect.stage).where(Prospect.id.in_(enrolled))):
        sources[pid] = str((custom or {}).get(lifecycle.source_field) or NO_SOURCE)
        stages[pid] = stage
    facts = [*_calls(session, since), *_events(session, since)]
    return Facts(runs, sources, stages, facts)


def _calls(session: Session, since: datetime | None) -> Iterable[Fact]:
    query = (select(Enrollment.prospect_id, Task.enrollment_id, Task.outcome, Task.completed_at)
             .join(Enrollment, Enrollment.id == Task.enrollment_id)
             .where(Task.kind == "call", Task.state == "done", Task.outcome != "skipped",
                    Task.completed_at.is_not(None)))
    if since is not None:
        query = query.where(Task.completed_at >= since)
    for pid, eid, outcome, at in session.execute(query):
        if at is not None:  # the query says so; the type of the column cannot
            yield Fact("call", pid, eid, at, outcome=outcome)


def _events(session: Session, since: datetime | None) -> Iterable[Fact]:
    query = (select(Event.kind, Event.prospect_id, Event.enrollment_id, Event.occurred_at,
                    Event.payload)
             .where(Event.kind.in_(FUNNEL_KINDS), Event.prospect_id.is_not(None))
             .order_by(Event.occurred_at, Event.id))
    if since is not None:
        query = query.where(Event.occurred_at >= since)
    for kind, pid, eid, at, payload in session.execute(query):
        payload = payload or {}
        if kind == "stage_changed" and not payload.get("stage"):
            continue  # recorded before stage changes carried their stage: nothing to place
        value = payload.get("value")
        yield Fact(kind, pid, eid, at, stage=payload.get("stage"),
                   value=float(value) if isinstance(value, int | float) else None,
                   currency=payload.get("currency"))


# -- the pure core ---------------------------------------------------------------------
def compute(facts: Facts, lifecycle: Lifecycle, *, by: By = "sequence",
            sequence: str | None = None, since: datetime | None = None) -> dict[str, Any]:
    """The funnel as plain data::

        {"by", "sequence", "since", "lifecycle": {...},
         "groups": [Group, ...], "total": Group,
         "velocity": [{"stage", "median_days", "stays", "current"}, ...]}

    where a Group is ``{"group", "rates": {name: Rate}, "steps": [{"name", "count"}],
    "pipeline": {"count", "valued", "value": {currency: sum}}, "velocity": [...]}``
    (the group's own stage velocity: the stage changes of the prospects whose journey
    it is credited with; the top-level ``velocity`` is the total's) and a Rate is the
    reports' own (``stats.Rate.as_json``): ``{"numerator", "denominator", "rate",
    "ci95": [low, high], "too_small", "note"}``. The rates are ``dial_connect``,
    ``positive_reply``, ``meeting_conversion``, ``sales_acceptance`` and ``close``.
    """
    enrolled = {run.prospect_id for run in facts.runs.values()}
    facts = Facts(facts.runs, facts.sources, facts.stages,
                  [f for f in facts.facts if f.prospect_id in enrolled], facts.positive_replies)
    credit = _crediting(facts)
    owners = _owners(facts, credit)

    def key_of(enrollment_id: int, prospect_id: int) -> str | None:
        run = facts.runs[enrollment_id]
        if sequence is not None and run.sequence != sequence:
            return None
        return run.sequence if by == "sequence" else facts.sources.get(prospect_id, NO_SOURCE)

    tallies: dict[str, _Tally] = {}
    total = _Tally()

    def tally(enrollment_id: int, prospect_id: int) -> list[_Tally]:
        key = key_of(enrollment_id, prospect_id)
        return [] if key is None else [tallies.setdefault(key, _Tally()), total]

    for fact in facts.facts:
        if fact.kind == "call":
            for t in tally(credit(fact), fact.prospect_id):
                t.add_call(fact)
    journeys = _journeys(facts.facts, lifecycle)
    values = _deal_values(facts.facts, lifecycle)
    for prospect_id, owner in owners.items():
        for t in tally(owner, prospect_id):
            t.add_journey(journeys.get(prospect_id, _Journey()))
            t.add_pipeline(facts.stages.get(prospect_id), values.get(prospect_id), lifecycle)
    changes = _stage_changes(facts, lambda pid: key_of(owners[pid], pid))
    every = [change for found in changes.values() for change in found]

    def stays(found: list[StageChange]) -> list[dict[str, Any]]:
        return [{"stage": v.stage, "median_days": v.median_days, "stays": v.stays,
                 "current": v.current} for v in velocity(found, lifecycle, since)]

    def group(name: str, t: _Tally, found: list[StageChange]) -> dict[str, Any]:
        data = t.as_data(name, facts.positive_replies.get(name, (0, 0)))
        data["velocity"] = stays(found)
        return data

    return {
        "by": by, "sequence": sequence, "since": since.isoformat() if since else None,
        "lifecycle": lifecycle.as_data(),
        "groups": [group(k, tallies.get(k, _Tally()), changes.get(k, []))
                   for k in sorted({*tallies, *facts.positive_replies} - {TOTAL})],
        "total": group(TOTAL, total, every),
        "velocity": stays(every),
    }


def _stage_changes(facts: Facts, group_of: Callable[[int], str | None]
                   ) -> dict[str, list[StageChange]]:
    """The stage changes of each group's prospects (those of no group left out)."""
    changes: dict[str, list[StageChange]] = {}
    for fact in facts.facts:
        if fact.kind == "stage_changed" and fact.stage:
            key = group_of(fact.prospect_id)
            if key is not None:
                changes.setdefault(key, []).append(
                    StageChange(fact.prospect_id, fact.stage, fact.at))
    return changes


def _crediting(facts: Facts) -> Callable[[Fact], int]:
    """Which enrollment a fact belongs to: the one it is tied to, else the prospect's
    latest enrollment started by then, else their first one."""
    by_prospect: dict[int, list[tuple[datetime, int]]] = {}
    for eid, run in sorted(facts.runs.items(), key=lambda item: (item[1].started_at, item[0])):
        by_prospect.setdefault(run.prospect_id, []).append((run.started_at, eid))

    def credit(fact: Fact) -> int:
        if fact.enrollment_id in facts.runs:
            return fact.enrollment_id
        runs = by_prospect[fact.prospect_id]
        started = [eid for at, eid in runs if at <= fact.at]
        return started[-1] if started else runs[0][1]

    return credit


def _owners(facts: Facts, credit: Callable[[Fact], int]) -> dict[int, int]:
    """The enrollment each prospect's journey is credited to: the one running at their
    first conversation, else at their first meeting or stage change, else their latest."""
    owners: dict[int, int] = {}
    for run_id, run in sorted(facts.runs.items(), key=lambda i: (i[1].started_at, i[0])):
        owners[run.prospect_id] = run_id
    firsts: dict[int, tuple[int, datetime]] = {}
    for fact in facts.facts:
        rank = 0 if _is_conversation(fact) else 1 if fact.kind in FUNNEL_KINDS[1:] else None
        if rank is None or fact.prospect_id not in owners:
            continue
        best = firsts.get(fact.prospect_id)
        if best is None or (rank, fact.at) < best:
            firsts[fact.prospect_id] = (rank, fact.at)
            owners[fact.prospect_id] = credit(fact)
    return owners


def _is_conversation(fact: Fact) -> bool:
    return (fact.kind == "call" and fact.outcome == "connected") or fact.kind == "reply"


@dataclass(slots=True)
class _Journey:
    """One prospect's way down the funnel."""

    conversation: datetime | None = None  # first connected call or human reply
    meeting: datetime | None = None  # first meeting booked
    meeting_after_conversation: bool = False
    qualified_after_meeting: bool = False
    opportunity: bool = False
    qualified: bool = False
    won: bool = False


def _journeys(facts: list[Fact], lifecycle: Lifecycle) -> dict[int, _Journey]:
    journeys: dict[int, _Journey] = {}
    for fact in sorted(facts, key=lambda f: f.at):
        j = journeys.setdefault(fact.prospect_id, _Journey())
        if _is_conversation(fact) and j.conversation is None:
            j.conversation = fact.at
        elif fact.kind == "meeting_booked":
            j.meeting = j.meeting or fact.at
            j.meeting_after_conversation |= j.conversation is not None
        elif fact.kind == "stage_changed":
            qualified = lifecycle.reached(fact.stage, lifecycle.qualified)
            j.qualified |= qualified
            j.qualified_after_meeting |= qualified and j.meeting is not None
            j.opportunity |= lifecycle.reached(fact.stage, lifecycle.opportunity)
            j.won |= lifecycle.reached(fact.stage, lifecycle.won)
    return journeys


def _deal_values(facts: list[Fact], lifecycle: Lifecycle) -> dict[int, tuple[float, str]]:
    """The latest value given for each prospect's deal, with its currency."""
    values: dict[int, tuple[float, str]] = {}
    for fact in sorted(facts, key=lambda f: f.at):
        if fact.kind == "stage_changed" and fact.value is not None:
            values[fact.prospect_id] = (fact.value, fact.currency or lifecycle.currency)
    return values


@dataclass(slots=True)
class _Tally:
    calls: int = 0
    connected: int = 0
    prospects: int = 0
    conversations: int = 0
    converted: int = 0
    meetings: int = 0
    accepted: int = 0
    qualified: int = 0
    opportunities: int = 0
    won: int = 0
    pipeline: int = 0
    valued: int = 0
    value: dict[str, float] = field(default_factory=dict)

    def add_call(self, fact: Fact) -> None:
        self.calls += 1
        self.connected += fact.outcome == "connected"

    def add_journey(self, j: _Journey) -> None:
        self.prospects += 1
        self.conversations += j.conversation is not None
        self.converted += j.meeting_after_conversation
        self.meetings += j.meeting is not None
        self.accepted += j.qualified_after_meeting
        self.qualified += j.qualified
        self.opportunities += j.opportunity
        self.won += j.opportunity and j.won

    def add_pipeline(self, stage: str | None, value: tuple[float, str] | None,
                     lifecycle: Lifecycle) -> None:
        if not lifecycle.in_pipeline(stage):
            return
        self.pipeline += 1
        if value is not None:
            self.valued += 1
            self.value[value[1]] = round(self.value.get(value[1], 0.0) + value[0], 2)

    def as_data(self, name: str, positive_replies: tuple[int, int]) -> dict[str, Any]:
        return {
            "group": name,
            "rates": {
                "dial_connect": rate(self.connected, self.calls),
                "positive_reply": rate(*positive_replies),
                "meeting_conversion": rate(self.converted, self.conversations),
                "sales_acceptance": rate(self.accepted, self.meetings),
                "close": rate(self.won, self.opportunities),
            },
            "steps": [{"name": n, "count": c} for n, c in (
                ("prospects", self.prospects), ("conversations", self.conversations),
                ("meetings", self.meetings), ("qualified", self.qualified),
                ("opportunities", self.opportunities), ("won", self.won))],
            "pipeline": {"count": self.pipeline, "valued": self.valued,
                         "value": dict(sorted(self.value.items()))},
        }


def rate(numerator: int, denominator: int) -> dict[str, object]:
    """A rate with its counts and its 95% Wilson interval, shaped as the reports' rates."""
    return Rate(numerator, denominator).as_json()
