"""The embedded default: scheduler and executor in one process, no broker, no servers.

``run_once`` is one scheduler pass with the claimed steps executed inline.
``drain`` drives a ``FakeClock`` from one due moment to the next, which is how
tests and the demo run weeks of a sequence in seconds through the real store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select

from sequencer.clock import FakeClock
from sequencer.render import Renderer
from sequencer.runtime.executor import execute_batch
from sequencer.runtime.scheduler import CLAIM_BATCH, TickReport, tick, took_all_due
from sequencer.services.app import App
from sequencer.store.models import Enrollment


def run_once(app: App, renderer: Renderer | None = None) -> TickReport:
    renderer = renderer or Renderer(app.templates)
    claimed: list[int] = []
    report = tick(app, claimed.extend)
    if claimed:
        execute_batch(app, claimed, renderer)
    return report


def next_wake(app: App) -> datetime | None:
    with app.sessions() as session:
        found: datetime | None = session.scalar(select(func.min(Enrollment.next_run_at)))
        return found


def drain(app: App, clock: FakeClock, *, until: datetime,
          on_idle: Callable[[], int] | None = None, max_passes: int = 1_000_000) -> int:
    """Run everything due up to ``until`` on the fake clock; returns the passes made.

    ``on_idle`` is called whenever nothing is due now (a simulated rep working the
    tasks that fell due, say); when it did something, time does not move yet.
    """
    renderer = Renderer(app.templates)
    for passes in range(max_passes):
        report = run_once(app, renderer)
        if report.claimed or report.woken or (on_idle is not None and on_idle()):
            continue
        wake = next_wake(app)
        if wake is None or wake > until:
            clock.set(max(clock.now(), until))
            return passes
        clock.set(max(clock.now(), wake))
    raise RuntimeError("drain did not settle: a step keeps coming back")


def serve(app: App, stop: threading.Event, *, poll_seconds: float = 5.0,
          when_idle: Callable[[], object] | None = None) -> None:
    """Run until ``stop`` is set: pass after pass, resting when a pass took all that was
    due (``sequencer.runtime.scheduler.took_all_due``).

    ``when_idle`` runs before each rest, in this same thread (SQLite has one writer):
    the embedded mode's side work, such as delivering outbound webhooks."""
    renderer = Renderer(app.templates)
    while not stop.is_set():
        report = run_once(app, renderer)
        if took_all_due(report, CLAIM_BATCH):
            if when_idle is not None:
                when_idle()
            stop.wait(poll_seconds)
