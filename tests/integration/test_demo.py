"""``sequencer demo``: weeks of the whole product on a virtual clock, through the real store,
executor, file outbox and inbound path (issue 5, point 6), with meetings and deals after
the positive replies, so the funnel has something to show."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from sequencer.cli.main import cli
from sequencer.demo import DemoOptions, DemoWorld, build_world, run_demo
from sequencer.demo.fates import Rates
from sequencer.demo.sales import Chances
from sequencer.reporting.funnel import funnel
from sequencer.reporting.lifecycle import Lifecycle
from sequencer.store.models import Enrollment, Event, Prospect, Suppression
from tests.integration.helpers import ROOT

pytestmark = pytest.mark.integration
SEQUENCES, TEMPLATES = ROOT / "sequences", ROOT / "templates"
# Answers far likelier than in life, so that 40 prospects show every kind.
LIVELY = Rates(hard_bounce=0.08, soft_bounce=0.06, reply=0.12, out_of_office=0.12,
               unsubscribe=0.05)


def demo(out: Path, **options: object) -> Result:
    return CliRunner().invoke(cli, [
        "demo", "--sequences", str(SEQUENCES), "--templates", str(TEMPLATES), "--out", str(out),
        "--start", "2026-11-23T06:00:00Z",
        *[f"--{k}={v}" for k, v in options.items()]])


def test_a_small_demo_runs_three_weeks_and_says_where_everything_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEQUENCER_DATABASE_URL", raising=False)
    out = tmp_path / "demo-out"

    result = demo(out, prospects=40, days=21)

    assert result.exit_code == 0, result.output
    for line in ("sequences valid", "▶ 40 sample prospects", "week 1 (Nov 23)",
                 "week 3 (Dec 07)", "Answers taken in through the inbound path",
                 "Reply rate by sequence and step", "cold-outbound", "intro",
                 f"outbox:   {out / 'outbox'}/", f"database: {out / 'sequencer.db'}",
                 "sequencer status", "sequencer explain ", "sequencer report"):
        assert line in result.output, line
    assert "week 4" not in result.output
    sent = sorted((out / "outbox").glob("*.eml"))
    assert len(sent) > 40  # the intros and the follow-ups
    for path in sent:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        assert message["Message-ID"] and message["To"] and message["List-Unsubscribe"]
        assert message.get_body(preferencelist=("plain",)) is not None
    assert (out / "sequencer.db").exists()
    assert "meetings booked" in result.output and "sequencer funnel" in result.output
    page = (out / "report.html").read_text("utf-8")
    assert '<h2 id="funnel">Funnel</h2>' in page and "The sales funnel" in page
    assert '<h2 id="abtests">A/B tests: verdicts</h2>' in page and "<h4>Step intro</h4>" in page
    assert not (tmp_path / "sequencer.db").exists()  # the user's own store is never touched
    assert not (tmp_path / ".sequencer-secret").exists()


def test_answers_arrive_through_the_inbound_path_and_do_what_each_kind_says(
        tmp_path: Path) -> None:
    world = build_world(DemoOptions(out=tmp_path / "d", prospects=40, days=21, seed=3,
                                    sequences=SEQUENCES, templates=TEMPLATES, rates=LIVELY))
    run = run_demo(world)
    room = run.mailroom

    assert run.mailroom.misread == []  # every answer was read as the kind it was written as
    for kind in ("reply", "auto_reply", "hard_bounce", "soft_bounce", "unsubscribe"):
        assert room.taken_in[kind] > 0, kind
    assert room.effects["auto_reply", "paused"] > 0  # out-of-office pauses
    assert room.effects["soft_bounce", "active"] > 0  # a soft bounce is sent again
    assert len(list((tmp_path / "d" / "inbox").glob("*.eml"))) == sum(room.taken_in.values())
    with world.app.sessions() as session:
        suppressed = set(session.scalars(select(Suppression.value)))
        outcome = {email: (status, reason) for email, status, reason in session.execute(
            select(Prospect.email_key, Enrollment.status, Enrollment.exit_reason)
            .join(Enrollment, Enrollment.prospect_id == Prospect.id))}
    answered = _inbox(tmp_path / "d")
    assert answered
    for (status, reason) in (outcome[e] for e in _addresses(world, "reply", answered)):
        assert status in ("exited", "finished"), (status, reason)
    for email in _addresses(world, "hard_bounce", answered):
        assert email in suppressed and outcome[email] == ("exited", "hard_bounce")
    for email in _addresses(world, "unsubscribe", answered):
        assert email in suppressed
    assert room.effects["reply", "exited"] >= room.taken_in["reply"] - 2  # late ones: finished
    world.app.close()


def test_positive_replies_lead_to_meetings_and_deals_the_funnel_counts(tmp_path: Path
                                                                        ) -> None:
    # Every positive reply books a meeting and every meeting reaches SQL, so that 40
    # prospects show the whole way down.
    certain = Chances(meeting=1.0, qualified=1.0, opportunity=0.7, lost_at_sql=0.0, won=0.6,
                      lost_at_opportunity=0.0)
    world = build_world(DemoOptions(out=tmp_path / "d", prospects=40, days=28, seed=3,
                                    sequences=SEQUENCES, templates=TEMPLATES, rates=LIVELY,
                                    chances=certain))
    run = run_demo(world)
    positive = run.mailroom.moods["positive"]
    assert positive > 0

    with world.app.sessions() as session:
        meetings = session.scalars(select(Event).where(Event.kind == "meeting_booked")).all()
        stages = session.scalars(select(Event).where(Event.kind == "stage_changed")).all()
    # booked within 30 hours of the reply, so only replies in the last day may still wait
    assert 0 < len(meetings) <= positive and run.sales.recorded["meeting"] == len(meetings)
    assert {e.payload["stage"] for e in stages} >= {"SQL", "opportunity"}
    total = funnel(world.app, lifecycle=Lifecycle())["total"]
    rates = {k: (r["numerator"], r["denominator"]) for k, r in total["rates"].items()}
    assert rates["meeting_conversion"][0] > 0
    assert rates["sales_acceptance"][0] > 0  # meetings that reached SQL
    assert rates["close"][1] > 0  # opportunities: the base of the close rate
    assert total["pipeline"]["valued"] > 0 and total["pipeline"]["value"]["USD"] > 0
    world.app.close()


def test_the_same_seed_gives_the_same_run(tmp_path: Path) -> None:
    def figures(folder: str) -> tuple[object, ...]:
        world = build_world(DemoOptions(out=tmp_path / folder, prospects=20, days=7, seed=5,
                                        sequences=SEQUENCES, templates=TEMPLATES,
                                        rates=LIVELY))
        run = run_demo(world)
        world.app.close()
        return (tuple(run.weeks), tuple(sorted(run.mailroom.taken_in.items())),
                tuple(sorted(run.sales.recorded.items())))

    assert figures("a") == figures("b")


def test_a_folder_the_demo_did_not_make_is_refused_not_emptied(tmp_path: Path) -> None:
    precious = tmp_path / "mine" / "notes.txt"
    precious.parent.mkdir()
    precious.write_text("keep me", "utf-8")

    result = demo(precious.parent, prospects=5, days=1)

    assert result.exit_code == 1
    assert "was not made by 'sequencer demo'" in result.output
    assert precious.read_text("utf-8") == "keep me"


def test_a_rerun_starts_from_a_fresh_database(tmp_path: Path) -> None:
    out = tmp_path / "again"
    assert demo(out, prospects=10, days=2).exit_code == 0
    first = {p.name for p in (out / "outbox").glob("*.eml")}

    result = demo(out, prospects=10, days=2)

    assert result.exit_code == 0, result.output
    assert "enrolled: " in result.output and "skipped" not in result.output
    assert {p.name for p in (out / "outbox").glob("*.eml")}  # written again, fresh
    assert len(list((out / "outbox").glob("*.eml"))) == len(first)


def _inbox(out: Path) -> set[tuple[str, str]]:
    """(kind written, outbox file answered) for each answer taken in: the inbox names
    its files KIND-OUTBOXFILE."""
    return {tuple(path.name.split("-", 1)) for path in (out / "inbox").glob("*.eml")}  # type: ignore[misc]


def _addresses(world: DemoWorld, kind: str, answered: set[tuple[str, str]]) -> set[str]:
    """The prospects who sent an answer of ``kind``: the To of the email it answers."""
    outbox = world.outbox
    found = set()
    for written, name in answered:
        if written != kind:
            continue
        message = BytesParser(policy=policy.default).parsebytes((outbox / name).read_bytes())
        found.add(message["To"].addresses[0].addr_spec.lower())
    return found
