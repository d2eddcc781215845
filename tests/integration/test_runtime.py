"""The durable runtime end to end: store, scheduler, executor, real files and real SMTP."""

from __future__ import annotations

import email
import email.policy
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from sequencer.clock import FakeClock
from sequencer.engine import events as ev
from sequencer.runtime.embedded import drain, next_wake, run_once
from sequencer.runtime.executor import execute
from sequencer.runtime.scheduler import STUCK_SENDING, tick
from sequencer.services.actions import act_on, complete_task, list_tasks
from sequencer.services.app import App
from sequencer.services.enroll import enroll_csv
from sequencer.services.mailboxes import add_mailbox
from sequencer.services.status import status
from sequencer.store.models import Enrollment, Message, StepRun, Suppression, Task
from tests.integration.helpers import COLD, MONDAY, make_app, write_csv

pytestmark = pytest.mark.integration
PEOPLE = ("email,first_name,company,timezone,country",
          "ann@acme.example,Ann,Acme,America/New_York,US",
          "bea@globex.example,Béa,Globex,Europe/Paris,FR",
          "dev@initech.example,,Initech,Asia/Kolkata,IN")


def setup(database_url: str, tmp_path: Path, *rows: str, cap: int = 100
          ) -> tuple[App, FakeClock, Path]:
    app, clock = make_app(database_url)
    outbox = tmp_path / "outbox"
    add_mailbox(app, "ana@sender.example", transport=f"file://{outbox}", daily_cap=cap,
                display_name="Ana Ruiz", signature="Ana Ruiz\nsequencer")
    enroll_csv(app, COLD, write_csv(tmp_path / "p.csv", *(rows or PEOPLE)),
               mailbox="ana@sender.example")
    return app, clock, outbox


def first_due(app: App) -> datetime:
    wake = next_wake(app)
    assert wake is not None
    return wake


def rep_works_due_tasks(app: App, outcome: str = "voicemail") -> int:
    due = list_tasks(app, due_only=True)
    for task in due:
        complete_task(app, task.id, outcome if task.kind == "call" else "done")
    return len(due)


def sent_files(outbox: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for p in sorted(outbox.glob("*.eml"))]


def test_the_cold_cadence_runs_through_the_store_in_each_prospects_windows(
    database_url: str, tmp_path: Path
) -> None:
    app, clock, outbox = setup(database_url, tmp_path)
    drain(app, clock, until=MONDAY + timedelta(days=35), on_idle=lambda: rep_works_due_tasks(app))
    with app.sessions() as session:
        sent = session.execute(select(Message, Enrollment.timezone).join(
            Enrollment, Enrollment.id == Message.enrollment_id)).all()
        statuses = session.scalars(select(Enrollment.status)).all()
    assert statuses == ["finished"] * 3
    assert len(sent) == 3 * 3  # intro, bump, breakup (calls left voicemails: no value email)
    for message, zone in sent:
        local = message.sent_at.astimezone(ZoneInfo(zone))
        minutes = local.hour * 60 + local.minute
        assert local.weekday() < 5 and (480 <= minutes < 600 or 900 <= minutes < 960), local
    files = sent_files(outbox)
    assert len(files) == 9
    by_id = {f["Message-ID"]: f for f in files}
    for f in files:
        if f["In-Reply-To"]:
            first = by_id[f["References"].split()[0]]
            assert f["Subject"] == f"Re: {first['Subject']}"
            assert f["In-Reply-To"] in by_id
    assert all("Hi ," not in f.get_content() for f in files)
    app.close()


def test_a_reply_recorded_while_the_step_is_queued_produces_no_send(
    database_url: str, tmp_path: Path
) -> None:
    app, clock, _outbox = setup(database_url, tmp_path)
    clock.set(first_due(app))
    claimed: list[int] = []
    tick(app, claimed.extend)
    assert claimed
    act_on(app, "ann@acme.example", ev.ReplyReceived(), kind="reply")
    outcomes = {execute(app, run_id) for run_id in claimed}
    assert "skipped" in outcomes
    with app.sessions() as session:
        ann = session.scalars(select(Enrollment).where(Enrollment.exit_reason == "replied")).one()
        assert session.scalar(select(func.count()).select_from(Message).where(
            Message.enrollment_id == ann.id)) == 0
    app.close()


def test_the_same_step_run_delivered_twice_sends_once(database_url: str, tmp_path: Path) -> None:
    app, clock, outbox = setup(database_url, tmp_path)
    clock.set(first_due(app))
    claimed: list[int] = []
    tick(app, claimed.extend)
    first = [execute(app, run_id) for run_id in claimed]
    again = [execute(app, run_id) for run_id in claimed]
    assert set(first) == {"sent"} and all(o.startswith("duplicate") for o in again)
    assert len(list(outbox.glob("*.eml"))) == len(claimed)
    app.close()


def test_a_full_mailbox_moves_the_step_to_its_next_window_and_status_says_so(
    database_url: str, tmp_path: Path
) -> None:
    rows = [f"p{i}@x.example,P,X,America/New_York,US" for i in range(5)]
    app, clock, _ = setup(database_url, tmp_path, PEOPLE[0], *rows, cap=2)
    clock.set(MONDAY + timedelta(hours=2))  # 09:00 in New York
    run_once(app)
    figures = status(app)
    assert figures["mailboxes"][0]["sent_today"] == 2 and figures["mailboxes"][0]["at_cap"]
    assert figures["waiting_because"] == {"mailbox daily cap reached": 3}
    with app.sessions() as session:
        waiting = session.scalars(select(Enrollment.next_run_at).where(
            Enrollment.schedule_note == "mailbox daily cap reached")).all()
    for moment in waiting:  # the next window, not a burst at midnight
        local = moment.astimezone(ZoneInfo("America/New_York"))
        assert local.date() == (MONDAY + timedelta(days=1)).date() and 8 <= local.hour < 10
    app.close()


def test_a_template_that_cannot_render_holds_the_enrollment_with_a_task(
    database_url: str, tmp_path: Path
) -> None:
    sequence = tmp_path / "s.yaml"
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.j2").write_text("Hi {{ prospect.title }},\n", "utf-8")
    sequence.write_text("name: s\nschedule: {windows: {daily: ['00:00-24:00']}, holidays: none}\n"
                        "steps:\n  - {id: a, type: email, template: t.j2, subject: Hello}\n")
    app, _clock = make_app(database_url)
    app.templates = tmp_path / "templates"
    add_mailbox(app, "ana@sender.example", transport=f"file://{tmp_path}/out", daily_cap=9)
    enroll_csv(app, sequence, write_csv(tmp_path / "p.csv", "email", "a@b.example"),
               mailbox="ana@sender.example")
    run_once(app)
    with app.sessions() as session:
        row = session.scalars(select(Enrollment)).one()
        task = session.scalars(select(Task)).one()
        run = session.scalars(select(StepRun)).one()
    assert row.status == "paused" and "render error" in (row.pause_reason or "")
    assert task.kind == "fix_template" and "prospect.title" in (task.instructions or "")
    assert run.state == "held" and not (tmp_path / "out").exists()
    app.close()


def test_a_send_left_in_flight_becomes_uncertain_and_is_never_resent(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, clock, _outbox = setup(database_url, tmp_path, PEOPLE[0], PEOPLE[1])
    clock.set(first_due(app))

    class Crash(Exception):
        pass

    import sequencer.runtime.handover as handover

    real_handover = handover.handover

    def die_after_handing_over(app: App, **kw: Any) -> bool:
        if kw.get("sent") is not None:
            raise Crash  # the worker dies after the server took the message, before recording
        return real_handover(app, **kw)

    monkeypatch.setattr(handover, "handover", die_after_handing_over)
    claimed: list[int] = []
    tick(app, claimed.extend)
    with pytest.raises(Crash):
        execute(app, claimed[0])
    monkeypatch.undo()
    clock.advance(STUCK_SENDING + timedelta(minutes=1))
    drain(app, clock, until=clock.now() + timedelta(days=1))
    with app.sessions() as session:
        run = session.get(StepRun, claimed[0])
        assert run is not None and run.state == "uncertain"
        again = session.scalar(select(func.count()).select_from(StepRun).where(
            StepRun.enrollment_id == run.enrollment_id, StepRun.step_id == run.step_id))
    assert again == 1
    app.close()


def test_a_call_outcome_recorded_by_the_rep_feeds_the_branch(
    database_url: str, tmp_path: Path
) -> None:
    app, clock, _ = setup(database_url, tmp_path, PEOPLE[0], PEOPLE[1])
    drain(app, clock, until=MONDAY + timedelta(days=40),
          on_idle=lambda: rep_works_due_tasks(app, outcome="connected"))
    with app.sessions() as session:
        steps = set(session.scalars(select(StepRun.step_id).where(StepRun.state.in_(
            ("sent", "task_created")))))
    assert "call-2" in steps and "value" not in steps  # connected -> call-2, value email skipped
    app.close()


def test_a_stage_change_or_a_meeting_recorded_by_hand_ends_the_enrollment(
    database_url: str, tmp_path: Path
) -> None:
    app, _, _ = setup(database_url, tmp_path, *PEOPLE)
    assert act_on(app, "ann@acme.example", ev.StageChanged("opportunity"),
                  kind="stage_changed") == [("cold-outbound", "exited")]
    assert act_on(app, "bea@globex.example", ev.MeetingBooked(),
                  kind="meeting_booked") == [("cold-outbound", "exited")]
    with app.sessions() as session:
        reasons = set(session.scalars(select(Enrollment.exit_reason)))
    assert reasons == {"stage:opportunity", "meeting_booked", None}  # the third one goes on
    app.close()


def test_a_hard_bounce_at_send_time_suppresses_the_address_everywhere(
    database_url: str, tmp_path: Path
) -> None:
    app, clock, _ = setup(database_url, tmp_path, PEOPLE[0], PEOPLE[1])
    with app.sessions.begin() as session:
        session.add(Suppression(kind="address", value="ann@acme.example", reason="complaint",
                                created_at=MONDAY))
    clock.set(first_due(app))
    run_once(app)
    with app.sessions() as session:
        row = session.scalars(select(Enrollment)).one()
    assert row.status == "exited" and row.exit_reason == "suppressed: complaint"
    app.close()


def test_two_schedulers_at_once_never_claim_the_same_step(
    database_url: str, tmp_path: Path
) -> None:
    rows = [f"p{i}@x.example,P,X,America/New_York,US" for i in range(120)]
    app, clock, _ = setup(database_url, tmp_path, PEOPLE[0], *rows)
    clock.set(MONDAY + timedelta(hours=2))
    apps = [make_app(database_url, clock.now())[0] for _ in range(2)]
    claimed: list[list[int]] = [[], []]
    barrier = threading.Barrier(2)

    def schedule(index: int) -> None:
        barrier.wait()
        for _ in range(5):
            tick(apps[index], claimed[index].extend, limit=30)

    threads = [threading.Thread(target=schedule, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    together = claimed[0] + claimed[1]
    assert len(together) == len(set(together)) == 120
    for each in [*apps, app]:
        each.close()


def test_a_run_prepared_twice_is_handed_over_by_its_latest_preparation_only(
    database_url: str, tmp_path: Path
) -> None:
    import sequencer.runtime.executor as executor
    from sequencer.render import Renderer
    from sequencer.runtime.handover import handover, send_all

    app, clock, outbox = setup(database_url, tmp_path, PEOPLE[0], PEOPLE[1])
    clock.set(first_due(app))
    claimed: list[int] = []
    tick(app, claimed.extend)
    with app.sessions.begin() as session:  # a worker prepares, then stalls before the lock
        stale = executor._prepare(session, app, claimed[0], Renderer(app.templates))
    assert isinstance(stale, executor.Prepared)
    clock.advance(timedelta(seconds=app.settings.stuck_claim_seconds + 1))
    tick(app, lambda _: None)  # the sweeper puts the abandoned run off (to its next window)
    clock.set(first_due(app))
    again: list[int] = []
    tick(app, again.extend)  # ... and another worker gets it
    assert again == claimed
    assert execute(app, again[0]) == "sent"
    assert not handover(app, next_run=stale)
    assert send_all(app, [stale], lambda *_: "not a failure") == [
        (stale, "duplicate (already handed over)")]
    assert len(list(outbox.glob("*.eml"))) == 1
    app.close()


def test_a_send_recorded_but_not_yet_advanced_is_advanced_by_the_sweeper(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sequencer.runtime.executor as executor

    app, clock, outbox = setup(database_url, tmp_path, PEOPLE[0], PEOPLE[1])
    clock.set(first_due(app))
    claimed: list[int] = []
    tick(app, claimed.extend)

    class Crash(Exception):
        pass

    def die(*_: object) -> str:
        raise Crash  # killed after the sink took it and 'sent' was recorded

    monkeypatch.setattr(executor, "advance_batch", die)
    with pytest.raises(Crash):
        execute(app, claimed[0])
    monkeypatch.undo()
    with app.sessions() as session:
        row = session.scalars(select(Enrollment)).one()
        assert row.waiting_on == "intro" and row.next_run_at is None
    clock.advance(timedelta(seconds=app.settings.stuck_claim_seconds + 1))
    tick(app, lambda _: None)
    with app.sessions() as session:
        row = session.scalars(select(Enrollment)).one()
        run = session.get(StepRun, claimed[0])
    assert run is not None and run.state == "sent"
    assert row.current_step == "call-1" and row.next_run_at is not None
    assert len(list(outbox.glob("*.eml"))) == 1
    app.close()


def test_the_mailbox_minimum_spacing_puts_later_sends_off_until_the_gap_has_passed(
    database_url: str, tmp_path: Path
) -> None:
    rows = [f"p{i}@x.example,P,X,America/New_York,US" for i in range(3)]
    app, clock, _ = setup(database_url, tmp_path, PEOPLE[0], *rows)
    add_mailbox(app, "ana@sender.example", transport=f"file://{tmp_path}/outbox", daily_cap=100,
                min_spacing_seconds=1800)
    clock.set(MONDAY + timedelta(hours=2))  # 09:00 in New York: all three are due
    run_once(app)
    with app.sessions() as session:
        sent = session.scalars(select(Message.sent_at).where(Message.status == "sent")).all()
        waiting = session.scalars(select(Enrollment.next_run_at).where(
            Enrollment.schedule_note == "mailbox spacing")).all()
    assert len(sent) == 1 and len(waiting) == 2
    assert all(moment >= sent[0] + timedelta(minutes=30) for moment in waiting)
    app.close()
