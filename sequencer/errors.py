"""The one exception tree of sequencer.

::

    SequencerError
     ├── DefinitionError        a sequence file is invalid (carries every Problem)
     ├── TimingError            no admissible send time exists (a window that never opens)
     ├── EngineError            an event that makes no sense for the enrollment's state
     │    └── TransitionError   a status change the transition table forbids
     ├── InputError             bad user input at the edges (CSV rows, CLI options)
     └── DeliveryError          a transport could not hand a message over
          ├── TransientSendError   try again later (4xx, 429, timeouts, connection refused);
          │                        .retry_after: the wait the provider asked for, if any
          ├── PermanentSendError   do not retry (5xx: the provider's reason is the message)
          └── HeaderInjectionError a header value with CR, LF, NUL or a Unicode line break

Expected outcomes (replied, unsubscribed, window closed) are events or return
values, never exceptions. This module imports nothing but the standard library so
that the pure core may use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about a file, located by line (1-based; 0 when unknown)."""

    file: str
    line: int
    message: str
    severity: Severity = Severity.ERROR
    code: str = ""

    def format(self) -> str:
        tag = "" if self.severity is Severity.ERROR else "warning: "
        code = f" [{self.code}]" if self.code else ""
        return f"{self.file}:{self.line}: {tag}{self.message}{code}"


class SequencerError(Exception):
    """Root of every error sequencer raises on purpose."""


class DefinitionError(SequencerError):
    """A sequence definition is invalid; ``problems`` lists every violation."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


class TimingError(SequencerError):
    """No admissible send time could be found (for example a schedule with no window)."""


class EngineError(SequencerError):
    """An event that cannot apply to the enrollment as it stands."""


class TransitionError(EngineError):
    """A status change that the transition table does not allow."""


class InputError(SequencerError):
    """Bad input at an edge: a CSV row, a command-line option, a config value."""


class DeliveryError(SequencerError):
    """A transport could not hand a message over."""


class TransientSendError(DeliveryError):
    """Nothing was accepted and a later try may succeed (4xx, timeouts, refused connections).

    ``retry_after``: seconds the provider asked us to wait (HTTP ``Retry-After``, a rate
    limit's reset time), or None when it did not say.
    """

    def __init__(self, *args: object, retry_after: float | None = None) -> None:
        super().__init__(*args)
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[object, ...]:  # pickling keeps retry_after
        return (_rebuild_transient, (type(self), self.args, self.retry_after))


class PermanentSendError(DeliveryError):
    """The provider refused the message for good; ``str()`` is its reason."""


class MailboxRefusedError(PermanentSendError):
    """The provider refused the sender, not this message: wrong credentials, a suspended
    account, an unverified sender. The mailbox is paused; its steps wait, none fails."""


class HeaderInjectionError(DeliveryError):
    """A header value would have injected a header: refused before anything is sent."""


def _rebuild_transient(cls: type[TransientSendError], args: tuple[object, ...],
                       retry_after: float | None) -> TransientSendError:
    return cls(*args, retry_after=retry_after)
