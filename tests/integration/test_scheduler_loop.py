"""The scheduler's loop: when it passes again at once and when it rests."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from sequencer.clock import FakeClock
from sequencer.runtime import scheduler
from sequencer.runtime.scheduler import serve
from sequencer.services.app import App
from sequencer.store.models import Enrollment
from tests.integration.test_runtime import setup

pytestmark = pytest.mark.integration
SAME_ZONE = ("email,first_name,company,timezone,country",
             "ann@acme.example,Ann,Acme,America/New_York,US",
             "bob@acme.example,Bob,Acme,America/New_York,US",
             "cy@acme.example,Cy,Acme,America/New_York,US")


def all_due(app: App, clock: FakeClock) -> None:
    """Move the clock to when every enrollment is due."""
    with app.sessions() as session:
        latest = session.scalar(select(func.max(Enrollment.next_run_at)))
    assert latest is not None
    clock.set(latest)


class StopAfter(threading.Event):
    """A stop event that records each rest and is set after ``rests`` of them."""

    def __init__(self, rests: int, log: list[str] | None = None) -> None:
        super().__init__()
        self.rests: list[float | None] = []
        self.log = log if log is not None else []
        self._left = rests

    def wait(self, timeout: float | None = None) -> bool:
        self.rests.append(timeout)
        self.log.append(f"rest {timeout}")
        self._left -= 1
        if self._left <= 0:
            self.set()
        return self.is_set()


def test_a_full_batch_is_followed_at_once_and_a_partial_one_by_a_rest(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, clock, _outbox = setup(database_url, tmp_path, *SAME_ZONE)
    all_due(app, clock)
    log: list[str] = []

    def logged_tick(*args: Any, **kwargs: Any) -> scheduler.TickReport:
        report = real_tick(*args, **kwargs)
        log.append(f"pass {report.claimed}")
        return report

    real_tick = scheduler.tick
    monkeypatch.setattr(scheduler, "tick", logged_tick)
    serve(app, lambda runs: None, StopAfter(rests=2, log=log), poll=0.5, limit=2)
    # Two due, a full batch: straight on. The last one, a partial batch: everything due
    # was taken, so it rests before it looks again.
    assert log == ["pass 2", "pass 1", "rest 0.5", "pass 0", "rest 0.5"]
    app.close()


def test_an_error_the_caller_deems_passing_rests_and_goes_on(
    database_url: str, tmp_path: Path
) -> None:
    app, clock, _outbox = setup(database_url, tmp_path, *SAME_ZONE)
    all_due(app, clock)
    failures: list[Exception] = []

    def broken_broker(runs: object) -> None:
        raise ConnectionError("redis is down")

    stop = StopAfter(rests=2)
    serve(app, broken_broker, stop, poll=0.1, limit=10,
          on_error=lambda exc: failures.append(exc) or True)
    # The failed pass rests a second at least; the next finds nothing due and rests poll.
    assert len(failures) == 1 and stop.rests == [1.0, 0.1]
    # The claims it could not enqueue are the sweeper's once they look stuck, and an
    # error nobody deems passing is raised.
    clock.advance(timedelta(seconds=app.settings.stuck_claim_seconds + 1))
    with pytest.raises(ConnectionError):
        serve(app, broken_broker, StopAfter(rests=1), poll=0.1, limit=10)
    app.close()
