"""Enrollment state: a frozen value the engine replaces, never mutates.

``TRANSITIONS`` is the status machine; ``with_status`` is the one place a status
is assigned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sequencer.engine.evolve import evolver
from sequencer.errors import TransitionError


class Status(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    FINISHED = "finished"
    EXITED = "exited"


TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.ACTIVE: frozenset({Status.PAUSED, Status.FINISHED, Status.EXITED}),
    Status.PAUSED: frozenset({Status.ACTIVE, Status.FINISHED, Status.EXITED}),
    Status.FINISHED: frozenset(),
    Status.EXITED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Thread:
    """An email conversation: its (rendered) subject and every Message-ID in it."""

    subject: str
    message_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Facts:
    """What is known about the prospect's engagement, for branches and exits."""

    opened: frozenset[str] = frozenset()
    clicked: frozenset[str] = frozenset()
    replied_steps: frozenset[str] = frozenset()
    replied: bool = False
    sent: frozenset[str] = frozenset()
    stage: str | None = None
    meeting_booked: bool = False
    outcomes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EnrollmentState:
    """One prospect in one sequence version.

    ``step`` is the step to run next (None once finished); ``due_at`` is when it
    becomes due (``next_run_at`` in the store); ``waiting_on`` names a step whose
    email or task has been handed out and whose outcome is awaited.
    """

    status: Status
    step: str | None
    due_at: datetime | None
    timezone: str
    country: str | None
    seed: int
    started_at: datetime
    last_touch_at: datetime | None = None
    waiting_on: str | None = None
    rounds: Mapping[str, int] = field(default_factory=dict)
    variants: Mapping[str, str] = field(default_factory=dict)
    threads: Mapping[str, Thread] = field(default_factory=dict)
    facts: Facts = field(default_factory=Facts)
    pause_reason: str | None = None
    resume_at: datetime | None = None
    exit_reason: str | None = None
    soft_bounces: int = 0

    @property
    def is_open(self) -> bool:
        """Active or paused: the enrollment can still touch the prospect."""
        return self.status in (Status.ACTIVE, Status.PAUSED)

    def round_of(self, step_id: str) -> int:
        """How many times ``step_id`` has been entered (loops make this above 1)."""
        return self.rounds.get(step_id, 0)


def with_status(state: EnrollmentState, status: Status, **changes: object) -> EnrollmentState:
    """The only place a status changes; refuses what ``TRANSITIONS`` does not allow.

    Raises:
        TransitionError: the change is not in the table.
    """
    if status is not state.status and status not in TRANSITIONS[state.status]:
        raise TransitionError(f"an enrollment cannot go from {state.status.value} to "
                              f"{status.value}")
    return evolve(state, status=status, **changes)


evolve = evolver(EnrollmentState)
evolve_facts = evolver(Facts)
