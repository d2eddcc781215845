"""The statistics of A/B tests on proportions: pure functions of counts.

Everything here takes whole-number counts (successes out of trials) and returns
plain numbers, deterministically; it imports only the standard library.

- ``wilson_interval``: a 95% interval for one rate that behaves at 0 and at 100%.
- ``two_proportion_z`` / ``fisher_exact`` / ``compare``: is the difference between
  two arms real? ``compare`` picks Fisher's exact test when an expected cell count
  is under 5 (where the normal approximation of the z-test is poor).
- ``holm``: adjusts the p-values of several comparisons made at once.
- ``probability_best``: with Beta(1, 1) priors, the chance each arm has the highest
  true rate, by numerical integration on a grid (no random draws: the same counts
  always give the same figure).
- ``sample_size_per_arm``: how many trials each arm needs to detect a difference at
  a given significance and power (the normal-approximation formula without
  continuity correction, as in Fleiss, *Statistical Methods for Rates and
  Proportions*).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

ALPHA = 0.05
POWER = 0.80
_NORMAL = NormalDist()
_GRID = 6000  # cells of the integration grid of probability_best
_SPAN = 12.0  # the grid covers every posterior's mean +- this many standard deviations


@dataclass(frozen=True, slots=True)
class Comparison:
    """The test of one arm's rate against another's."""

    test: str  # "z-test" or "fisher"
    p_value: float
    difference: float  # rate of the first arm minus rate of the second


def rate(successes: int, trials: int) -> float:
    return successes / trials if trials else 0.0


def wilson_interval(successes: int, trials: int, confidence: float = 0.95
                    ) -> tuple[float, float]:
    """The Wilson score interval of ``successes / trials``; (0, 1) when there are no trials."""
    _check(successes, trials)
    if trials == 0:
        return 0.0, 1.0
    z = _NORMAL.inv_cdf(0.5 + confidence / 2)
    p = successes / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    scale = 1 + z * z / trials
    low = 0.0 if successes == 0 else (centre - spread) / scale
    high = 1.0 if successes == trials else (centre + spread) / scale
    return low, high


def two_proportion_z(s1: int, n1: int, s2: int, n2: int) -> tuple[float, float]:
    """The pooled two-proportion z statistic and its two-sided p-value.

    Returns (0, 1) when the pooled rate is 0 or 1: there is nothing to tell apart.
    """
    _check(s1, n1)
    _check(s2, n2)
    if n1 == 0 or n2 == 0:
        return 0.0, 1.0
    pooled = (s1 + s2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance == 0:
        return 0.0, 1.0
    z = (s1 / n1 - s2 / n2) / math.sqrt(variance)
    return z, min(1.0, math.erfc(abs(z) / math.sqrt(2)))


def fisher_exact(s1: int, n1: int, s2: int, n2: int) -> float:
    """The two-sided p-value of Fisher's exact test on the 2x2 table of the two arms.

    It sums the probabilities (given the margins) of every table no more likely
    than the one observed.
    """
    _check(s1, n1)
    _check(s2, n2)
    total, successes = n1 + n2, s1 + s2
    if n1 == 0 or n2 == 0 or successes in (0, total):
        return 1.0
    low, high = max(0, successes - n2), min(successes, n1)

    def log_p(x: int) -> float:
        return (_log_choose(successes, x) + _log_choose(total - successes, n1 - x)
                - _log_choose(total, n1))

    observed = log_p(s1)
    tolerance = 1e-7  # tables as likely as the observed one, up to rounding, count too
    p = sum(math.exp(lp) for lp in map(log_p, range(low, high + 1))
            if lp <= observed + tolerance)
    return min(1.0, p)


def compare(s1: int, n1: int, s2: int, n2: int) -> Comparison:
    """Fisher's exact test when an expected count is under 5, else the z-test."""
    difference = rate(s1, n1) - rate(s2, n2)
    total, successes = n1 + n2, s1 + s2
    expected = [n * k / total for n in (n1, n2) for k in (successes, total - successes)
                ] if total else [0.0]
    if min(expected) < 5:
        return Comparison("fisher", fisher_exact(s1, n1, s2, n2), difference)
    return Comparison("z-test", two_proportion_z(s1, n1, s2, n2)[1], difference)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the order given (each capped at 1)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def sample_size_per_arm(p1: float, p2: float, *, alpha: float = ALPHA,
                        power: float = POWER) -> int:
    """Trials each arm needs for a two-sided test at ``alpha`` to detect ``p1`` vs ``p2``
    with probability ``power``.

    Raises:
        ValueError: the two rates are equal (no sample detects no difference) or not
            rates.
    """
    if not (0 <= p1 <= 1 and 0 <= p2 <= 1) or p1 == p2:
        raise ValueError(f"need two different rates between 0 and 1, not {p1} and {p2}")
    z_alpha = _NORMAL.inv_cdf(1 - alpha / 2)
    z_power = _NORMAL.inv_cdf(power)
    mean = (p1 + p2) / 2
    root = (z_alpha * math.sqrt(2 * mean * (1 - mean))
            + z_power * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2)))
    return math.ceil(root * root / (p1 - p2) ** 2)


def probability_best(arms: Sequence[tuple[int, int]]) -> list[float]:
    """For each arm given as (successes, trials), the posterior probability that its
    true rate is the highest, with a Beta(1, 1) prior on each.

    P(i best) = integral of f_i(x) * prod_{j != i} F_j(x) dx, computed with the midpoint
    rule on a grid spanning where the posteriors have their mass.
    """
    for s, n in arms:
        _check(s, n)
    if len(arms) < 2:
        return [1.0] * len(arms)
    shapes = [(1 + s, 1 + n - s) for s, n in arms]
    low, high = _support(shapes)
    width = (high - low) / _GRID
    xs = [low + (k + 0.5) * width for k in range(_GRID)]
    densities = [_normalised_density(a, b, xs) for a, b in shapes]
    cdfs = [_cumulative(d) for d in densities]
    wins = []
    for i, density in enumerate(densities):
        others = [c for j, c in enumerate(cdfs) if j != i]
        wins.append(sum(density[k] * math.prod(c[k] for c in others) for k in range(_GRID)))
    total = sum(wins)
    return [w / total for w in wins]


def _support(shapes: Sequence[tuple[int, int]]) -> tuple[float, float]:
    lows, highs = [], []
    for a, b in shapes:
        mean = a / (a + b)
        sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
        lows.append(mean - _SPAN * sd)
        highs.append(mean + _SPAN * sd)
    return max(0.0, min(lows)), min(1.0, max(highs))


def _normalised_density(a: int, b: int, xs: Sequence[float]) -> list[float]:
    """Beta(a, b) at each point, scaled so the grid's cells sum to 1 (their masses)."""
    logs = [(a - 1) * math.log(x) + (b - 1) * math.log1p(-x) for x in xs]
    top = max(logs)
    raw = [math.exp(v - top) for v in logs]
    total = sum(raw)
    return [r / total for r in raw]


def _cumulative(masses: Sequence[float]) -> list[float]:
    """The distribution function at each cell's midpoint: the cells before, and half its own."""
    out, before = [], 0.0
    for mass in masses:
        out.append(before + mass / 2)
        before += mass
    return out


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _check(successes: int, trials: int) -> None:
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes out of {trials} trials is not a count")
