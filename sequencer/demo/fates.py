"""Who answers which email, how, and when: seeded, so a rerun answers the same way.

Every decision draws from a generator seeded by (seed, prospect, step), never from
the order in which emails happen to be read. A dead address bounces the first
email (hard, 5.1.1); a full mailbox soft-bounces it once (4.2.2) and takes the
resend. Each delivered email may then draw a reply, an out-of-office note (once
per person) or an unsubscribe request. Variant ``b`` of an A/B step is written to
earn more replies, so the report has a difference to find.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sequencer.demo.phrases import REPLIES


class AnswerKind(StrEnum):
    REPLY = "reply"
    OUT_OF_OFFICE = "auto_reply"
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    UNSUBSCRIBE = "unsubscribe"


@dataclass(frozen=True, slots=True)
class Rates:
    """Chances per email; rates of a lively but plausible cold campaign."""

    hard_bounce: float = 0.03  # first email only: the address is dead
    soft_bounce: float = 0.02  # first email only: mailbox full, once
    reply: float = 0.05
    variant_b_lift: float = 1.8  # replies to variant b are this much likelier
    out_of_office: float = 0.05
    unsubscribe: float = 0.012
    positive: float = 0.4  # shares of replies by mood
    negative: float = 0.2


@dataclass(frozen=True, slots=True)
class Fate:
    kind: AnswerKind
    at: datetime
    mood: str | None = None  # replies: positive, neutral or negative
    text: str = ""
    back: date | None = None  # out-of-office: the first day back
    by_mailto: bool = False  # unsubscribes: the List-Unsubscribe mailto, not a reply


@dataclass(frozen=True, slots=True)
class Sent:
    """One email as the fates see it."""

    to: str
    step: str
    variant: str | None
    sent_at: datetime
    zone: str
    language: str
    first: bool  # the first email this person got
    was_away: bool  # this person sent an out-of-office note before


def fate_of(sent: Sent, *, seed: int, rates: Rates = Rates()) -> Fate | None:
    """What comes back for ``sent``, if anything."""
    rng = random.Random(f"demo-fate:{seed}:{sent.to}:{sent.step}")
    if sent.first:
        roll = rng.random()
        if roll < rates.hard_bounce:
            return Fate(AnswerKind.HARD_BOUNCE, _after(sent, rng, 1, 10))
        if roll < rates.hard_bounce + rates.soft_bounce:
            return Fate(AnswerKind.SOFT_BOUNCE, _after(sent, rng, 5, 40))
    reply = rates.reply * (rates.variant_b_lift if sent.variant == "b" else 1.0)
    away = 0.0 if sent.was_away else rates.out_of_office
    roll = rng.random()
    if roll < reply:
        return _reply(sent, rng, rates)
    if roll < reply + away:
        local = sent.sent_at.astimezone(ZoneInfo(sent.zone)).date()
        return Fate(AnswerKind.OUT_OF_OFFICE, _after(sent, rng, 1, 3),
                    back=local + timedelta(days=rng.randint(3, 12)))
    if roll < reply + away + rates.unsubscribe:
        return Fate(AnswerKind.UNSUBSCRIBE, _after(sent, rng, 30, 24 * 60),
                    by_mailto=rng.random() < 0.5)
    return None


def _reply(sent: Sent, rng: random.Random, rates: Rates) -> Fate:
    roll = rng.random()
    mood = ("positive" if roll < rates.positive else
            "negative" if roll < rates.positive + rates.negative else "neutral")
    text = rng.choice(REPLIES[sent.language][mood])
    return Fate(AnswerKind.REPLY, _after(sent, rng, 40, 30 * 60), mood=mood, text=text)


def _after(sent: Sent, rng: random.Random, low_minutes: int, high_minutes: int) -> datetime:
    return sent.sent_at + timedelta(minutes=rng.randint(low_minutes, high_minutes),
                                    seconds=rng.randint(0, 59))
