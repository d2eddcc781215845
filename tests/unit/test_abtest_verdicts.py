"""The verdict in words a manager reads, from arms' counts."""

from __future__ import annotations

import json

import pytest

from sequencer.reporting.abtest import ArmCounts, judge
from sequencer.reporting.abtest_stats import sample_size_per_arm


def test_a_clear_lift_in_positive_replies_names_the_winner_with_its_evidence() -> None:
    verdict = judge("intro", [ArmCounts("a", 1000, 50, 10), ArmCounts("b", 1000, 80, 30)])
    assert verdict.status == "winner"
    assert verdict.winner == "b"
    assert verdict.metric == "positive_replies"
    assert verdict.verdict.startswith("b beats a on positive replies (p = 0.0")
    assert "probability best" in verdict.verdict


def test_a_lift_in_replies_alone_wins_on_replies() -> None:
    verdict = judge("intro", [ArmCounts("a", 2000, 100, 10), ArmCounts("b", 2000, 160, 11)])
    assert (verdict.status, verdict.winner, verdict.metric) == ("winner", "b", "replies")
    assert "b beats a on replies" in verdict.verdict


def test_nothing_delivered_yet_asks_for_data() -> None:
    verdict = judge("intro", [ArmCounts("a", 0, 0, 0), ArmCounts("b", 0, 0, 0)])
    assert verdict.status == "not_enough_data"
    assert verdict.verdict.startswith("not enough data yet: each arm needs about ")
    assert verdict.more_needed_per_arm > 300  # a 2-point difference from nothing


def test_a_small_sample_with_a_visible_gap_is_still_not_enough() -> None:
    verdict = judge("intro", [ArmCounts("a", 40, 2, 0), ArmCounts("b", 40, 4, 1)])
    assert verdict.status == "not_enough_data"
    assert verdict.winner is None
    # Both metrics have a success, so the arms need what the more demanding one needs.
    assert verdict.more_needed_per_arm == max(m.needed_per_arm for m in verdict.metrics) - 40


def test_large_equal_arms_show_no_real_difference() -> None:
    verdict = judge("intro", [ArmCounts("a", 6000, 600, 60), ArmCounts("b", 6000, 610, 62)])
    assert verdict.status == "no_difference"
    assert verdict.verdict.startswith("no real difference yet")
    assert "2 points" in verdict.verdict
    assert verdict.more_needed_per_arm == 0


def test_each_arm_carries_rates_with_intervals_and_its_chance_of_being_best() -> None:
    verdict = judge("intro", [ArmCounts("a", 10, 5, 0, weight=50), ArmCounts("b", 10, 0, 0)])
    a, b = verdict.arms
    assert (a.replies.rate, a.replies.low, a.replies.high) == pytest.approx(
        (0.5, 0.2366, 0.7634), abs=1e-4)
    assert a.weight == 50
    assert b.replies.high == pytest.approx(0.2775, abs=1e-4)
    replies = next(m for m in verdict.metrics if m.metric == "replies")
    assert replies.best == "a"
    assert replies.probability_best["a"] > 0.99
    assert replies.versus[0].test == "fisher"  # 5 of 20 replied: expected counts are small


def test_three_arms_compare_the_best_with_each_other_after_holms_adjustment() -> None:
    verdict = judge("intro", [ArmCounts("a", 3000, 300, 0), ArmCounts("b", 3000, 420, 0),
                              ArmCounts("c", 3000, 400, 0)])
    replies = next(m for m in verdict.metrics if m.metric == "replies")
    assert replies.best == "b"
    versus = {v.other: v for v in replies.versus}
    assert versus["a"].significant and not versus["c"].significant
    smaller = min(versus["a"].p_value, versus["c"].p_value)
    assert min(v.adjusted_p for v in versus.values()) == pytest.approx(2 * smaller)
    assert verdict.verdict.startswith("b beats a on replies (p < 0.001")
    assert verdict.verdict.endswith("no real difference yet from c")


def test_the_worse_arm_is_never_declared_the_winner() -> None:
    verdict = judge("intro", [ArmCounts("a", 1000, 90, 0), ArmCounts("b", 1000, 40, 0)])
    assert verdict.winner == "a"


def test_the_verdict_is_plain_data_ready_for_json() -> None:
    plain = judge("intro", [ArmCounts("a", 100, 10, 1), ArmCounts("b", 100, 12, 2)]).as_dict()
    assert json.loads(json.dumps(plain)) == plain
    assert plain["arms"][0]["replies"] == {"count": 10, "base": 100, "rate": 0.1,
                                           "low": pytest.approx(0.0552, abs=1e-4),
                                           "high": pytest.approx(0.1744, abs=1e-4)}


def test_a_step_needs_two_variants_for_a_verdict() -> None:
    with pytest.raises(ValueError, match="at least two variants"):
        judge("bump", [ArmCounts("default", 100, 5, 1)])


def test_the_sample_needed_is_for_the_observed_gap_over_the_runner_up() -> None:
    verdict = judge("intro", [ArmCounts("a", 30, 3, 0), ArmCounts("b", 30, 9, 0)])
    replies = next(m for m in verdict.metrics if m.metric == "replies")
    assert replies.effect == pytest.approx(0.2)
    assert replies.needed_per_arm == sample_size_per_arm(0.1, 0.3)


def test_all_against_nothing_is_a_winner_not_an_error() -> None:
    verdict = judge("intro", [ArmCounts("a", 20, 0, 0), ArmCounts("b", 20, 20, 20)])
    assert (verdict.status, verdict.winner) == ("winner", "b")
    nearly_all = judge("intro", [ArmCounts("a", 500, 495, 0), ArmCounts("b", 500, 499, 0)])
    assert all(m.needed_per_arm > 0 for m in nearly_all.metrics)
