"""Actions: what the engine asks the runtime to do. Each is a frozen value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sequencer.definition.model import StepType
from sequencer.engine.state import EnrollmentState


@dataclass(frozen=True, slots=True)
class ScheduleAt:
    """Run ``step`` at ``at`` (the store's ``next_run_at``); ``reason`` says why then."""

    step: str
    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SendEmail:
    step: str
    round: int
    variant: str
    template: str
    subject: str | None  # a template for a new thread, or the rendered "Re: ..." of a follow-up
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CreateTask:
    step: str
    round: int
    kind: StepType
    due_at: datetime
    instructions: str | None = None
    template: str | None = None  # a draft for the rep (manual email, LinkedIn message)
    variant: str | None = None
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class SkipStep:
    step: str
    round: int
    reason: str


@dataclass(frozen=True, slots=True)
class Pause:
    reason: str
    until: datetime | None


@dataclass(frozen=True, slots=True)
class Resume:
    pass


@dataclass(frozen=True, slots=True)
class Exit:
    reason: str


@dataclass(frozen=True, slots=True)
class Finish:
    pass


Action = ScheduleAt | SendEmail | CreateTask | SkipStep | Pause | Resume | Exit | Finish


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's answer: the new state and what to do about it."""

    state: EnrollmentState
    actions: tuple[Action, ...] = ()
