"""`sequencer report` in each format, `sequencer record reply`, and the rollup kept
up to date between reports, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from sequencer.cli.report_commands import record_reply_command, report_command
from sequencer.reporting.rules import Rules
from sequencer.store.db import make_engine
from sequencer.store.models import Event
from tests.integration.test_reporting import HOUR, T0, World


@pytest.fixture
def world(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
          ) -> Iterator[World]:
    monkeypatch.setenv("SEQUENCER_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    engine = make_engine(database_url)
    yield World(engine)
    engine.dispose()


def populate(world: World, people: int = 80) -> None:
    """Two variants of an intro and a bump; a reply from every fourth person."""
    for n in range(people):
        email = f"p{n}@a{n % 7}.test"
        e = world.enroll(email, zone="Europe/Paris" if n % 2 else "America/New_York",
                         industry="saas" if n % 3 else "retail")
        world.send(e, "intro", T0 + n * HOUR, variant="a" if n % 2 else "b")
        world.send(e, "bump", T0 + (48 + n) * HOUR)
        if n % 4 == 0:
            world.event("reply", email, T0 + (50 + n) * HOUR,
                        reply_text="Sure, let's talk" if n % 8 == 0 else "not interested")


def invoke(*args: str) -> str:
    result = CliRunner().invoke(report_command, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_table_shows_rates_with_intervals_and_the_total(world: World) -> None:
    populate(world)
    out = invoke("--by", "variant")
    assert "reply rate [95% CI]" in out
    assert "25.0% [16.8–35.5]" in out  # 20 of 80 in the total
    assert "all" in out and "intro" in out and "bump" in out


def test_json_carries_counts_rates_and_intervals(world: World) -> None:
    populate(world)
    data = json.loads(invoke("--by", "step", "--format", "json"))
    assert data["keys"] == ["sequence", "step"]
    total = data["total"]
    assert total["counts"]["prospects_delivered"] == 80
    assert total["rates"]["reply"]["numerator"] == 20
    low, high = total["rates"]["reply"]["ci95"]
    assert low < 0.25 < high
    assert total["rates"]["positive_reply"]["numerator"] == 10
    assert total["rates"]["open"] is None  # the sequence tracks no opens
    bump = next(r for r in data["rows"] if r["key"]["step"] == "bump")
    assert bump["counts"]["replied"] == 20


def test_csv_has_one_row_per_slice_and_a_total(world: World) -> None:
    populate(world)
    rows = list(csv.DictReader(io.StringIO(invoke("--by", "variant", "--format", "csv"))))
    assert [r["row"] for r in rows] == ["slice", "slice", "slice", "total"]
    small = next(r for r in rows if r["variant"] == "a" and r["step"] == "intro")
    assert small["prospects_delivered"] == "40"
    assert rows[-1]["reply_too_small"] == "no"


def test_a_small_base_says_so_in_every_format(world: World) -> None:
    populate(world, people=10)
    assert "too small a base" in invoke("--by", "step")
    data = json.loads(invoke("--format", "json"))
    assert data["total"]["rates"]["reply"]["note"] == "too small a base"


def test_html_is_one_self_contained_page(world: World, tmp_path: Path) -> None:
    populate(world)
    target = tmp_path / "report.html"
    result = CliRunner().invoke(report_command, ["--format", "html", "--output", str(target),
                                                 "--by", "segment:industry"])
    assert result.exit_code == 0, result.output
    page = target.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert page.count("<svg") >= 3
    for heading in ("The headline figures", "Reply rate by step", "Reply rate by variant",
                    "local day and hour", "Your breakdown", "How these figures are counted"):
        assert heading in page
    assert "<table>" in page and "95% interval" in page


def test_since_and_sequence_filters(world: World) -> None:
    populate(world, people=40)
    data = json.loads(invoke("--since", "2026-03-04", "--format", "json"))
    # 2026-03-04 00:00 UTC is T0 + 34 h: the intros of p34..p39, and every bump.
    assert data["total"]["counts"]["emails_sent"] == 6 + 40
    assert json.loads(invoke("--sequence", "other", "--format", "json"))["rows"] == []


def test_an_unknown_dimension_is_an_error(world: World) -> None:
    result = CliRunner().invoke(report_command, ["--by", "colour"])
    assert result.exit_code != 0
    assert "choose from" in result.output


def test_a_reps_mark_overrides_the_rules_and_is_idempotent(world: World) -> None:
    populate(world, people=8)  # p0 said "let's talk", p4 "not interested"
    assert json.loads(invoke("--format", "json"))["total"]["counts"]["positive"] == 1
    runner = CliRunner()
    first = runner.invoke(record_reply_command, ["p4@a4.test", "positive", "--note", "called"])
    assert first.exit_code == 0 and "marked positive" in first.output
    again = runner.invoke(record_reply_command, ["p4@a4.test", "positive", "--note", "called"])
    assert "already marked positive" in again.output
    assert json.loads(invoke("--format", "json"))["total"]["counts"]["positive"] == 2
    with world.engine.connect() as connection:
        marks = connection.scalars(select(Event.payload).where(
            Event.kind == "reply_marked")).all()
    assert len(marks) == 1 and marks[0]["verdict"] == "positive"
    missing = runner.invoke(record_reply_command, ["nobody@x.test", "negative"])
    assert missing.exit_code == 1 and "no prospect" in missing.output


def test_the_rollup_follows_new_sends_events_and_rules(world: World) -> None:
    e = world.enroll("pat@a.test")
    first = world.send(e, "intro", T0 + 100 * HOUR)
    assert world.report().total.emails_sent == 1
    # An email recorded late, with a send time well before the rollup's latest.
    late = world.enroll("sam@a.test")
    world.send(late, "intro", T0)
    world.event("reply", "sam@a.test", T0 + HOUR, reply_text="gerne")
    total = world.report().total
    assert (total.emails_sent, total.replied, total.positive) == (2, 1, 1)
    world.event("hard_bounce", "pat@a.test", T0 + 101 * HOUR, message_id=first)
    assert world.report().total.emails_bounced == 1
    fewer = Rules(positive=(), negative=("gerne",), source="test")
    with world.engine.connect() as connection:
        from sequencer.reporting.report import build_report

        again = build_report(connection, (), rules=fewer, now=T0 + timedelta(days=9))
    assert (again.total.positive, again.total.negative) == (0, 1)


def test_a_funnel_section_joins_the_page_through_one_function(
        world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import sys
    import types

    fake = types.ModuleType("sequencer.reporting.funnel")
    seen: list[object] = []

    def html_section(app: object, *, sequence: str | None, since: object) -> str:
        seen.append(sequence)
        return "<h3>From enrolled to won</h3><p>the funnel</p>"

    fake.html_section = html_section  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sequencer.reporting.funnel", fake)
    populate(world, people=8)
    page = invoke("--format", "html", "--sequence", "cold")
    assert seen == ["cold"]
    assert '<h2 id="funnel">Funnel</h2><h3>From enrolled to won</h3>' in page
    assert '<a href="#funnel">Funnel</a>' in page
