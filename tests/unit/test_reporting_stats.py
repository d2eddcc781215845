"""Rates, Wilson intervals, the small-base rule, the reply rules, and local time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from sequencer.errors import InputError
from sequencer.reporting.dimensions import key_columns, label
from sequencer.reporting.rules import DEFAULT_RULES, NEGATIVE, POSITIVE, load_rules
from sequencer.reporting.stats import MIN_BASE, Rate, wilson
from sequencer.reporting.zones import offset_periods


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    (5, 10, 0.236593, 0.763407),   # the textbook case (statsmodels, method="wilson")
    (0, 10, 0.0, 0.277533),
    (10, 10, 0.722467, 1.0),
    (20, 80, 0.168062, 0.354847),
    (1, 1000, 0.000177, 0.005643),
])
def test_the_wilson_interval_matches_known_values(k: int, n: int, low: float,
                                                      high: float) -> None:
    assert wilson(k, n) == pytest.approx((low, high), abs=2e-6)


def test_the_wilson_interval_of_nothing_is_everything() -> None:
    assert wilson(0, 0) == (0.0, 1.0)


def test_an_impossible_proportion_is_refused() -> None:
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_a_base_under_the_minimum_is_too_small() -> None:
    assert Rate(3, MIN_BASE - 1).too_small
    assert not Rate(3, MIN_BASE).too_small
    assert Rate(3, 12).text() == "too small a base (3/12)"
    assert Rate(10, 80).text() == "12.5% (10/80, 6.9–21.5%)"
    assert Rate(0, 0).value is None


def test_negative_phrases_win_and_apostrophes_are_both_kinds() -> None:
    rules = load_rules(DEFAULT_RULES)
    assert rules.verdict("Thanks, but I'm not interested.") == NEGATIVE
    assert rules.verdict("Interested! Let’s talk.") == POSITIVE
    assert rules.verdict("Quelle heure vous convient ?") == POSITIVE
    assert rules.verdict("Ja, gerne.") == POSITIVE
    assert rules.verdict("Who is this?") is None
    assert rules.verdict(None) is None


def test_a_teams_rule_file_replaces_the_default(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "reporting").mkdir()
    (tmp_path / "reporting" / "positive_rules.yaml").write_text(
        "positive:\n  en: [ship it]\nnegative:\n  en: [nope]\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    rules = load_rules()
    assert rules.positive == ("ship it",) and rules.negative == ("nope",)
    assert rules.digest != load_rules(DEFAULT_RULES).digest


def test_a_malformed_rule_file_says_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("positive: [1, 2]\n", "utf-8")
    with pytest.raises(InputError, match="list of phrases"):
        load_rules(path)


def test_dimensions_add_their_parents_without_repeats() -> None:
    assert key_columns(["sequence", "step", "variant"]) == ("sequence", "step", "variant")
    assert key_columns(["variant"]) == ("sequence", "step", "variant")
    assert key_columns(["mailbox", "segment:plan"]) == ("mailbox", "segment:plan")
    with pytest.raises(InputError):
        key_columns(["segment:drop table"])
    with pytest.raises(InputError):
        key_columns(["colour"])
    assert label("local_weekday", 0) == "Mon" and label("local_hour", 9) == "09:00"


def test_offset_periods_cut_at_each_dst_change() -> None:
    periods = offset_periods(["America/New_York"], datetime(2026, 3, 1, tzinfo=UTC),
                             datetime(2026, 3, 20, tzinfo=UTC))
    assert [p[3] for p in periods] == [-5 * 3600, -4 * 3600]
    assert periods[0][2] == periods[1][1] == "2026-03-08 07:00:00.000000"  # 02:00 EST


def test_an_unknown_zone_has_no_periods() -> None:
    assert offset_periods(["Mars/Olympus"], datetime(2026, 1, 1, tzinfo=UTC),
                          datetime(2026, 1, 2, tzinfo=UTC)) == []
