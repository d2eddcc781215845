"""Events: facts that happen to an enrollment. Each is a frozen value.

Times on events (``at``) are aware UTC; when omitted, the engine uses ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class Due:
    """The enrollment's ``next_run_at`` (or resume time) has come.

    ``recent_touches`` are the prospect's touches in the last seven days across
    every sequence, for the weekly touch limit.
    """

    recent_touches: tuple[datetime, ...] = ()


@dataclass(frozen=True, slots=True)
class EmailSent:
    step: str
    message_id: str
    subject: str
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TaskCompleted:
    step: str
    outcome: str
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StepSkipped:
    """The runtime could not perform the step and moved past it (e.g. no phone number)."""

    step: str
    reason: str


@dataclass(frozen=True, slots=True)
class Deferred:
    """The step could not run now (mailbox cap, spacing, soft bounce): try again later."""

    step: str
    not_before: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Held:
    """The step cannot run until someone acts (a render error): pause without a resume time."""

    step: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReplyReceived:
    step: str | None = None
    from_colleague: bool = False  # someone else at the prospect's account replied
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AutoReplyReceived:
    return_date: date | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Bounced:
    """A bounce of the email ``step`` sent.

    ``resend_after``: the runtime found that email is the latest the enrollment sent,
    so the step is sent again (same Message-ID) no earlier than this. ``blocked``:
    refused because of the sender (policy, reputation), not counted against the
    prospect's soft bounces.
    """

    hard: bool
    step: str | None = None
    resend_after: datetime | None = None
    blocked: bool = False


@dataclass(frozen=True, slots=True)
class Unsubscribed:
    pass


@dataclass(frozen=True, slots=True)
class Opened:
    step: str


@dataclass(frozen=True, slots=True)
class Clicked:
    step: str


@dataclass(frozen=True, slots=True)
class MeetingBooked:
    pass


@dataclass(frozen=True, slots=True)
class StageChanged:
    stage: str


@dataclass(frozen=True, slots=True)
class PauseRequested:
    reason: str = "paused by hand"
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ResumeRequested:
    pass


@dataclass(frozen=True, slots=True)
class ExitRequested:
    reason: str = "exited by hand"


Event = (
    Due | EmailSent | TaskCompleted | StepSkipped | Deferred | Held | ReplyReceived
    | AutoReplyReceived | Bounced | Unsubscribed | Opened | Clicked | MeetingBooked
    | StageChanged | PauseRequested | ResumeRequested | ExitRequested
)
