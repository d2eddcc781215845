"""The sequence definition as frozen value objects.

A definition is data: it is built from plain mappings by ``parse`` and never
changes afterwards. It imports only the standard library (see the import-linter
contract in pyproject.toml).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from sequencer.definition.conditions import Condition


class StepType(StrEnum):
    EMAIL = "email"
    MANUAL_EMAIL = "manual_email"
    CALL = "call"
    LINKEDIN_CONNECT = "linkedin_connect"
    LINKEDIN_MESSAGE = "linkedin_message"
    LINKEDIN_VIEW = "linkedin_view"
    TASK = "task"
    BRANCH = "branch"

    @property
    def is_touch(self) -> bool:
        """A touch reaches the prospect (or is a rep's action toward them); a branch is not."""
        return self is not StepType.BRANCH

    @property
    def is_task(self) -> bool:
        """Manual steps become tasks in a rep's queue."""
        return self not in (StepType.EMAIL, StepType.BRANCH)


TASK_OUTCOMES: dict[StepType, frozenset[str]] = {
    StepType.CALL: frozenset({"connected", "voicemail", "no_answer", "wrong_number"}),
    StepType.MANUAL_EMAIL: frozenset({"done", "skipped"}),
    StepType.LINKEDIN_CONNECT: frozenset({"done", "skipped"}),
    StepType.LINKEDIN_MESSAGE: frozenset({"done", "skipped"}),
    StepType.LINKEDIN_VIEW: frozenset({"done", "skipped"}),
    StepType.TASK: frozenset({"done", "skipped"}),
}


class WaitUnit(StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    BUSINESS_DAYS = "business_days"
    WEEKS = "weeks"


@dataclass(frozen=True, slots=True)
class Wait:
    """How long after the previous step a step becomes due.

    Minutes and hours are absolute. Days, weeks and business days move to the
    start of a later local day in the prospect's calendar, so that a step lands
    in that day's first open window rather than at the hour of the previous send.
    """

    amount: int = 0
    unit: WaitUnit = WaitUnit.DAYS

    @property
    def is_absolute(self) -> bool:
        return self.unit in (WaitUnit.MINUTES, WaitUnit.HOURS)

    def as_timedelta(self) -> timedelta:
        """The absolute length of a minutes/hours wait."""
        if self.unit is WaitUnit.MINUTES:
            return timedelta(minutes=self.amount)
        if self.unit is WaitUnit.HOURS:
            return timedelta(hours=self.amount)
        raise ValueError(f"a {self.unit.value} wait is not absolute")

    def nominal_days(self) -> float:
        """Rough length in calendar days, for lints and summaries only."""
        per_day = {
            WaitUnit.MINUTES: 1 / 1440,
            WaitUnit.HOURS: 1 / 24,
            WaitUnit.DAYS: 1.0,
            WaitUnit.BUSINESS_DAYS: 7 / 5,
            WaitUnit.WEEKS: 7.0,
        }
        return self.amount * per_day[self.unit]


@dataclass(frozen=True, slots=True)
class Variant:
    id: str
    template: str
    subject: str | None = None
    weight: int = 1


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    type: StepType
    wait: Wait = field(default_factory=Wait)
    at: date | None = None
    if_past: str = "skip"  # for exact-date steps whose date has gone: "skip" or "send"
    variants: tuple[Variant, ...] = ()
    thread: str | None = None
    instructions: str | None = None
    condition: Condition | None = None
    goto: str | None = None
    otherwise: str | None = None

    @property
    def is_email(self) -> bool:
        return self.type is StepType.EMAIL


@dataclass(frozen=True, slots=True)
class Window:
    """An open period of a weekday, in local minutes from midnight.

    ``end`` may exceed 1440: the window then crosses midnight and belongs to the
    day on which it opens.
    """

    start: int
    end: int

    def label(self) -> str:
        def hhmm(m: int) -> str:
            return f"{(m // 60) % 24:02d}:{m % 60:02d}"

        return f"{hhmm(self.start)}-{hhmm(self.end)}"


WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

HOLIDAYS_PROSPECT_COUNTRY = "prospect_country"


class Segment(StrEnum):
    """What prospects are grouped by when send windows are learned from replies."""

    COUNTRY = "country"
    INDUSTRY = "industry"
    TITLE = "title"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class LearnedWindows:
    """A sequence's opt-in to send windows learned from its own replies.

    Until a segment has ``min_sends`` emails behind it, the configured windows
    apply. Then each business day opens the ``hours`` local hours whose reply
    rate is best (only hours with ``min_slot_sends`` emails are ranked), and a
    share ``explore`` of enrollments keeps the configured windows so the data
    keeps covering them.
    """

    segment: Segment = Segment.COUNTRY
    min_sends: int = 300
    min_slot_sends: int = 20
    explore: float = 0.2
    hours: int = 3


@dataclass(frozen=True, slots=True)
class Schedule:
    """When touches may land, in the prospect's local time.

    ``windows[0]`` is Monday. ``holidays`` is ``"prospect_country"``, a fixed
    ISO country code, or None for no holiday calendar.
    """

    windows: tuple[tuple[Window, ...], ...]
    default_timezone: str = "UTC"
    default_country: str | None = None
    holidays: str | None = HOLIDAYS_PROSPECT_COUNTRY
    business_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    jitter_seconds: int = 0
    learned: LearnedWindows | None = None  # None: the configured windows, always

    def opens_ever(self) -> bool:
        return any(w.end > w.start for day in self.windows for w in day)


@dataclass(frozen=True, slots=True)
class ExitRules:
    reply: bool = True
    account_reply: bool = False
    bounce: bool = True
    unsubscribe: bool = True
    meeting_booked: bool = True
    stages: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PauseRules:
    out_of_office: bool = True
    resume_business_days_after_return: int = 1
    default_pause_days: int = 7


@dataclass(frozen=True, slots=True)
class Limits:
    one_active_sequence: bool = True
    reenroll: str = "never"  # "never", "always", or "after"
    reenroll_after_days: int = 0
    max_touches_per_week: int | None = None
    max_soft_bounces: int = 3


@dataclass(frozen=True, slots=True)
class Compliance:
    unsubscribe_footer: bool = True
    physical_address: bool = True


@dataclass(frozen=True, slots=True)
class Tracking:
    opens: bool = False
    clicks: bool = False


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    steps: tuple[Step, ...]
    schedule: Schedule
    exit: ExitRules = field(default_factory=ExitRules)
    pause: PauseRules = field(default_factory=PauseRules)
    limits: Limits = field(default_factory=Limits)
    compliance: Compliance = field(default_factory=Compliance)
    tracking: Tracking = field(default_factory=Tracking)
    custom_fields: frozenset[str] = frozenset()
    description: str = ""
    version: str = ""
    index: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not self.index:
            self.index.update({s.id: i for i, s in enumerate(self.steps)})

    def step(self, step_id: str) -> Step:
        return self.steps[self.index[step_id]]

    def position(self, step_id: str) -> int:
        return self.index[step_id]
