"""The per-process memory of learned send windows, kept on the ``App``.

Apart from ``services.learned`` so that ``App`` can hold it without importing the
service (which imports ``App``). Plain data only: no database, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sequencer.definition.model import Definition, Segment
from sequencer.timing.learned import Learning, Slot, SlotCounts

SegmentCounts = dict[str | None, dict[Slot, SlotCounts]]  # by segment value (None: unknown)


@dataclass
class LearnedHistory:
    """One sequence's sends and replies by segment, as read at ``read_at``."""

    read_at: datetime
    counts: SegmentCounts
    learnings: dict[tuple[int, str | None], Learning] = field(default_factory=dict)
    definitions: dict[tuple[int, str | None], Definition] = field(default_factory=dict)
    previous: dict[tuple[int, str | None], Definition] = field(default_factory=dict)


@dataclass
class LearnedWindowsCache:
    """Histories by (sequence name, segment kind); each is read again once it is stale."""

    histories: dict[tuple[str, Segment], LearnedHistory] = field(default_factory=dict)

    def fresh(self, name: str, segment: Segment, *, now: datetime, max_age: float
              ) -> LearnedHistory | None:
        found = self.histories.get((name, segment))
        if found is None or (now - found.read_at).total_seconds() > max_age:
            return None
        return found

    def replace(self, name: str, segment: Segment, history: LearnedHistory) -> None:
        """Keep ``history``, remembering the definitions of the one it replaces.

        A definition whose windows did not change is reused, so that the timetables
        cached for it (by identity) stay warm across reads of the history.
        """
        old = self.histories.get((name, segment))
        if old is not None:
            history.previous = old.definitions
        self.histories[(name, segment)] = history

    def clear(self) -> None:
        self.histories.clear()
