"""The A/B statistics against values worked out by hand or published in textbooks."""

from __future__ import annotations

import math
import random

import pytest

from sequencer.reporting.abtest_stats import (
    compare,
    fisher_exact,
    holm,
    probability_best,
    sample_size_per_arm,
    two_proportion_z,
    wilson_interval,
)


def test_wilson_interval_matches_the_published_values() -> None:
    # Newcombe (1998), table I: 0/10 -> 0 to 0.2775; 5/10 -> 0.2366 to 0.7634.
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(10, 10)[1] == 1.0


def test_an_empty_arm_knows_nothing_about_its_rate() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_z_test_of_12_percent_against_10_percent_on_a_thousand_each() -> None:
    # pooled 0.11; se = sqrt(0.11 * 0.89 * 2 / 1000) = 0.013993; z = 0.02 / se
    z, p = two_proportion_z(120, 1000, 100, 1000)
    assert z == pytest.approx(1.4293, abs=1e-4)
    assert p == pytest.approx(0.1529, abs=1e-4)


def test_z_squared_is_pearsons_chi_square_of_the_two_by_two_table() -> None:
    s1, n1, s2, n2 = 45, 310, 70, 290
    table = [[s1, n1 - s1], [s2, n2 - s2]]
    total = n1 + n2
    rows, cols = [n1, n2], [s1 + s2, total - s1 - s2]
    chi2 = sum((table[r][c] - rows[r] * cols[c] / total) ** 2 / (rows[r] * cols[c] / total)
               for r in range(2) for c in range(2))
    z, p = two_proportion_z(s1, n1, s2, n2)
    assert z * z == pytest.approx(chi2)
    assert p == pytest.approx(math.exp(-chi2 / 2) * 0 + math.erfc(math.sqrt(chi2 / 2)))


def test_a_z_of_1_96_is_significant_at_exactly_five_percent() -> None:
    # 1.959964 standard errors apart: choose counts whose z is known, then check the tail.
    z, p = two_proportion_z(200, 1000, 150, 1000)
    assert p == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))
    assert (p < 0.05) == (abs(z) > 1.959964)


def test_fisher_exact_on_the_lady_tasting_tea() -> None:
    # Fisher (1935): 3 of 4 cups right each way; two-sided p = 34/70.
    assert fisher_exact(3, 4, 1, 4) == pytest.approx(34 / 70)


def test_fisher_exact_on_the_dieting_example() -> None:
    # The 2x2 table [[1, 9], [11, 3]] (dieting by sex): two-sided p = 0.002759.
    assert fisher_exact(1, 12, 9, 12) == pytest.approx(0.002759, abs=1e-6)


def test_small_counts_are_tested_exactly_and_large_ones_with_the_z_test() -> None:
    small = compare(3, 4, 1, 4)
    assert small.test == "fisher"
    assert small.p_value == pytest.approx(34 / 70)
    large = compare(120, 1000, 100, 1000)
    assert large.test == "z-test"
    assert large.difference == pytest.approx(0.02)


def test_identical_arms_show_no_difference() -> None:
    assert compare(0, 50, 0, 50).p_value == 1.0
    assert compare(30, 300, 30, 300).p_value == pytest.approx(1.0)


def test_holm_multiplies_the_smallest_by_the_count_and_keeps_the_order() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5]) == [0.5]
    assert holm([0.4, 0.9]) == pytest.approx([0.8, 0.9])


def test_sample_size_for_10_against_15_percent_is_686_per_arm() -> None:
    # Fleiss, no continuity correction, alpha 0.05 two-sided, power 0.80.
    assert sample_size_per_arm(0.10, 0.15) == 686


def test_sample_size_for_a_2_point_lift_from_5_percent() -> None:
    # (1.96 * sqrt(2 * .06 * .94) + 0.8416 * sqrt(.05 * .95 + .07 * .93)) ** 2 / .02 ** 2
    # = 2212.2, rounded up
    assert sample_size_per_arm(0.05, 0.07) == 2213


def test_smaller_differences_need_larger_samples() -> None:
    sizes = [sample_size_per_arm(0.10, 0.10 + d) for d in (0.10, 0.05, 0.02, 0.01)]
    assert sizes == sorted(sizes)
    assert sample_size_per_arm(0.10, 0.15, power=0.9) > 686


def test_sample_size_refuses_equal_rates() -> None:
    with pytest.raises(ValueError, match="different rates"):
        sample_size_per_arm(0.1, 0.1)


def _beats_exactly(a_wins: int, a_n: int, b_wins: int, b_n: int) -> float:
    """P(rate B > rate A) for Beta(1, 1) priors, by the closed-form sum for integer shapes."""
    alpha_a, beta_a = 1 + a_wins, 1 + a_n - a_wins
    alpha_b, beta_b = 1 + b_wins, 1 + b_n - b_wins

    def log_beta(x: float, y: float) -> float:
        return math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)

    return sum(math.exp(log_beta(alpha_a + i, beta_a + beta_b) - math.log(beta_b + i)
                        - log_beta(1 + i, beta_b) - log_beta(alpha_a, beta_a))
               for i in range(alpha_b))


@pytest.mark.parametrize("counts", [(20, 200, 30, 200), (3, 40, 5, 35), (100, 10000, 130, 10000),
                                    (0, 0, 1, 1), (50, 60, 2, 70)])
def test_probability_best_of_two_matches_the_closed_form(
        counts: tuple[int, int, int, int]) -> None:
    a_wins, a_n, b_wins, b_n = counts
    _, b_best = probability_best([(a_wins, a_n), (b_wins, b_n)])
    assert b_best == pytest.approx(_beats_exactly(*counts), abs=1e-3)


def test_probability_best_of_three_agrees_with_many_random_draws() -> None:
    arms = [(30, 300), (42, 300), (38, 290)]
    draws = random.Random(5)
    wins = [0, 0, 0]
    for _ in range(20_000):
        rates = [draws.betavariate(1 + s, 1 + n - s) for s, n in arms]
        wins[rates.index(max(rates))] += 1
    exact = probability_best(arms)
    assert exact == pytest.approx([w / 20_000 for w in wins], abs=0.015)
    assert sum(exact) == pytest.approx(1.0)


def test_probability_best_is_even_between_equal_arms_and_stable() -> None:
    assert probability_best([(10, 100), (10, 100)]) == pytest.approx([0.5, 0.5])
    assert probability_best([(7, 90), (9, 80)]) == probability_best([(7, 90), (9, 80)])


def test_counts_that_are_not_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="not a count"):
        wilson_interval(11, 10)
    with pytest.raises(ValueError, match="not a count"):
        probability_best([(1, 2), (-1, 3)])
