"""The simulation loop: a heap of due moments, the real engine deciding at each one.

Time is virtual: the loop jumps from one due instant to the next. Reps complete
tasks when they fall due; the behaviour model turns some emails into replies,
bounces and out-of-office answers, which reach the engine as the same events
the inbound path will produce.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sequencer.definition.model import Definition, StepType
from sequencer.engine import events as ev
from sequencer.engine.actions import (
    CreateTask,
    Decision,
    Exit,
    Finish,
    Pause,
    ScheduleAt,
    SendEmail,
)
from sequencer.engine.advance import advance, start
from sequencer.engine.state import EnrollmentState
from sequencer.simulate.model import Behaviour, Mailbox, SimProspect
from sequencer.timing.calendar import NO_HOLIDAYS, HolidayCalendar
from sequencer.timing.sendtime import mix

NO_RECENT_TOUCHES = ev.Due()
DAY = 86400
WEEK = 7 * DAY


@dataclass(frozen=True, slots=True)
class Touch:
    prospect: int  # index into the prospects
    step: str
    type: StepType
    variant: str | None
    mailbox: int | None
    at: int  # POSIX seconds, UTC


@dataclass
class SimulationResult:
    definition: Definition
    prospects: Sequence[SimProspect]
    mailboxes: Sequence[Mailbox]
    start: datetime
    end: datetime
    touches: list[Touch] = field(default_factory=list)
    states: list[EnrollmentState] = field(default_factory=list)
    exits: Counter[str] = field(default_factory=Counter)
    deferrals: Counter[tuple[int, date]] = field(default_factory=Counter)  # (mailbox, day)
    sends: Counter[tuple[int, date]] = field(default_factory=Counter)
    ended: dict[int, tuple[str, int]] = field(default_factory=dict)  # prospect -> (why, when)
    replies: int = 0
    auto_replies: int = 0


ProgressFn = Callable[[float], None]


def simulate(
    definition: Definition,
    prospects: Sequence[SimProspect],
    *,
    start_at: datetime,
    days: int,
    seed: int = 0,
    mailboxes: Sequence[Mailbox] = (Mailbox("sdr@example.com"),),
    behaviour: Behaviour = Behaviour(),
    calendar: HolidayCalendar = NO_HOLIDAYS,
    progress: ProgressFn | None = None,
) -> SimulationResult:
    """Enroll every prospect at ``start_at`` and run ``days`` of virtual time."""
    sim = _Simulation(definition, prospects, mailboxes, behaviour, calendar, seed)
    return sim.run(start_at, days, progress)


class _Simulation:
    def __init__(self, definition: Definition, prospects: Sequence[SimProspect],
                 mailboxes: Sequence[Mailbox], behaviour: Behaviour,
                 calendar: HolidayCalendar, seed: int) -> None:
        self.definition = definition
        self.prospects = prospects
        self.mailboxes = mailboxes
        self.behaviour = behaviour
        self.calendar = calendar
        self.seed = seed
        self.rng = random.Random(seed)
        self.heap: list[tuple[int, int, int, ev.Event | None]] = []
        self.counter = 0
        self.recent: list[list[int]] = [[] for _ in prospects]
        self.step_types = {s.id: s.type for s in definition.steps}

    def push(self, at: int, prospect: int, event: ev.Event | None = None) -> None:
        self.counter += 1
        heapq.heappush(self.heap, (at, self.counter, prospect, event))

    def run(self, start_at: datetime, days: int, progress: ProgressFn | None) -> SimulationResult:
        end = start_at + timedelta(days=days)
        result = SimulationResult(self.definition, self.prospects, self.mailboxes, start_at, end)
        self.result = result
        for i, prospect in enumerate(self.prospects):
            decision = start(self.definition, timezone=prospect.timezone,
                             country=prospect.country, seed=mix(self.seed, i),
                             now=start_at, calendar=self.calendar)
            result.states.append(decision.state)
            self.apply(i, decision, int(start_at.timestamp()))
        self.loop(int(start_at.timestamp()), int(end.timestamp()), progress)
        return result

    def loop(self, begin: int, end: int, progress: ProgressFn | None) -> None:
        heap, states = self.heap, self.result.states
        span = max(end - begin, 1)
        tick = 0
        while heap and heap[0][0] < end:
            at, _, i, event = heapq.heappop(heap)
            state = states[i]
            if event is None:
                due = state.resume_at if state.resume_at is not None else state.due_at
                if due is None or int(due.timestamp()) != at:
                    continue  # rescheduled or ended since this wake-up was queued
                recent = self.recent_touches(i, at)
                event = ev.Due(recent) if recent else NO_RECENT_TOUCHES
            now = datetime.fromtimestamp(at, UTC)
            decision = advance(self.definition, state, event, now=now, calendar=self.calendar)
            states[i] = decision.state
            self.apply(i, decision, at)
            tick += 1
            if progress is not None and tick % 4096 == 0:
                progress((at - begin) / span)
        if progress is not None:
            progress(1.0)

    def recent_touches(self, i: int, at: int) -> tuple[datetime, ...]:
        """The prospect's touches of the last week, when they are enough to matter."""
        limit = self.definition.limits.max_touches_per_week
        if limit is None or len(self.recent[i]) < limit:
            return ()
        kept = [t for t in self.recent[i] if t > at - WEEK]
        self.recent[i] = kept
        if len(kept) < limit:
            return ()
        return tuple(datetime.fromtimestamp(t, UTC) for t in kept)

    def apply(self, i: int, decision: Decision, at: int) -> None:
        for action in decision.actions:
            match action:
                case ScheduleAt():
                    self.push(int(action.at.timestamp()), i)
                case SendEmail():
                    self.send(i, action, at)
                case CreateTask():
                    self.work_task(i, action, at)
                case Pause(until=until) if until is not None:
                    self.push(int(until.timestamp()), i)
                case Exit(reason=reason):
                    self.result.exits[reason] += 1
                    self.result.ended[i] = (reason, at)
                case Finish():
                    self.result.exits["finished"] += 1
                    self.result.ended[i] = ("finished", at)
                case _:
                    pass

    def follow(self, i: int, event: ev.Event, at: int) -> None:
        now = datetime.fromtimestamp(at, UTC)
        decision = advance(self.definition, self.result.states[i], event, now=now,
                           calendar=self.calendar)
        self.result.states[i] = decision.state
        self.apply(i, decision, at)

    def send(self, i: int, action: SendEmail, at: int) -> None:
        mailbox = i % len(self.mailboxes)
        day = datetime.fromtimestamp(at, UTC).date()
        cap = self.mailboxes[mailbox].daily_cap
        if cap is not None and self.result.sends[(mailbox, day)] >= cap:
            self.result.deferrals[(mailbox, day)] += 1
            next_day = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
            self.follow(i, ev.Deferred(action.step, next_day, "mailbox daily cap reached"), at)
            return
        self.result.sends[(mailbox, day)] += 1
        self.record(i, action.step, action.variant, mailbox, at)
        subject = action.subject or action.step
        self.follow(i, ev.EmailSent(action.step, f"<{i}.{action.step}.{at}@sim>", subject), at)
        self.answer(i, action.step, at, first=len(self.result.states[i].facts.sent) == 1)

    def answer(self, i: int, step: str, at: int, *, first: bool) -> None:
        b, rng = self.behaviour, self.rng
        if b.is_silent:
            return
        if first and rng.random() < b.bounce:
            self.push(at + 300, i, ev.Bounced(hard=True, step=step))
            return
        roll = rng.random()
        if roll < b.reply:
            self.push(at + rng.randint(600, 2 * DAY), i, ev.ReplyReceived(step))
            self.result.replies += 1
        elif roll < b.reply + b.auto_reply:
            back = datetime.fromtimestamp(at, UTC).date() + timedelta(days=rng.randint(2, 14))
            self.push(at + 60, i, ev.AutoReplyReceived(back if rng.random() < 0.8 else None))
            self.result.auto_replies += 1
        elif roll < b.reply + b.auto_reply + b.unsubscribe:
            self.push(at + rng.randint(600, DAY), i, ev.Unsubscribed())

    def work_task(self, i: int, action: CreateTask, at: int) -> None:
        self.record(i, action.step, action.variant, None, at)
        self.follow(i, ev.TaskCompleted(action.step, self.outcome(action.kind)), at)

    def outcome(self, kind: StepType) -> str:
        if kind is not StepType.CALL:
            return "done"
        b, roll = self.behaviour, self.rng.random()
        if roll < b.call_connect:
            return "connected"
        if roll < b.call_connect + b.call_voicemail:
            return "voicemail"
        if roll < b.call_connect + b.call_voicemail + b.call_wrong_number:
            return "wrong_number"
        return "no_answer"

    def record(self, i: int, step: str, variant: str | None, mailbox: int | None,
               at: int) -> None:
        self.result.touches.append(Touch(i, step, self.step_types[step], variant, mailbox, at))
        if self.definition.limits.max_touches_per_week is not None:
            self.recent[i].append(at)
