"""May this prospect be enrolled? The cross-sequence limits, decided purely.

The store gathers the prospect's enrollments (in every sequence) and asks; the
answer names the rule that refused, for the enrollment summary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sequencer.definition.model import Definition
from sequencer.engine.state import Status


@dataclass(frozen=True, slots=True)
class PastEnrollment:
    """What enrollment needs to know of one of the prospect's enrollments."""

    sequence: str  # the sequence name (every version counts as the same sequence)
    status: Status
    started_at: datetime
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    reason: str = ""  # why not, in words a summary can print
    code: str = ""  # "already_active", "active_elsewhere", "reenroll_never", "reenroll_too_soon"


ALLOWED = Verdict(True)


def may_enroll(definition: Definition, history: Iterable[PastEnrollment], *, now: datetime
               ) -> Verdict:
    """Whether the prospect with ``history`` may be enrolled in ``definition`` at ``now``."""
    past = list(history)
    open_ones = [e for e in past if e.status in (Status.ACTIVE, Status.PAUSED)]
    if any(e.sequence == definition.name for e in open_ones):
        return Verdict(False, f"already active in {definition.name!r}", "already_active")
    if definition.limits.one_active_sequence and open_ones:
        names = ", ".join(sorted({e.sequence for e in open_ones}))
        return Verdict(False, f"active in another sequence ({names}) and "
                       f"{definition.name!r} allows one at a time", "active_elsewhere")
    before = [e for e in past if e.sequence == definition.name]
    if not before:
        return ALLOWED
    policy = definition.limits.reenroll
    if policy == "never":
        return Verdict(False, f"was enrolled in {definition.name!r} before and it never "
                       "re-enrolls", "reenroll_never")
    if policy == "after":
        last = max(e.ended_at or e.started_at for e in before)
        allowed_from = last + timedelta(days=definition.limits.reenroll_after_days)
        if now < allowed_from:
            return Verdict(False, f"left {definition.name!r} on {last:%Y-%m-%d}; it re-enrolls "
                           f"after {definition.limits.reenroll_after_days} days "
                           f"({allowed_from:%Y-%m-%d})", "reenroll_too_soon")
    return ALLOWED
