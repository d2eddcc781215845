"""Rates with their counts and a 95% Wilson score interval; the small-base rule.

Pure: the standard library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MIN_BASE = 30  # a rate over fewer than this many in its base is flagged "too small a base"
Z95 = 1.959963984540054  # the normal quantile of 0.975: a two-sided 95% interval
TOO_SMALL = "too small a base"


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of ``successes`` out of ``trials`` (0..1 each end).

    Unlike the normal approximation it stays inside [0, 1] and is honest at 0 and
    at small bases. ``trials == 0`` gives the whole range (0, 1): nothing is known.

    Raises:
        ValueError: a negative count, or more successes than trials.
    """
    if trials < 0 or successes < 0 or successes > trials:
        raise ValueError(f"{successes} out of {trials} is not a proportion")
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class Rate:
    """``numerator`` out of ``denominator``, its 95% interval, and whether the base is
    too small to read (``denominator < minimum``)."""

    numerator: int
    denominator: int
    minimum: int = MIN_BASE

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.numerator, self.denominator)

    @property
    def too_small(self) -> bool:
        return self.denominator < self.minimum

    def as_json(self) -> dict[str, object]:
        low, high = self.interval
        return {"numerator": self.numerator, "denominator": self.denominator,
                "rate": None if self.value is None else round(self.value, 6),
                "ci95": [round(low, 6), round(high, 6)], "too_small": self.too_small,
                "note": TOO_SMALL if self.too_small else None}

    def text(self) -> str:
        """``12.5% (10/80, 6.5–22.0%)``, or the small-base warning with its counts."""
        if self.too_small:
            return f"{TOO_SMALL} ({self.numerator}/{self.denominator})"
        low, high = self.interval
        return (f"{percent(self.value)} ({self.numerator}/{self.denominator}, "
                f"{low * 100:.1f}–{high * 100:.1f}%)")


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"
