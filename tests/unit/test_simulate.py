"""simulate: the real engine on a virtual clock, as a user previews a sequence."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from sequencer.calendars import PUBLIC_HOLIDAYS
from sequencer.cli.main import cli
from sequencer.simulate import Behaviour, Mailbox, simulate
from sequencer.simulate.prospects import synthetic_prospects
from sequencer.simulate.summary import summarize
from sequencer.validation import load_definition

ROOT = Path(__file__).resolve().parents[2]
COLD = ROOT / "sequences" / "cold-outbound.yaml"
START = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday
TOUCH_KEYS = {"prospect_id", "timezone", "step_id", "step_type", "variant", "mailbox", "utc",
              "local"}


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_synthetic_prospects_cover_at_least_twenty_zones_and_several_countries() -> None:
    people = synthetic_prospects(1000, seed=3)
    assert len({p.timezone for p in people}) >= 20
    assert len({p.country for p in people}) >= 8


def test_simulate_writes_every_touch_with_its_utc_and_local_time(tmp_path: Path) -> None:
    out = tmp_path / "touches.json"
    code, output = run_cli("simulate", str(COLD), "--prospects", "200", "--days", "40",
                           "--seed", "5", "--start", "2026-11-23", "--json", str(out))
    assert code == 0, output
    touches = json.loads(out.read_text())
    assert touches and all(set(t) == TOUCH_KEYS for t in touches)
    for touch in touches:
        utc = datetime.fromisoformat(touch["utc"].replace("Z", "+00:00"))
        local = datetime.fromisoformat(touch["local"])
        assert local == utc and local.utcoffset() == utc.astimezone(
            ZoneInfo(touch["timezone"])).utcoffset()
    assert {t["step_type"] for t in touches} >= {"email", "call", "linkedin_connect"}
    assert {t["variant"] for t in touches if t["step_id"] == "intro"} == {"a", "b"}
    assert "touches" in output and "outside 08:00-18:00" in output
    assert "Touches per day" in output and "Touches per week" in output


def test_every_cold_touch_lands_inside_a_local_window_on_a_business_day(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    code, _ = run_cli("simulate", str(COLD), "--prospects", "300", "--days", "60", "--seed",
                      "2", "--start", "2026-12-14", "--json", str(out))
    assert code == 0
    for touch in json.loads(out.read_text()):
        local = datetime.fromisoformat(touch["local"])
        minutes = local.hour * 60 + local.minute
        assert local.weekday() < 5, touch
        assert 480 <= minutes < 600 or 900 <= minutes < 960, touch
        if touch["timezone"].startswith("America/") and touch["timezone"] != "America/Sao_Paulo":
            assert (local.month, local.day) not in {(12, 25), (1, 1)}, touch


def test_the_same_seed_gives_the_same_touches_and_another_seed_does_not(tmp_path: Path) -> None:
    outs = []
    for seed in ("7", "7", "8"):
        out = tmp_path / f"{len(outs)}.json"
        code, _ = run_cli("simulate", str(COLD), "--prospects", "150", "--days", "30",
                          "--seed", seed, "--start", "2026-11-23", "--json", str(out),
                          "--answers", "typical", "--quiet")
        assert code == 0
        outs.append(out.read_text())
    assert outs[0] == outs[1]
    assert outs[0] != outs[2]


def test_daily_caps_are_never_exceeded_and_push_steps_to_a_later_window() -> None:
    definition = load_definition(COLD)
    people = synthetic_prospects(400, seed=1)
    free = simulate(definition, people, start_at=START, days=60, seed=1,
                    calendar=PUBLIC_HOLIDAYS)
    capped = simulate(definition, people, start_at=START, days=60, seed=1,
                      mailboxes=[Mailbox("a@x.example", 40), Mailbox("b@x.example", 40)],
                      calendar=PUBLIC_HOLIDAYS)
    per_day = Counter((t.mailbox, datetime.fromtimestamp(t.at, UTC).date())
                      for t in capped.touches if t.mailbox is not None)
    assert max(per_day.values()) <= 40
    summary = summarize(capped)
    assert summary.capped_days, "a cap this small must push some steps back"
    assert summary.mailbox_days_needed() == -(-summary.emails // 40)
    assert max(t.at for t in capped.touches) > max(t.at for t in free.touches)
    zones = {p.id: ZoneInfo(p.timezone) for p in people}
    for touch in capped.touches:  # pushed sends still go out inside a window, not at midnight
        local = datetime.fromtimestamp(touch.at, zones[people[touch.prospect].id])
        assert 8 <= local.hour < 10 or local.hour == 15


def test_answers_show_as_exits_and_pauses_and_nothing_is_sent_after_an_exit() -> None:
    definition = load_definition(COLD)
    people = synthetic_prospects(1500, seed=4)
    behaviour = Behaviour(reply=0.06, auto_reply=0.05, bounce=0.03, unsubscribe=0.01)
    result = simulate(definition, people, start_at=START, days=60, seed=4,
                      behaviour=behaviour, calendar=PUBLIC_HOLIDAYS)
    assert {"replied", "hard_bounce", "unsubscribed", "finished"} <= set(result.exits)
    assert result.auto_replies > 0
    for touch in result.touches:
        reason, at = result.ended.get(touch.prospect, ("", 1 << 62))
        assert touch.at <= at, (touch, reason)


def test_a_csv_of_prospects_is_used_and_a_bad_row_is_named_by_line(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("email,timezone,country\nann@a.example,Europe/Paris,FR\n"
                    "bob@b.example,,\n", "utf-8")
    out = tmp_path / "t.json"
    code, output = run_cli("simulate", str(COLD), "--prospects", str(good), "--days", "30",
                           "--start", "2026-11-23", "--json", str(out))
    assert code == 0, output
    zones = {t["prospect_id"]: t["timezone"] for t in json.loads(out.read_text())}
    assert zones == {"ann@a.example": "Europe/Paris", "bob@b.example": "America/New_York"}
    bad = tmp_path / "bad.csv"
    bad.write_text("email,timezone\nok@a.example,UTC\n,UTC\nx@b.example,Mars/Base\n", "utf-8")
    code, output = run_cli("simulate", str(COLD), "--prospects", str(bad))
    assert code == 1
    assert f"{bad}:3: row has no id or email" in output
    assert f"{bad}:4: unknown time zone 'Mars/Base'" in output


def test_simulating_an_invalid_sequence_names_its_problems(tmp_path: Path) -> None:
    broken = tmp_path / "s.yaml"
    broken.write_text("name: x\nsteps:\n  - {id: a, type: fax}\n", "utf-8")
    code, output = run_cli("simulate", str(broken), "--prospects", "3")
    assert code == 1
    assert f"{broken}:3:" in output and "unknown step type 'fax'" in output


def test_a_summary_json_gives_the_capacity_figures(tmp_path: Path) -> None:
    summary = tmp_path / "s.json"
    code, _ = run_cli("simulate", str(COLD), "--prospects", "300", "--days", "45", "--start",
                      "2026-11-23", "--mailbox", "ana@x.example:30", "--mailbox",
                      "ben@x.example:30", "--summary-json", str(summary), "--quiet")
    assert code == 0
    figures = json.loads(summary.read_text())
    assert figures["mailbox_days_needed"] == -(-figures["emails"] // 30)
    assert figures["days_caps_pushed_back"]
    assert figures["share_outside_08_18_local"] == 0
    assert [m["address"] for m in figures["mailboxes"]] == ["ana@x.example", "ben@x.example"]


@pytest.mark.parametrize("bad", ["--mailbox=a@x.example:lots", "--start=yesterday"])
def test_bad_options_get_a_clear_error(bad: str) -> None:
    code, output = run_cli("simulate", str(COLD), bad)
    assert code == 2 and ("--mailbox" in output or "--start" in output)

