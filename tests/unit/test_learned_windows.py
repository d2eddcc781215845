"""Learned send windows, purely: the language's opt-in, and what hand-made counts teach.

(issue 5, point 5)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sequencer.definition.model import LearnedWindows, Schedule, Segment, Window
from sequencer.services.learned import local_slot
from sequencer.timing.learned import (
    SlotCounts,
    explores,
    hour_windows,
    learn_windows,
    rank_slots,
    wilson_lower_bound,
)
from sequencer.validation import check_text

ROOT = Path(__file__).resolve().parents[2]
CONFIGURED = (Window(8 * 60, 10 * 60), Window(15 * 60, 16 * 60))
SCHEDULE = Schedule(windows=(CONFIGURED,) * 5 + ((),) * 2)
MON, TUE, WED, SAT = 0, 1, 2, 5
SETTINGS = LearnedWindows(min_sends=300, min_slot_sends=20, hours=1)


def sequence(learned: str) -> str:
    return f"""\
name: learner
schedule:
  windows: {{mon-fri: ["08:00-10:00", "15:00-16:00"]}}
{learned}
steps:
  - {{id: intro, type: email, subject: Hello, template: cold/intro_a.j2}}
"""


def parsed(learned: str) -> Schedule:
    definition, problems = check_text(sequence(learned), "learner.yaml",
                                      templates_root=ROOT / "templates")
    assert definition is not None, problems
    return definition.schedule


def errors(learned: str) -> list[str]:
    _, problems = check_text(sequence(learned), "learner.yaml", templates_root=ROOT / "templates")
    return [f"{p.file}:{p.line}: {p.message}" for p in problems]


def slots(spread: dict[tuple[int, int], tuple[int, int]]) -> dict[tuple[int, int], SlotCounts]:
    return {slot: SlotCounts(sends, replies) for slot, (sends, replies) in spread.items()}


# -- the language ------------------------------------------------------------------
def test_a_sequence_without_learned_windows_keeps_its_configured_windows() -> None:
    assert parsed("").learned is None


def test_learned_windows_opt_in_with_documented_defaults() -> None:
    assert parsed("  learned_windows: {enabled: true}").learned == LearnedWindows(
        Segment.COUNTRY, min_sends=300, min_slot_sends=20, explore=0.2, hours=3)
    assert parsed("  learned_windows: true").learned == LearnedWindows()


def test_learned_windows_that_are_not_enabled_stay_off() -> None:
    assert parsed("  learned_windows: {segment: industry}").learned is None
    assert parsed("  learned_windows: {enabled: false, segment: title}").learned is None


def test_every_learned_windows_setting_is_read() -> None:
    found = parsed("  learned_windows: {enabled: true, segment: industry, min_sends: 50, "
                   "min_slot_sends: 5, explore: 0, hours: 2}").learned
    assert found == LearnedWindows(Segment.INDUSTRY, 50, 5, 0.0, 2)


def test_bad_learned_windows_settings_are_reported_with_their_line() -> None:
    found = errors("  learned_windows:\n    enabled: true\n    segment: city\n"
                   "    min_sends: 0\n    explore: 0.95\n    hours: 25\n    min_slot: 3")
    assert found == [
        "learner.yaml:6: unknown segment 'city' (known: country, industry, title, none)",
        "learner.yaml:7: 'min_sends' must be a whole number of at least 1, not 0",
        "learner.yaml:8: 'explore' is the share of sends kept on the configured windows, "
        "from 0 to 0.9, not 0.95",
        "learner.yaml:9: 'hours' must be between 1 and 24, not 25",
        "learner.yaml:10: unknown key 'min_slot' in learned_windows "
        "(did you mean 'min_slot_sends'?)",
    ]


def test_learned_windows_must_be_a_flag_or_a_mapping() -> None:
    assert errors("  learned_windows: sometimes") == [
        "learner.yaml:4: 'learned_windows' is true, false or a mapping such as "
        "{enabled: true, segment: country}"]


# -- the learning ------------------------------------------------------------------
def test_too_few_sends_keep_the_configured_windows_and_say_how_many_are_needed() -> None:
    counts = slots({(TUE, 11): (100, 30), (MON, 8): (20, 0)})
    learning = learn_windows(counts, SCHEDULE, SETTINGS, segment="FR")
    assert not learning.learned
    assert learning.windows == SCHEDULE.windows
    assert learning.reason.startswith("only 120 sends for FR so far; 300 needed")


def test_enough_sends_open_each_business_day_at_its_best_hour() -> None:
    counts = slots({(TUE, 11): (100, 12), (TUE, 8): (100, 2), (TUE, 15): (100, 3),
                    (MON, 9): (50, 5), (MON, 15): (50, 1)})
    learning = learn_windows(counts, SCHEDULE, SETTINGS, segment="FR")
    assert learning.learned
    assert learning.windows[TUE] == (Window(11 * 60, 12 * 60),)
    assert learning.windows[MON] == (Window(9 * 60, 10 * 60),)
    assert learning.reason.startswith("400 sends and 23 replies for FR")


def test_a_business_day_without_enough_data_keeps_its_configured_windows() -> None:
    counts = slots({(TUE, 11): (300, 30), (WED, 9): (19, 19)})
    learning = learn_windows(counts, SCHEDULE, SETTINGS, segment="FR")
    assert learning.windows[WED] == CONFIGURED
    assert learning.windows[MON] == CONFIGURED
    assert any(note.startswith("wed: no hour with 20 sends") for note in learning.day_notes)


def test_learning_never_opens_a_day_that_is_not_a_business_day() -> None:
    counts = slots({(SAT, 10): (400, 200), (TUE, 11): (40, 4)})
    learning = learn_windows(counts, SCHEDULE, SETTINGS, segment="FR")
    assert learning.windows[SAT] == ()
    assert learning.windows[TUE] == (Window(11 * 60, 12 * 60),)


def test_a_lucky_small_slot_does_not_beat_a_steady_large_one() -> None:
    counts = slots({(TUE, 10): (20, 4), (TUE, 14): (400, 60)})  # 20% of 20 vs 15% of 400
    best = rank_slots(counts, 20)[0]
    assert (best.hour, best.sends) == (14, 400)


def test_slots_below_the_minimum_are_not_ranked() -> None:
    counts = slots({(TUE, 10): (19, 19), (TUE, 14): (20, 1)})
    assert [s.hour for s in rank_slots(counts, 20)] == [14]


def test_adjacent_best_hours_make_one_window() -> None:
    assert hour_windows([16, 9, 10]) == (Window(9 * 60, 11 * 60), Window(16 * 60, 17 * 60))


def test_the_best_hours_per_day_are_as_many_as_asked() -> None:
    counts = slots({(TUE, h): (50, r) for h, r in ((8, 1), (9, 9), (10, 8), (14, 7), (16, 2))})
    settings = LearnedWindows(min_sends=100, min_slot_sends=20, hours=3)
    learning = learn_windows(counts, SCHEDULE, settings, segment="FR")
    assert learning.windows[TUE] == (Window(9 * 60, 11 * 60), Window(14 * 60, 15 * 60))


def test_learning_is_deterministic_on_ties() -> None:
    counts = slots({(TUE, 15): (50, 5), (TUE, 9): (50, 5)})
    settings = LearnedWindows(min_sends=100, min_slot_sends=20, hours=1)
    first = learn_windows(counts, SCHEDULE, settings, segment="FR")
    again = learn_windows(dict(reversed(list(counts.items()))), SCHEDULE, settings,
                          segment="FR")
    assert first == again and first.windows[TUE] == (Window(9 * 60, 10 * 60),)


def test_wilson_lower_bound_is_below_the_rate_and_grows_with_the_sample() -> None:
    assert wilson_lower_bound(0, 0) == 0.0
    small, large = wilson_lower_bound(2, 10), wilson_lower_bound(200, 1000)
    assert 0 < small < large < 0.2


# -- exploring ---------------------------------------------------------------------
@pytest.mark.parametrize("share", [0.0, 0.2, 0.5])
def test_about_the_explore_share_of_enrollments_keeps_the_configured_windows(
    share: float,
) -> None:
    exploring = sum(explores(seed, share) for seed in range(20_000)) / 20_000
    assert exploring == pytest.approx(share, abs=0.01)


def test_the_explore_draw_is_stable_for_an_enrollment() -> None:
    assert [explores(seed, 0.3) for seed in range(50)] == [explores(s, 0.3) for s in range(50)]


# -- from UTC hours to local slots ---------------------------------------------------
@pytest.mark.parametrize("utc_hour,zone,slot", [
    ("2026-11-24 10", "Europe/Paris", (TUE, 11)),  # winter: UTC+1
    ("2026-07-07 09", "Europe/Paris", (TUE, 11)),  # summer: UTC+2
    ("2026-11-24 03", "Asia/Kolkata", (TUE, 9)),  # 08:30-09:30 local: mostly 9
    ("2026-11-24 02", "America/New_York", (MON, 21)),  # the day before, locally
])
def test_a_utc_hour_becomes_the_local_weekday_and_hour(
    utc_hour: str, zone: str, slot: tuple[int, int],
) -> None:
    assert local_slot(utc_hour, zone) == slot
