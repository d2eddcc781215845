"""Stage velocity per group (by sequence, by prospect source) on plain data, with the
medians worked out by hand.

The history, in days after START (every enrollment started at START):

  p1  cold     webinar  SQL d0, opportunity d4, customer d10  -> SQL 4, opportunity 6
  p2  cold     list     SQL d1, opportunity d3                -> SQL 2, in opportunity now
  p3  cold     webinar  SQL d2, opportunity d8, lost d9       -> SQL 6, opportunity 1
  p4  nurture  webinar  SQL d0, opportunity d10               -> SQL 10, in opportunity now
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sequencer.reporting.funnel import Fact, Facts, Run, compute
from sequencer.reporting.lifecycle import Lifecycle

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CHANGES = {1: (("SQL", 0), ("opportunity", 4), ("customer", 10)),
           2: (("SQL", 1), ("opportunity", 3)),
           3: (("SQL", 2), ("opportunity", 8), ("lost", 9)),
           4: (("SQL", 0), ("opportunity", 10))}


def at(days: float) -> datetime:
    return START + timedelta(days=days)


def facts(extra: tuple[Fact, ...] = (), runs: dict[int, Run] | None = None) -> Facts:
    runs = runs or {1: Run(1, "cold", START), 2: Run(2, "cold", START),
                    3: Run(3, "cold", START), 4: Run(4, "nurture", START)}
    changes = [Fact("stage_changed", pid, eid, at(day), stage=stage)
               for eid, pid in ((e, r.prospect_id) for e, r in runs.items())
               for stage, day in CHANGES.get(pid, ())]
    return Facts(runs, {1: "webinar", 2: "list", 3: "webinar", 4: "webinar", 5: "list"},
                 {pid: changes[-1][0] for pid, changes in CHANGES.items()},
                 [*changes, *extra])


def stays(group: dict[str, Any]) -> dict[str, tuple[float | None, int, int]]:
    """stage -> (median days, stays measured, in it now), for the stages with any."""
    return {v["stage"]: (v["median_days"], v["stays"], v["current"])
            for v in group["velocity"] if v["stays"] or v["current"]}


def by_group(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["group"]: g for g in data["groups"]}


def test_each_sequence_has_its_own_median_stay_in_each_stage() -> None:
    data = compute(facts(), Lifecycle(), by="sequence")
    groups = by_group(data)
    # cold: SQL stays 4, 2, 6 -> 4; opportunity stays 6, 1 -> 3.5, p2 still in it
    assert stays(groups["cold"]) == {"SQL": (4.0, 3, 0), "opportunity": (3.5, 2, 1),
                                     "customer": (None, 0, 1), "lost": (None, 0, 1)}
    assert stays(groups["nurture"]) == {"SQL": (10.0, 1, 0), "opportunity": (None, 0, 1)}
    # all: SQL stays 2, 4, 6, 10 -> 5 (the mean of the middle two)
    assert stays(data["total"]) == {"SQL": (5.0, 4, 0), "opportunity": (3.5, 2, 2),
                                    "customer": (None, 0, 1), "lost": (None, 0, 1)}
    assert data["velocity"] == data["total"]["velocity"]  # the top level is the total's


def test_each_source_has_its_own_median_stay() -> None:
    groups = by_group(compute(facts(), Lifecycle(), by="source"))
    # webinar (p1, p3, p4): SQL stays 4, 6, 10 -> 6; opportunity 6, 1 -> 3.5
    assert stays(groups["webinar"]) == {"SQL": (6.0, 3, 0), "opportunity": (3.5, 2, 1),
                                        "customer": (None, 0, 1), "lost": (None, 0, 1)}
    assert stays(groups["list"]) == {"SQL": (2.0, 1, 0), "opportunity": (None, 0, 1)}


def test_every_stage_of_the_ladder_is_listed_for_every_group_in_order() -> None:
    data = compute(facts(), Lifecycle(), by="sequence")
    for group in [*data["groups"], data["total"]]:
        assert [v["stage"] for v in group["velocity"]] == list(Lifecycle().known)
    lead = by_group(data)["nurture"]["velocity"][0]
    assert lead == {"stage": "lead", "median_days": None, "stays": 0, "current": 0}


def test_stays_go_to_the_sequence_credited_with_the_journey() -> None:
    # p5 replied to the cold sequence on day 1, then moved to nurture on day 5, where
    # they reached SQL (day 6) and opportunity (day 9): the journey, stays included, is
    # the cold sequence's.
    runs = {1: Run(1, "cold", START), 4: Run(4, "nurture", START), 5: Run(5, "cold", START),
            6: Run(5, "nurture", at(5))}
    extra = (Fact("reply", 5, 5, at(1)), Fact("stage_changed", 5, 6, at(6), stage="SQL"),
             Fact("stage_changed", 5, 6, at(9), stage="opportunity"))
    groups = by_group(compute(facts(extra, runs), Lifecycle(), by="sequence"))
    # cold: p1's SQL 4 and p5's SQL 3 -> 3.5; opportunity: p1's 6, p5 still in it
    assert stays(groups["cold"])["SQL"] == (3.5, 2, 0)
    assert stays(groups["cold"])["opportunity"] == (6.0, 1, 1)
    assert stays(groups["nurture"])["SQL"] == (10.0, 1, 0)  # p4's alone


def test_one_sequence_only_and_since_leave_the_rest_out() -> None:
    data = compute(facts(), Lifecycle(), by="sequence", sequence="cold", since=at(1))
    assert [g["group"] for g in data["groups"]] == ["cold"]
    # since day 1: p1's SQL stay (began day 0) is out; SQL stays 2 and 6 -> 4
    assert stays(data["total"])["SQL"] == (4.0, 2, 0)
    assert stays(data["total"])["opportunity"] == (3.5, 2, 1)
