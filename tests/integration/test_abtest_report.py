"""A/B verdicts read from a real store: intros sent, answers taken in through the real
inbound path, counted as the reply-rate report counts them (issue 5, point 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sequencer.cli.ab_commands import ab_group
from sequencer.clock import FakeClock
from sequencer.errors import InputError
from sequencer.reporting.abtest import ab_verdicts
from sequencer.services.app import App
from sequencer.services.variants import declare_winner
from tests.integration.abtest_store import (  # noqa: F401 (a fixture)
    ab_store_fixture,
    answer,
    cold_copy,
    enroll,
    intros,
    send_intros,
)
from tests.integration.helpers import ROOT

pytestmark = pytest.mark.integration
POSITIVE = "Interested, let's talk next week.\n\nAnn"
AWAY = "I am out of the office until December 1 with no access to email."


def sent(ab_store: tuple[App, FakeClock], tmp_path: Path, count: int = 40
         ) -> dict[str, tuple[str, str, int]]:
    app, clock = ab_store
    enroll(app, cold_copy(tmp_path), tmp_path, "p", count)
    send_intros(app, clock)
    return intros(app)


def arms(verdicts: dict[str, object]) -> dict[str, tuple[int, int, int]]:
    step = verdicts["steps"][0]  # type: ignore[index]
    return {arm["variant"]: (arm["delivered"], arm["replies"]["count"],
                             arm["positive_replies"]["count"]) for arm in step["arms"]}


def test_every_b_prospect_answering_yes_makes_b_the_winner_on_positive_replies(
        ab_store: tuple[App, FakeClock], tmp_path: Path) -> None:
    app, _ = ab_store
    emails = sent(ab_store, tmp_path)
    by_variant = {v: [e for e, (got, _, _) in emails.items() if got == v] for v in "ab"}
    for address in by_variant["b"]:
        answer(app, address, emails[address][1], POSITIVE)
    for address in by_variant["a"][::2]:  # out-of-office answers are not replies
        answer(app, address, emails[address][1], AWAY, auto=True)

    verdicts = ab_verdicts(app, "cold-outbound")

    assert [s["step"] for s in verdicts["steps"]] == ["intro"]
    assert arms(verdicts) == {"a": (len(by_variant["a"]), 0, 0),
                              "b": (len(by_variant["b"]), len(by_variant["b"]),
                                    len(by_variant["b"]))}
    step = verdicts["steps"][0]
    assert (step["status"], step["winner"], step["metric"]) == (
        "winner", "b", "positive_replies")
    assert step["verdict"].startswith("b beats a on positive replies (p < 0.001")
    assert json.loads(json.dumps(verdicts)) == verdicts


def test_without_answers_the_verdict_asks_for_more_data(
        ab_store: tuple[App, FakeClock], tmp_path: Path) -> None:
    app, _ = ab_store
    sent(ab_store, tmp_path, count=20)

    step = ab_verdicts(app, "cold-outbound", step="intro")["steps"][0]

    assert step["status"] == "not_enough_data"
    delivered = min(arm["delivered"] for arm in step["arms"])
    assert step["more_needed_per_arm"] == max(m["needed_per_arm"] for m in step["metrics"]
                                              ) - delivered


def test_a_declared_winner_shows_and_a_new_version_starts_from_nothing(
        ab_store: tuple[App, FakeClock], tmp_path: Path) -> None:
    app, _ = ab_store
    sent(ab_store, tmp_path, count=20)
    declared = declare_winner(app, "cold-outbound", "intro", "b")

    everything = ab_verdicts(app, "cold-outbound")
    newest = ab_verdicts(app, "cold-outbound", version=declared.to_version[:8])

    assert everything["versions"] == [declared.from_version, declared.to_version]
    assert everything["steps"][0]["declared"]["variant"] == "b"
    assert sum(d for d, _, _ in arms(everything).values()) == 20
    assert arms(newest) == {"a": (0, 0, 0), "b": (0, 0, 0)}
    assert {a["variant"]: a["weight"] for a in newest["steps"][0]["arms"]} == {"a": 0, "b": 100}


def test_a_step_or_sequence_without_a_test_is_named_in_the_error(
        ab_store: tuple[App, FakeClock], tmp_path: Path) -> None:
    app, _ = ab_store
    sent(ab_store, tmp_path, count=2)
    with pytest.raises(InputError, match=r"no step 'bump' with variants.*intro"):
        ab_verdicts(app, "cold-outbound", step="bump")
    with pytest.raises(InputError, match="no sequence named 'warm'"):
        ab_verdicts(app, "warm")
    with pytest.raises(InputError, match="'ffff' is not a version"):
        ab_verdicts(app, "cold-outbound", version="ffff")


def test_the_command_prints_the_verdicts_and_declares_a_winner(
        ab_store: tuple[App, FakeClock], tmp_path: Path, database_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    app, _ = ab_store
    emails = sent(ab_store, tmp_path)
    for address, (variant, message_id, _) in emails.items():
        if variant == "b":
            answer(app, address, message_id, POSITIVE)
    monkeypatch.chdir(ROOT)  # where the templates are
    monkeypatch.setenv("SEQUENCER_DATABASE_URL", database_url)
    runner = CliRunner()

    table = runner.invoke(ab_group, ["cold-outbound"])
    as_json = runner.invoke(ab_group, ["cold-outbound", "--step", "intro", "--format", "json"])
    declared = runner.invoke(ab_group, ["declare", "cold-outbound", "intro", "b"])
    refused = runner.invoke(ab_group, ["declare", "cold-outbound", "intro", "z"])

    assert table.exit_code == 0, table.output
    assert "b beats a on positive replies" in table.output
    assert "variant" in table.output and "delivered" in table.output
    assert json.loads(as_json.output)["steps"][0]["winner"] == "b"
    assert declared.exit_code == 0, declared.output
    assert "new enrollments get b" in declared.output
    assert refused.exit_code == 1
    assert "has no variant 'z' (its variants: a, b)" in refused.output
