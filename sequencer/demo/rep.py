"""The simulated rep: works the task queue at the top of each working hour.

The rep sits in New York and goes through every task that has fallen due, on the
hour from 08:00 to 17:00 on weekdays, through the same service the CLI's
``task done`` uses. Outcomes are seeded per task, with the call figures of a
typical outbound team (15% connect, 45% voicemail).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sequencer.definition.model import TASK_OUTCOMES, StepType
from sequencer.services.actions import TaskView, complete_task, list_tasks
from sequencer.services.app import App

REP_ZONE = ZoneInfo("America/New_York")
FIRST_HOUR, LAST_HOUR = 8, 17
CALL_OUTCOMES = (("connected", 0.15), ("voicemail", 0.45), ("no_answer", 0.37),
                 ("wrong_number", 0.03))
SKIP_SHARE = 0.05  # LinkedIn and other tasks the rep skips (no profile found...)


class Rep:
    def __init__(self, app: App, seed: int) -> None:
        self.app = app
        self.seed = seed
        self.done: dict[str, int] = {}  # outcome -> count
        self._earliest: datetime | None = None
        self._stale = True  # the queue may have changed: read it again before waiting

    def queue_changed(self) -> None:
        self._stale = True

    def next_session(self) -> datetime | None:
        """When the rep next has something to do; None while the queue is empty."""
        if self._stale:
            tasks = list_tasks(self.app)
            self._earliest = min((t.due_at for t in tasks if t.kind != "fix_template"),
                                 default=None)
            self._stale = False
        if self._earliest is None:
            return None
        return session_at_or_after(max(self._earliest, self.app.clock.now()))

    def work(self) -> int:
        """Finish every task due now, if this is a working hour; returns how many."""
        now = self.app.clock.now()
        if session_at_or_after(now) != now:
            return 0
        worked = 0
        for task in list_tasks(self.app, due_only=True):
            if task.kind == "fix_template":
                continue  # a person must fix the template first: left for the user to see
            outcome = self.outcome(task)
            complete_task(self.app, task.id, outcome, notes="worked by the demo's rep")
            self.done[outcome] = self.done.get(outcome, 0) + 1
            worked += 1
        self._stale = True
        return worked

    def outcome(self, task: TaskView) -> str:
        rng = random.Random(f"demo-rep:{self.seed}:{task.id}")
        if task.kind == StepType.CALL.value:
            roll, total = rng.random(), 0.0
            for outcome, share in CALL_OUTCOMES:
                total += share
                if roll < total:
                    return outcome
            return CALL_OUTCOMES[-1][0]
        allowed = TASK_OUTCOMES.get(StepType(task.kind), frozenset({"done"}))
        return "skipped" if rng.random() < SKIP_SHARE and "skipped" in allowed else "done"


def session_at_or_after(instant: datetime) -> datetime:
    """The first top of a working hour (rep's time) at or after ``instant``."""
    local = instant.astimezone(REP_ZONE)
    hour = local.replace(minute=0, second=0, microsecond=0)
    if hour < local:
        hour += timedelta(hours=1)
    for _ in range(24 * 8):
        if hour.weekday() < 5 and FIRST_HOUR <= hour.hour <= LAST_HOUR:
            return hour.astimezone(instant.tzinfo)
        hour += timedelta(hours=1)
    raise AssertionError("a working hour comes within a week")
