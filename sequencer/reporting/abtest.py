"""A/B verdicts: for each step with variants, is one variant really better?

``judge`` is pure: arms' counts in, a ``StepVerdict`` out (see docs/ab-tests.md for
every rule). ``ab_verdicts`` reads the counts from the store (``abtest_counts``)
and returns plain data (dicts, lists, numbers, strings) that JSON, the table
printer and the HTML report all take as is.

Two metrics are judged, in this order: positive replies (what a team is after),
then replies. For each, the best arm is tested against every other one (Fisher's
exact test for small counts, else the two-proportion z-test; Holm's adjustment when
there are several), and each arm gets its probability of being best.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sequencer.reporting.abtest_stats import (
    ALPHA,
    compare,
    holm,
    probability_best,
    rate,
    sample_size_per_arm,
    wilson_interval,
)

MIN_DIFFERENCE = 0.02  # the smallest difference worth detecting: 2 percentage points
METRICS = ("positive_replies", "replies")
METRIC_WORDS = {"positive_replies": "positive replies", "replies": "replies"}


@dataclass(frozen=True, slots=True)
class ArmCounts:
    """One variant of a step: prospects delivered it, and those whose (positive) reply
    is attributed to it."""

    variant: str
    delivered: int
    replied: int
    positive: int
    weight: int | None = None  # in the latest version of the sequence; None if gone


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    base: int
    rate: float
    low: float  # the 95% Wilson interval
    high: float


@dataclass(frozen=True, slots=True)
class Arm:
    variant: str
    weight: int | None
    delivered: int
    replies: Rate
    positive_replies: Rate


@dataclass(frozen=True, slots=True)
class Versus:
    """The best arm against one other arm, on one metric."""

    other: str
    difference: float  # best's rate minus the other's
    test: str  # "z-test" or "fisher"
    p_value: float
    adjusted_p: float  # Holm-adjusted over the comparisons of this metric
    significant: bool


@dataclass(frozen=True, slots=True)
class MetricResult:
    metric: str
    best: str
    probability_best: dict[str, float]
    versus: tuple[Versus, ...]
    effect: float  # the difference the needed sample is for: observed, or the minimum
    needed_per_arm: int  # delivered prospects each arm needs to detect ``effect``


@dataclass(frozen=True, slots=True)
class StepVerdict:
    step: str
    status: str  # "winner", "no_difference" or "not_enough_data"
    verdict: str  # in words
    winner: str | None
    metric: str | None  # the metric the winner won on
    more_needed_per_arm: int  # 0 once every arm has the sample it needs
    arms: tuple[Arm, ...]
    metrics: tuple[MetricResult, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain data: dicts, lists, strings and numbers, as JSON has them."""
        plain: dict[str, Any] = _lists(asdict(self))
        return plain


def judge(step: str, arms: Sequence[ArmCounts], *, min_difference: float = MIN_DIFFERENCE,
          alpha: float = ALPHA) -> StepVerdict:
    """The verdict on one step's variants from their counts.

    Raises:
        ValueError: fewer than two arms, or counts that are not counts.
    """
    if len(arms) < 2:
        raise ValueError(f"step {step!r}: an A/B verdict needs at least two variants")
    shown = tuple(Arm(a.variant, a.weight, a.delivered, _rate(a.replied, a.delivered),
                      _rate(a.positive, a.delivered)) for a in arms)
    results = tuple(_metric(name, arms, min_difference, alpha) for name in METRICS)
    for result in results:
        if any(v.significant for v in result.versus):
            return _winner(step, shown, results, result)
    judged = [r for r, name in zip(results, METRICS, strict=True)
              if sum(_successes(a, name) for a in arms)] or [results[-1]]
    more = max(max(r.needed_per_arm for r in judged) - a.delivered for a in arms)
    if more > 0:
        words = f"not enough data yet: each arm needs about {_about(more)} more delivered"
        return StepVerdict(step, "not_enough_data", words, None, None, more, shown, results)
    effect = max(r.effect for r in judged)
    words = (f"no real difference yet: a difference of {_points(effect)} or more "
             f"would most likely have shown by now")
    return StepVerdict(step, "no_difference", words, None, None, 0, shown, results)


def _metric(name: str, arms: Sequence[ArmCounts], min_difference: float, alpha: float
            ) -> MetricResult:
    counts = [(_successes(a, name), a.delivered) for a in arms]
    chances = probability_best(counts)
    best = max(range(len(arms)), key=lambda i: (rate(*counts[i]), chances[i], -i))
    others = [i for i in range(len(arms)) if i != best]
    tests = [compare(*counts[best], *counts[i]) for i in others]
    adjusted = holm([t.p_value for t in tests])
    versus = tuple(Versus(arms[i].variant, t.difference, t.test, t.p_value, p,
                          p < alpha and t.difference > 0)
                   for i, t, p in zip(others, tests, adjusted, strict=True))
    runner_up = max(rate(*counts[i]) for i in others)
    effect = max(rate(*counts[best]) - runner_up, min_difference)
    base = rate(sum(s for s, _ in counts), sum(n for _, n in counts))
    target = base + effect if base + effect <= 1 else base - effect
    return MetricResult(name, arms[best].variant,
                        {a.variant: c for a, c in zip(arms, chances, strict=True)},
                        versus, effect, sample_size_per_arm(base, target, alpha=alpha))


def _winner(step: str, arms: tuple[Arm, ...], results: tuple[MetricResult, ...],
            result: MetricResult) -> StepVerdict:
    beaten = [v for v in result.versus if v.significant]
    level = ", ".join(_p(v.adjusted_p) for v in beaten)
    chance = _percent(result.probability_best[result.best])
    words = (f"{result.best} beats {_and(v.other for v in beaten)} on "
             f"{METRIC_WORDS[result.metric]} ({level}, {chance} probability best)")
    unclear = [v.other for v in result.versus if not v.significant]
    if unclear:
        words += f"; no real difference yet from {_and(unclear)}"
    return StepVerdict(step, "winner", words, result.best, result.metric, 0, arms, results)


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value


def _successes(arm: ArmCounts, metric: str) -> int:
    return arm.positive if metric == "positive_replies" else arm.replied


def _rate(count: int, base: int) -> Rate:
    low, high = wilson_interval(count, base)
    return Rate(count, base, rate(count, base), low, high)


def _about(n: int) -> str:
    """``n`` rounded up to two significant figures: the sample is an estimate."""
    if n < 100:
        return str(n)
    step = 10 ** (len(str(n)) - 2)
    return f"{math.ceil(n / step) * step:,}"


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def _percent(share: float) -> str:
    if share > 0.99:
        return ">99%"
    if share < 0.01:
        return "<1%"
    return f"{round(share * 100)}%"


def _points(difference: float) -> str:
    return f"{difference * 100:.3g} points"


def _and(names: Iterable[str]) -> str:
    items: list[str] = list(names)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
