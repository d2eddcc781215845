"""Lifecycle stages as the team names them, and stage velocity, on plain data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sequencer.errors import InputError
from sequencer.reporting.lifecycle import (
    Lifecycle,
    StageChange,
    load_lifecycle,
    parse_lifecycle,
    velocity,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(days: float) -> datetime:
    return START + timedelta(days=days)


def test_the_default_ladder_runs_from_lead_to_customer() -> None:
    lifecycle = Lifecycle()
    assert lifecycle.known == ("lead", "MQL", "SRL", "SQL", "opportunity", "customer", "lost")
    assert lifecycle.resolve(" sql ") == "SQL"
    assert lifecycle.in_pipeline("SQL") and lifecycle.in_pipeline("opportunity")
    assert not any(lifecycle.in_pipeline(s) for s in ("MQL", "customer", "lost", None))


def test_an_unknown_stage_is_refused_with_the_known_ones_listed() -> None:
    with pytest.raises(InputError, match=r"'champion'.*lead, MQL, SRL, SQL, opportunity, "
                                         r"customer, lost"):
        Lifecycle().resolve("champion")


def test_a_lifecycle_file_renames_the_stages_and_the_rungs() -> None:
    lifecycle = parse_lifecycle("stages: [new, working, qualified, proposal, won]\n"
                                "qualified: qualified\nopportunity: proposal\nwon: won\n"
                                "lost: [dead, churned]\ncurrency: EUR\nsource_field: channel\n")
    assert lifecycle.resolve("DEAD") == "dead"
    assert lifecycle.in_pipeline("proposal") and not lifecycle.in_pipeline("working")
    assert lifecycle.reached("won", lifecycle.opportunity)
    assert (lifecycle.currency, lifecycle.source_field) == ("EUR", "channel")


def test_a_bad_lifecycle_file_lists_every_problem() -> None:
    with pytest.raises(InputError) as caught:
        parse_lifecycle("stages: [a, b, A]\nqualified: z\ncolour: red\n", where="lc.yaml")
    message = str(caught.value)
    assert message.startswith("lc.yaml: ") and "unknown key 'colour'" in message
    with pytest.raises(InputError, match="named twice"):
        parse_lifecycle("stages: [a, b, A]\nqualified: a\nopportunity: a\nwon: b\n")
    with pytest.raises(InputError, match="order qualified, opportunity, won"):
        parse_lifecycle("stages: [a, b, c]\nqualified: c\nopportunity: b\nwon: c\n")
    with pytest.raises(InputError, match="qualified: 'z' is not one of the stages"):
        parse_lifecycle("stages: [a, b]\nqualified: z\nopportunity: a\nwon: b\n")


def test_the_lifecycle_comes_from_the_variable_then_the_working_directory(
    tmp_path: Path
) -> None:
    assert load_lifecycle({}, tmp_path) == Lifecycle()
    (tmp_path / "lifecycle.yaml").write_text("lost: [gone]\n", "utf-8")
    assert load_lifecycle({}, tmp_path).lost == ("gone",)
    named = tmp_path / "team.yaml"
    named.write_text("lost: [dropped]\n", "utf-8")
    assert load_lifecycle({"SEQUENCER_LIFECYCLE": str(named)}, tmp_path).lost == ("dropped",)
    with pytest.raises(InputError, match="not a file"):
        load_lifecycle({"SEQUENCER_LIFECYCLE": str(tmp_path / "missing.yaml")}, tmp_path)


def test_velocity_is_the_median_stay_and_a_repeated_stage_does_not_restart_it() -> None:
    changes = [StageChange(1, "MQL", at(0)), StageChange(1, "MQL", at(3)),
               StageChange(1, "SQL", at(4)), StageChange(1, "opportunity", at(10)),
               StageChange(2, "MQL", at(1)), StageChange(2, "SQL", at(3)),
               StageChange(3, "SQL", at(2)), StageChange(3, "lost", at(5))]
    found = {v.stage: v for v in velocity(changes, Lifecycle())}
    assert (found["MQL"].median_days, found["MQL"].stays) == (3.0, 2)  # 4 days and 2 days
    assert (found["SQL"].median_days, found["SQL"].stays, found["SQL"].current) == (4.5, 2, 1)
    assert (found["opportunity"].current, found["lost"].current) == (1, 1)
    assert found["customer"].median_days is None
    later = {v.stage: v for v in velocity(changes, Lifecycle(), since=at(2))}
    assert later["MQL"].stays == 0 and later["SQL"].stays == 2
