"""The sales funnel on a hand-built history: calls with outcomes, emails delivered and
bounced, replies, meetings and stage changes at controlled times (issue 5, point 4).

The history, in days after the enrollments started (Monday, day 0):

cold-outbound
  ann (webinar)  delivered; call connected d1; meeting d2; SQL d5 (10,000 USD);
                 opportunity d9; customer d20
  bob (webinar)  delivered; call no answer d1, connected d3; positive reply d4;
                 meeting d6; MQL d7
  cat (list)     delivered; voicemail d1; a call skipped d2; a reply, not positive, d2
  dan (list)     the email bounced; meeting d3 (no conversation before it);
                 SQL d4; opportunity d10 (5,000 EUR)
  gus (webinar)  delivered; SQL d6 (7,000, the default currency)
re-engagement
  eve (list)     delivered; positive reply d1; meeting d2; SQL d3 (2,000);
                 opportunity d8 (3,000); lost d15
  fay (no source) delivered; call connected d1
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from sequencer.cli.funnel_commands import funnel_command
from sequencer.cli.run_commands import record_group
from sequencer.errors import InputError
from sequencer.reporting.funnel import funnel
from sequencer.reporting.lifecycle import Lifecycle
from sequencer.services.actions import record_meeting, record_stage
from sequencer.services.app import App
from sequencer.services.enroll import enroll_csv
from sequencer.services.mailboxes import add_mailbox
from sequencer.store.models import Enrollment, Event, Message, Prospect, StepRun, Task
from tests.integration.helpers import COLD, MONDAY, ROOT, make_app, write_csv

pytestmark = pytest.mark.integration
REENGAGE = ROOT / "sequences" / "re-engagement.yaml"
HEADER = "email,first_name,company,timezone,country,source"
SENDER = "ana@sender.example"
_keys = count(1)


def day(n: float) -> datetime:
    return MONDAY + timedelta(days=n)


def enrollment_of(app: App, address: str) -> Enrollment:
    with app.sessions() as session:
        return session.scalars(select(Enrollment).join(
            Prospect, Prospect.id == Enrollment.prospect_id).where(
            Prospect.email_key == address)).one()


def call(app: App, address: str, outcome: str, at: datetime) -> None:
    """A call task the rep completed with ``outcome`` at ``at``."""
    row = enrollment_of(app, address)
    with app.sessions.begin() as session:
        run = StepRun(enrollment_id=row.id, step_id=f"call-{next(_keys)}", kind="call",
                      state="task_created", claimed_at=at, finished_at=at)
        session.add(run)
        session.flush()
        skipped = outcome == "skipped"
        session.add(Task(step_run_id=run.id, enrollment_id=row.id, kind="call",
                         step_id=run.step_id, due_at=at, state="skipped" if skipped else "done",
                         outcome=outcome, completed_at=at))


def email(app: App, address: str, at: datetime, status: str = "sent") -> None:
    """An email sent at ``at``; a ``bounced`` one has its hard bounce recorded too."""
    row = enrollment_of(app, address)
    with app.sessions.begin() as session:
        run = StepRun(enrollment_id=row.id, step_id=f"mail-{next(_keys)}", kind="email",
                      state="sent", claimed_at=at, finished_at=at)
        session.add(run)
        session.flush()
        message_id = f"<m{run.id}@sender.example>"
        session.add(Message(step_run_id=run.id, enrollment_id=row.id, mailbox_id=row.mailbox_id,
                            message_id=message_id, to_address=address, subject="hello",
                            text_body="hello", status=status, sent_at=at))
        if status == "bounced":
            session.add(Event(kind="hard_bounce", source_key=f"mail:<b{run.id}@x>",
                              prospect_id=row.prospect_id, message_id=message_id,
                              occurred_at=at + timedelta(minutes=5)))


def reply(app: App, address: str, at: datetime, text: str) -> None:
    """A human reply taken in through the inbound path (its own text in the payload)."""
    row = enrollment_of(app, address)
    with app.sessions.begin() as session:
        session.add(Event(kind="reply", source_key=f"mail:<r{next(_keys)}@x>",
                          prospect_id=row.prospect_id, enrollment_id=row.id, occurred_at=at,
                          payload={"reply_text": text}))


def history(database_url: str, tmp_path: Path) -> App:
    app, clock = make_app(database_url)
    add_mailbox(app, SENDER, transport=f"file://{tmp_path / 'outbox'}", daily_cap=100)
    rows = [f"{name}@{company}.example,{name.title()},{company.title()},America/New_York,US,"
            f"{source}" for name, company, source in (
                ("ann", "acme", "webinar"), ("bob", "globex", "webinar"),
                ("cat", "initech", "list"), ("dan", "hooli", "list"),
                ("gus", "umbrella", "webinar"))]
    enroll_csv(app, COLD, write_csv(tmp_path / "cold.csv", HEADER, *rows), mailbox=SENDER)
    enroll_csv(app, REENGAGE, write_csv(tmp_path / "re.csv", HEADER,
                                        "eve@stark.example,Eve,Stark,America/New_York,US,list",
                                        "fay@wayne.example,Fay,Wayne,America/New_York,US,"),
               mailbox=SENDER)
    for name in ("ann", "bob", "cat", "gus", "eve", "fay"):
        email(app, _address(name), day(0.1))
    email(app, _address("dan"), day(0.1), status="bounced")
    call(app, _address("ann"), "connected", day(1))
    call(app, _address("bob"), "no_answer", day(1))
    call(app, _address("bob"), "connected", day(3))
    call(app, _address("cat"), "voicemail", day(1))
    call(app, _address("cat"), "skipped", day(2))
    call(app, _address("fay"), "connected", day(1))
    reply(app, _address("bob"), day(4), "Sounds good, let's talk next week.")
    reply(app, _address("cat"), day(2), "We already use something like this, thanks.")
    reply(app, _address("eve"), day(1), "Yes, interested. Send me some times.")
    clock.set(day(30))
    for name, when in (("ann", 2), ("bob", 6), ("dan", 3), ("eve", 2)):
        record_meeting(app, _address(name), at=day(when))
    for name, stage, when, value, currency in (
            ("ann", "SQL", 5, 10000, None), ("ann", "opportunity", 9, None, None),
            ("ann", "customer", 20, None, None), ("bob", "MQL", 7, None, None),
            ("dan", "SQL", 4, None, None), ("dan", "opportunity", 10, 5000, "eur"),
            ("gus", "SQL", 6, 7000, None), ("eve", "SQL", 3, 2000, None),
            ("eve", "opportunity", 8, 3000, None), ("eve", "lost", 15, None, None)):
        record_stage(app, _address(name), stage, at=day(when), currency=currency,
                     value=None if value is None else float(value), lifecycle=Lifecycle())
    return app


def _address(name: str) -> str:
    return {"ann": "ann@acme.example", "bob": "bob@globex.example",
            "cat": "cat@initech.example", "dan": "dan@hooli.example",
            "gus": "gus@umbrella.example", "eve": "eve@stark.example",
            "fay": "fay@wayne.example"}[name]


def counts(group: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {name: (r["numerator"], r["denominator"]) for name, r in group["rates"].items()}


def by_group(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["group"]: g for g in data["groups"]}


def test_each_rate_counts_what_it_says_by_sequence(database_url: str, tmp_path: Path) -> None:
    app = history(database_url, tmp_path)
    data = funnel(app, lifecycle=Lifecycle())
    groups = by_group(data)
    assert counts(groups["cold-outbound"]) == {
        "dial_connect": (2, 4),  # the skipped call is no call made
        "positive_reply": (1, 4),  # dan's only email bounced: not delivered
        "meeting_conversion": (2, 3),  # dan's meeting came with no conversation before it
        "sales_acceptance": (2, 3),  # bob stopped at MQL
        "close": (1, 2)}
    assert counts(groups["re-engagement"]) == {
        "dial_connect": (1, 1), "positive_reply": (1, 2), "meeting_conversion": (1, 2),
        "sales_acceptance": (1, 1), "close": (0, 1)}
    assert counts(data["total"]) == {
        "dial_connect": (3, 5), "positive_reply": (2, 6), "meeting_conversion": (3, 5),
        "sales_acceptance": (3, 4), "close": (1, 3)}
    connect = groups["cold-outbound"]["rates"]["dial_connect"]
    low, high = connect["ci95"]
    assert connect["rate"] == 0.5 and 0.1 < low < 0.5 < high < 0.9 and connect["too_small"]
    app.close()


def test_the_same_history_by_source_and_for_one_sequence(database_url: str, tmp_path: Path
                                                         ) -> None:
    app = history(database_url, tmp_path)
    groups = by_group(funnel(app, by="source", lifecycle=Lifecycle()))
    assert set(groups) == {"webinar", "list", "(no source)"}
    assert counts(groups["webinar"]) == {
        "dial_connect": (2, 3), "positive_reply": (1, 3), "meeting_conversion": (2, 2),
        "sales_acceptance": (1, 2), "close": (1, 1)}
    assert counts(groups["list"]) == {
        "dial_connect": (0, 1), "positive_reply": (1, 2), "meeting_conversion": (1, 2),
        "sales_acceptance": (2, 2), "close": (0, 2)}
    only = funnel(app, by="source", sequence="re-engagement", lifecycle=Lifecycle())
    assert {g["group"]: counts(g)["positive_reply"] for g in only["groups"]} == {
        "list": (1, 1), "(no source)": (0, 1)}
    app.close()


def test_stage_velocity_is_the_median_stay_between_changes(database_url: str, tmp_path: Path
                                                          ) -> None:
    app = history(database_url, tmp_path)
    velocity = {v["stage"]: v for v in funnel(app, lifecycle=Lifecycle())["velocity"]}
    assert velocity["SQL"] == {"stage": "SQL", "median_days": 5.0, "stays": 3, "current": 1}
    assert velocity["opportunity"] == {"stage": "opportunity", "median_days": 9.0, "stays": 2,
                                       "current": 1}
    assert (velocity["customer"]["current"], velocity["lost"]["current"]) == (1, 1)
    assert velocity["lead"] == {"stage": "lead", "median_days": None, "stays": 0, "current": 0}
    app.close()


def test_the_qualified_pipeline_is_open_deals_with_their_latest_values(
    database_url: str, tmp_path: Path
) -> None:
    app = history(database_url, tmp_path)
    data = funnel(app, lifecycle=Lifecycle())
    # dan (opportunity, 5,000 EUR) and gus (SQL, 7,000 USD); ann won, eve lost, bob is MQL
    assert data["total"]["pipeline"] == {"count": 2, "valued": 2,
                                         "value": {"EUR": 5000.0, "USD": 7000.0}}
    assert by_group(data)["re-engagement"]["pipeline"]["count"] == 0
    steps = {s["name"]: s["count"] for s in data["total"]["steps"]}
    assert steps == {"prospects": 7, "conversations": 5, "meetings": 4, "qualified": 4,
                     "opportunities": 3, "won": 1}
    app.close()


def test_a_stage_change_stores_its_stage_the_one_before_and_its_value(
    database_url: str, tmp_path: Path
) -> None:
    app = history(database_url, tmp_path)
    with app.sessions() as session:
        payloads = [e.payload for e in session.scalars(select(Event).where(
            Event.kind == "stage_changed").order_by(Event.occurred_at))
            if e.payload["prospect"] == "eve@stark.example"]
        eve = session.scalars(select(Prospect).where(Prospect.email_key == _address("eve"))).one()
    assert [(p["from_stage"], p["stage"], p["value"]) for p in payloads] == [
        (None, "SQL", 2000), ("SQL", "opportunity", 3000), ("opportunity", "lost", None)]
    assert payloads[0]["currency"] == "USD" and eve.stage == "lost"
    app.close()


def test_a_back_dated_stage_keeps_the_later_one_current(database_url: str, tmp_path: Path
                                                       ) -> None:
    app = history(database_url, tmp_path)
    done = record_stage(app, _address("gus"), "mql", at=day(2), lifecycle=Lifecycle())
    assert (done.from_stage, done.stage) == (None, "SQL")  # 'mql' is spelled as configured
    velocity = {v["stage"]: v for v in funnel(app, lifecycle=Lifecycle())["velocity"]}
    # gus's MQL lasted until his SQL on day 6; bob's is still running
    assert velocity["MQL"] == {"stage": "MQL", "median_days": 4.0, "stays": 1, "current": 1}
    app.close()


def test_unknown_stages_and_future_times_are_refused(database_url: str, tmp_path: Path) -> None:
    app = history(database_url, tmp_path)
    with pytest.raises(InputError, match="lead, MQL, SRL, SQL, opportunity, customer, lost"):
        record_stage(app, _address("ann"), "champion", lifecycle=Lifecycle())
    with pytest.raises(InputError, match="future"):
        record_meeting(app, _address("ann"), at=day(31))
    with pytest.raises(InputError, match="no prospect"):
        record_meeting(app, "nobody@nowhere.example")
    app.close()


def test_stage_names_come_from_lifecycle_yaml(database_url: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    app = history(database_url, tmp_path)
    (tmp_path / "lifecycle.yaml").write_text(
        "stages: [new, engaged, qualified, proposal, signed]\n"
        "qualified: qualified\nopportunity: proposal\nwon: signed\nlost: [gone]\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEQUENCER_LIFECYCLE", raising=False)
    with pytest.raises(InputError, match="new, engaged, qualified, proposal, signed, gone"):
        record_stage(app, _address("cat"), "SQL")
    record_stage(app, _address("cat"), "Proposal", value=900)
    data = funnel(app)
    assert data["lifecycle"]["stages"][-1] == "signed"
    cold = by_group(data)["cold-outbound"]
    assert counts(cold)["close"] == (0, 1)  # cat is the one at 'proposal'; SQL is no stage here
    assert cold["pipeline"] == {"count": 1, "valued": 1, "value": {"USD": 900.0}}
    app.close()


def test_the_cli_records_stages_and_prints_the_funnel(database_url: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    start = datetime.fromisoformat("2024-01-08T12:00:00+00:00")  # before any real 'now'
    app, _ = make_app(database_url, start)
    add_mailbox(app, SENDER, transport=f"file://{tmp_path / 'outbox'}", daily_cap=100)
    enroll_csv(app, COLD, write_csv(tmp_path / "p.csv", HEADER,
                                    "ann@acme.example,Ann,Acme,America/New_York,US,webinar"),
               mailbox=SENDER)
    app.close()
    monkeypatch.setenv("SEQUENCER_DATABASE_URL", database_url)
    monkeypatch.delenv("SEQUENCER_LIFECYCLE", raising=False)
    monkeypatch.chdir(ROOT)  # where the templates are, and no lifecycle.yaml: the defaults
    runner = CliRunner()
    meeting = runner.invoke(record_group, ["meeting", "ann@acme.example",
                                           "--at", "2024-01-09T15:00"])
    assert meeting.exit_code == 0, meeting.output
    assert "cold-outbound: exited" in meeting.output
    stage = runner.invoke(record_group, ["stage", "ann@acme.example", "sql", "--value", "12500",
                                         "--currency", "EUR", "--at", "2024-01-12"])
    assert stage.exit_code == 0, stage.output
    assert "(no stage) -> SQL" in stage.output
    refused = runner.invoke(record_group, ["stage", "ann@acme.example", "champion"])
    assert refused.exit_code == 1 and "the stages are lead, MQL" in refused.output
    shown = runner.invoke(funnel_command, ["--by", "source", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["groups"][0]["group"] == "webinar"
    assert data["groups"][0]["pipeline"]["value"] == {"EUR": 12500.0}
    assert counts(data["groups"][0])["sales_acceptance"] == (1, 1)
    table = runner.invoke(funnel_command, [])
    assert table.exit_code == 0 and "cold-outbound" in table.output
    assert "1/1 100%" in table.output


def test_velocity_per_sequence_in_json_csv_and_the_table(database_url: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    history(database_url, tmp_path).close()
    monkeypatch.setenv("SEQUENCER_DATABASE_URL", database_url)
    monkeypatch.delenv("SEQUENCER_LIFECYCLE", raising=False)
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    data = json.loads(runner.invoke(funnel_command, ["--format", "json"]).output)
    cold = {v["stage"]: v for v in by_group(data)["cold-outbound"]["velocity"]}
    # cold: ann SQL d5-d9 (4), dan SQL d4-d10 (6), gus still at SQL; ann opportunity 11
    assert cold["SQL"] == {"stage": "SQL", "median_days": 5.0, "stays": 2, "current": 1}
    assert cold["opportunity"] == {"stage": "opportunity", "median_days": 11.0, "stays": 1,
                                   "current": 1}
    re = {v["stage"]: v for v in by_group(data)["re-engagement"]["velocity"]}
    assert (re["SQL"]["median_days"], re["opportunity"]["median_days"]) == (5.0, 7.0)

    shown = runner.invoke(funnel_command, ["--format", "csv"])
    assert shown.exit_code == 0, shown.output
    rows = list(csv.DictReader(io.StringIO(shown.output)))
    stays = {(r["group"], r["name"]): (r["median_days"], r["stays"], r["current"])
             for r in rows if r["section"] == "velocity"}
    assert stays["cold-outbound", "SQL"] == ("5.0", "2", "1")
    assert stays["re-engagement", "opportunity"] == ("7.0", "1", "0")
    assert stays["all", "opportunity"] == ("9.0", "2", "1")
    rates = {(r["group"], r["name"]): (r["numerator"], r["denominator"]) for r in rows
             if r["section"] == "rate"}
    assert rates["cold-outbound", "close"] == ("1", "2")
    values = {(r["group"], r["currency"]): r["value"] for r in rows if r["name"] == "value"}
    assert values == {("cold-outbound", "EUR"): "5000.0", ("cold-outbound", "USD"): "7000.0",
                      ("all", "EUR"): "5000.0", ("all", "USD"): "7000.0"}

    table = runner.invoke(funnel_command, ["--by", "source"]).output
    assert "Stage velocity" in table and "webinar" in table
    assert "5.0 (2; 1 now)" in runner.invoke(funnel_command, []).output  # cold's SQL
