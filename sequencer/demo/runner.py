"""The demo's virtual-clock loop: the embedded runtime, the mailroom, the rep and the
account executive.

At each moment the loop first lets the scheduler and executor settle (every due
step claimed and run, in batches, as ``sequencer run`` does), then delivers the
answers due by now, lets the rep work and the account executive record the
meetings and stage changes that positive replies led to, and only when none of
them has anything left to do moves the clock to the next moment something is
due: a step, an answer, a rep's session, a meeting or stage change, or the end of
a week, rounded up to the scheduler's next look (every ``LOOK_EVERY`` of virtual
time, as ``sequencer run`` looks every few seconds): the steps due within one look
run as one batch. Nothing runs early, so sends stay inside their windows; one due
in a window's last minutes and claimed after it closes waits for the next window,
as it would behind a busy scheduler.

The scheduler's recovery sweep (stuck claims, sends that never reported back)
looks for what a dead worker leaves; nothing dies here, so it runs once a virtual
day rather than on every pass, which keeps a pass cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sequencer.demo.mailroom import Mailroom
from sequencer.demo.rep import Rep
from sequencer.demo.sales import Sales
from sequencer.demo.world import DemoWorld
from sequencer.render import Renderer
from sequencer.runtime.embedded import next_wake
from sequencer.runtime.executor import execute_batch
from sequencer.runtime.scheduler import tick
from sequencer.services.app import App

WEEK = timedelta(days=7)
SWEEP_EVERY = timedelta(days=1)
LOOK_EVERY = timedelta(minutes=5)  # the scheduler and the inbound poller look this often
MAX_IDLE_LOOPS = 5  # at one instant with nothing left to do: the clock must move


@dataclass(frozen=True, slots=True)
class WeekProgress:
    number: int
    start: datetime
    end: datetime
    sent: int
    replies: int
    auto_replies: int
    bounces: int
    unsubscribes: int
    tasks_done: int


@dataclass
class DemoRun:
    world: DemoWorld
    mailroom: Mailroom
    rep: Rep
    sales: Sales
    weeks: list[WeekProgress] = field(default_factory=list)
    steps_run: int = 0


def run_demo(world: DemoWorld, *, on_week: Callable[[WeekProgress], None] | None = None,
             on_clock: Callable[[datetime], None] | None = None) -> DemoRun:
    """Run the world's enrollments for ``options.days`` virtual days; ``on_week`` hears
    each week's figures, ``on_clock`` each move of the virtual clock."""
    app, clock = world.app, world.clock
    until = world.options.start + timedelta(days=world.options.days)
    run = DemoRun(world, Mailroom(world), Rep(app, world.options.seed),
                  Sales(app, world.options.seed, world.options.chances))
    renderer = Renderer(app.templates)
    week_start, next_sweep, idle = clock.now(), clock.now(), 0
    totals = _totals(run)
    while True:
        sweeping = clock.now() >= next_sweep
        if sweeping:
            next_sweep = clock.now() + SWEEP_EVERY
        settled = _settle(app, renderer, sweeping=sweeping)
        run.steps_run += settled
        if settled:
            run.rep.queue_changed()
        run.mailroom.harvest()
        delivered = run.mailroom.deliver()
        while run.mailroom.interested:
            run.sales.heard(*run.mailroom.interested.pop(0))
        if delivered or run.rep.work() or _sell(run):
            idle = 0
            continue
        week_end = min(week_start + WEEK, until)
        moments = [m for m in (next_wake(app), run.mailroom.next_at(), run.rep.next_session(),
                               run.sales.next_at(), next_sweep, week_end) if m is not None]
        target = max(_on_grid(min(moments), world.options.start), clock.now())
        idle = idle + 1 if target == clock.now() and not settled else 0
        if idle > MAX_IDLE_LOOPS:
            raise RuntimeError(f"the demo stopped moving at {clock.now().isoformat()}")
        clock.set(target)
        if on_clock is not None:
            on_clock(target)
        if clock.now() >= week_end:
            totals = _close_week(run, week_start, week_end, totals, on_week)
            week_start = week_end
            if week_end >= until:
                return run


def _sell(run: DemoRun) -> int:
    """The account executive records the meetings and stages due; a meeting may end
    enrollments and so change the rep's queue."""
    done = run.sales.work()
    if done:
        run.rep.queue_changed()
    return done


def _on_grid(moment: datetime, origin: datetime) -> datetime:
    """``moment`` rounded up to the scheduler's next look."""
    steps = -(-(moment - origin) // LOOK_EVERY)
    return origin + steps * LOOK_EVERY


def _settle(app: App, renderer: Renderer, *, sweeping: bool) -> int:
    """Scheduler passes with inline execution until nothing is due now; returns the
    steps claimed or woken."""
    total = 0
    while True:
        claimed: list[int] = []
        report = tick(app, claimed.extend, sweeping=sweeping)
        sweeping = False
        if claimed:
            execute_batch(app, claimed, renderer)
        moved = len(claimed) + report.woken
        if not moved:
            return total
        total += moved


def _totals(run: DemoRun) -> tuple[int, ...]:
    taken = run.mailroom.taken_in
    return (run.mailroom.sent, taken["reply"], taken["auto_reply"],
            taken["hard_bounce"] + taken["soft_bounce"] + taken["blocked"],
            taken["unsubscribe"], sum(run.rep.done.values()))


def _close_week(run: DemoRun, start: datetime, end: datetime, before: tuple[int, ...],
                on_week: Callable[[WeekProgress], None] | None) -> tuple[int, ...]:
    now = _totals(run)
    week = WeekProgress(len(run.weeks) + 1, start, end,
                        *(after - earlier for after, earlier in zip(now, before, strict=True)))
    run.weeks.append(week)
    if on_week is not None:
        on_week(week)
    return now
