"""Send windows learned from replies, purely: counts in, windows and the reason out.

The input is, for one segment of prospects (the French, say), how many emails
went out in each local (weekday, hour) slot and how many of them earned a reply.
Slots are ranked by the lower bound of a Wilson interval of their reply rate, so
that 3 replies out of 10 sends do not beat 40 out of 400 by luck. Nothing here
reads a clock or a database.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from sequencer.definition.model import WEEKDAY_NAMES, LearnedWindows, Schedule, Window
from sequencer.timing.sendtime import mix

Slot = tuple[int, int]  # (local weekday, Monday = 0; local hour, 0-23)
Z_95 = 1.96
EXPLORE_SALT = 0xE2A10
EXPLORE_SCALE = 1_000_000


@dataclass(frozen=True, slots=True)
class SlotCounts:
    sends: int = 0
    replies: int = 0

    def plus(self, sends: int, replies: int) -> SlotCounts:
        return SlotCounts(self.sends + sends, self.replies + replies)


@dataclass(frozen=True, slots=True)
class RankedSlot:
    """A slot with its sample and its score (the Wilson lower bound of its reply rate)."""

    weekday: int
    hour: int
    sends: int
    replies: int
    score: float

    @property
    def rate(self) -> float:
        return self.replies / self.sends if self.sends else 0.0

    def label(self) -> str:
        return f"{WEEKDAY_NAMES[self.weekday]} {self.hour:02d}:00"


@dataclass(frozen=True, slots=True)
class Learning:
    """What was learned for one segment, and the windows to use because of it.

    ``learned`` is False when the configured windows apply as they are; ``reason``
    says why in words, and ``day_notes`` name the business days that kept their
    configured windows for lack of data.
    """

    segment: str
    windows: tuple[tuple[Window, ...], ...]
    learned: bool
    reason: str
    sends: int
    replies: int
    ranked: tuple[RankedSlot, ...]
    day_notes: tuple[str, ...] = ()


def wilson_lower_bound(replies: int, sends: int, z: float = Z_95) -> float:
    """A conservative reply rate: the low end of the Wilson score interval."""
    if sends <= 0:
        return 0.0
    p = replies / sends
    z2 = z * z
    centre = p + z2 / (2 * sends)
    margin = z * math.sqrt(p * (1 - p) / sends + z2 / (4 * sends * sends))
    return max(0.0, (centre - margin) / (1 + z2 / sends))


def rank_slots(counts: Mapping[Slot, SlotCounts], min_slot_sends: int) -> tuple[RankedSlot, ...]:
    """Slots with at least ``min_slot_sends`` sends, best first (ties: earlier slot first)."""
    ranked = [RankedSlot(day, hour, c.sends, c.replies, wilson_lower_bound(c.replies, c.sends))
              for (day, hour), c in counts.items() if c.sends >= min_slot_sends]
    ranked.sort(key=lambda s: (-s.score, -s.rate, s.weekday, s.hour))
    return tuple(ranked)


def learn_windows(
    counts: Mapping[Slot, SlotCounts], schedule: Schedule, settings: LearnedWindows, *,
    segment: str,
) -> Learning:
    """The windows for ``segment`` given its history, and why.

    Below ``settings.min_sends`` sends in the segment, the configured windows. Else
    each business day opens its ``settings.hours`` best-ranked hours as hour-long
    windows; a business day with no ranked hour keeps its configured windows, and
    a day that is not a business day keeps its configured windows too (learning
    never opens a day the schedule does not do business on).
    """
    sends = sum(c.sends for c in counts.values())
    replies = sum(c.replies for c in counts.values())
    ranked = rank_slots(counts, settings.min_slot_sends)
    if sends < settings.min_sends:
        reason = (f"only {sends:,} sends for {segment} so far; {settings.min_sends:,} needed "
                  "before leaving the configured windows")
        return Learning(segment, schedule.windows, False, reason, sends, replies, ranked)
    days: list[tuple[Window, ...]] = list(schedule.windows)
    notes: list[str] = []
    for day in sorted(schedule.business_days):
        best = [s.hour for s in ranked if s.weekday == day][: settings.hours]
        if best:
            days[day] = hour_windows(best)
        else:
            notes.append(f"{WEEKDAY_NAMES[day]}: no hour with {settings.min_slot_sends} sends "
                         "yet, so its configured windows")
    windows = tuple(days)
    if windows == schedule.windows:
        reason = (f"{sends:,} sends and {replies:,} replies for {segment}, but no hour has "
                  f"{settings.min_slot_sends} sends yet: the configured windows")
        return Learning(segment, windows, False, reason, sends, replies, ranked, tuple(notes))
    reason = (f"{sends:,} sends and {replies:,} replies for {segment}: each business day opens "
              f"its {settings.hours} best hours by the lower bound of their reply rate")
    return Learning(segment, windows, True, reason, sends, replies, ranked, tuple(notes))


def hour_windows(hours: list[int]) -> tuple[Window, ...]:
    """Hour-long windows for ``hours``, adjacent hours joined, in order of the day."""
    merged: list[Window] = []
    for hour in sorted(set(hours)):
        if merged and merged[-1].end == hour * 60:
            merged[-1] = Window(merged[-1].start, (hour + 1) * 60)
        else:
            merged.append(Window(hour * 60, (hour + 1) * 60))
    return tuple(merged)


def explores(seed: int, share: float) -> bool:
    """Whether the enrollment with ``seed`` stays on the configured windows, to explore.

    The draw is per enrollment, not per step: the windows chosen when a step is
    scheduled must be the windows it is checked against when it wakes up, and the
    runtime picks them before it knows which step the engine will schedule next.
    """
    return mix(seed, EXPLORE_SALT) % EXPLORE_SCALE < round(share * EXPLORE_SCALE)
