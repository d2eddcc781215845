"""Learned send windows end to end: a history of sends and replies in the store decides
when a new enrollment of an opted-in sequence is scheduled (issue 5, point 5).

The history: French prospects were emailed on Tuesdays at 08:00, 11:00 and 15:00
Paris time, and answer the 11:00 emails far more often. German prospects were
emailed too, but too little to learn from. ``now`` is Monday 23 November 2026,
18:00 in Paris, after every window of the day: the next configured window is
Tuesday 08:00 local.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from sequencer.cli.windows_commands import windows_command
from sequencer.clock import FakeClock
from sequencer.runtime.embedded import next_wake, run_once
from sequencer.services.app import App
from sequencer.services.enroll import enroll_csv
from sequencer.services.learned import definition_for
from sequencer.services.learned_report import windows_report
from sequencer.services.mailboxes import add_mailbox
from sequencer.services.sequences import definition_of
from sequencer.store.models import Enrollment, Event, Message, Prospect, StepRun
from tests.integration.helpers import make_app, write_csv

pytestmark = pytest.mark.integration
PARIS, BERLIN = ZoneInfo("Europe/Paris"), ZoneInfo("Europe/Berlin")
START = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 18, 0, tzinfo=PARIS)
PAST_TUESDAYS = [datetime(2026, 11, 17), datetime(2026, 11, 10), datetime(2026, 11, 3)]
SENDER = "ana@sender.example"
HEADER = "email,first_name,company,timezone,country"
LEARNING = """\
    learned_windows: {enabled: true, min_sends: 60, min_slot_sends: 10, explore: 0, hours: 1}
"""
_keys = count(1)


def sequence(folder: Path, name: str, learned: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"""\
name: {name}
schedule:
    windows: {{mon-fri: ["08:00-10:00", "15:00-16:00"]}}
    holidays: none
{learned}steps:
  - {{id: intro, type: email, subject: Hello, template: cold/intro_a.j2}}
  - {{id: again, type: email, wait: 1 week, thread: intro, template: cold/bump.j2}}
""", "utf-8")
    return path


def prospects(prefix: str, number: int, zone: str, country: str) -> list[str]:
    return [f"{prefix}{i}@{prefix}{i}.example,P{i},Co{i},{zone},{country}"
            for i in range(number)]


def email(app: App, row: Enrollment, address: str, local: datetime, zone: ZoneInfo,
          replied: bool) -> None:
    """An email sent at the local time ``local``, and the prospect's reply if ``replied``."""
    at = local.replace(tzinfo=zone).astimezone(UTC)
    with app.sessions.begin() as session:
        run = StepRun(enrollment_id=row.id, step_id=f"old-{next(_keys)}", kind="email",
                      state="sent", claimed_at=at, finished_at=at)
        session.add(run)
        session.flush()
        message_id = f"<m{run.id}@sender.example>"
        session.add(Message(step_run_id=run.id, enrollment_id=row.id, mailbox_id=row.mailbox_id,
                            message_id=message_id, to_address=address, subject="hello",
                            text_body="hello", status="sent", sent_at=at))
        if replied:
            session.add(Event(kind="reply", source_key=f"mail:<r{run.id}@x>",
                              prospect_id=row.prospect_id, enrollment_id=row.id,
                              message_id=message_id, occurred_at=at + timedelta(hours=2)))


def history(app: App, name: str) -> None:
    """25 French prospects emailed 3 times each (75 sends); 5 Germans (15 sends)."""
    with app.sessions() as session:
        rows = session.execute(select(Enrollment, Prospect.email).join(
            Prospect, Prospect.id == Enrollment.prospect_id)
            .where(Enrollment.sequence_name == name).order_by(Enrollment.id)).all()
    for i, (row, address) in enumerate(rows):
        zone = PARIS if row.country == "FR" else BERLIN
        tuesday = PAST_TUESDAYS[i % len(PAST_TUESDAYS)]
        for hour in (8, 11, 15):
            replied = (hour == 11 and i % 3 == 0) or (hour == 8 and i == 1)
            email(app, row, address, tuesday + timedelta(hours=hour), zone, replied)


World = tuple[App, FakeClock, Path, Path]


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    """The app on the history above (closed after the test), and the two sequence files."""
    app, clock = make_app(database_url, START)
    add_mailbox(app, SENDER, transport=f"file://{tmp_path / 'outbox'}", daily_cap=500)
    learner = sequence(tmp_path, "learner", LEARNING)
    plain = sequence(tmp_path, "plain", "")
    rows = prospects("fr", 25, "Europe/Paris", "FR") + prospects("de", 5, "Europe/Berlin", "DE")
    for path in (learner, plain):
        enroll_csv(app, path, write_csv(tmp_path / f"{path.stem}.csv", HEADER,
                                        *[r.replace("@", f"+{path.stem}@") for r in rows]),
                   mailbox=SENDER)
        history(app, path.stem)
    with app.sessions.begin() as session:  # the history is over: nothing of it is due
        session.execute(update(Enrollment).values(status="finished", current_step=None,
                                                  next_run_at=None, due_at=None))
    clock.set(NOW.astimezone(UTC))
    yield app, clock, learner, plain
    app.close()


def enroll_one(app: App, tmp_path: Path, path: Path, row: str) -> Enrollment:
    csv = write_csv(tmp_path / "new.csv", HEADER, row)
    summary = enroll_csv(app, path, csv, mailbox=SENDER)
    assert summary.enrolled == 1, summary.skipped
    address = row.split(",")[0]
    with app.sessions() as session:
        return session.scalars(select(Enrollment).join(
            Prospect, Prospect.id == Enrollment.prospect_id).where(
            Prospect.email_key == address)).one()


def local(moment: datetime | None, zone: ZoneInfo) -> str:
    assert moment is not None
    return f"{moment.astimezone(zone):%a %H:%M}"


def test_a_french_enrollment_is_scheduled_at_the_hour_the_french_answer(
    world: World, tmp_path: Path,
) -> None:
    app, clock, learner, _ = world
    row = enroll_one(app, tmp_path, learner, "new@fr.example,Nina,Acme,Europe/Paris,FR")
    assert local(row.next_run_at, PARIS) == "Tue 11:00"
    wake = next_wake(app)
    assert wake is not None
    clock.set(wake)
    run_once(app)  # the intro goes out; the next email, a week later, is learned too
    with app.sessions() as session:
        again = session.get(Enrollment, row.id)
        assert again is not None and again.current_step == "again"
        assert again.next_run_at == row.next_run_at + timedelta(weeks=1)


def test_a_german_enrollment_with_too_little_history_keeps_the_configured_windows(
    world: World, tmp_path: Path,
) -> None:
    app, _, learner, _ = world
    row = enroll_one(app, tmp_path, learner, "new@de.example,Dirk,Acme,Europe/Berlin,DE")
    assert local(row.next_run_at, BERLIN) == "Tue 08:00"


def test_a_sequence_that_has_not_opted_in_ignores_the_history(
    world: World, tmp_path: Path,
) -> None:
    app, _, _, plain = world
    row = enroll_one(app, tmp_path, plain, "new@fr.example,Nina,Acme,Europe/Paris,FR")
    assert local(row.next_run_at, PARIS) == "Tue 08:00"
    with app.sessions() as session:
        stored = session.get(Enrollment, row.id)
        assert stored is not None
        assert definition_for(session, app, stored) is definition_of(
            session, app, stored.sequence_version_id)


def test_the_report_says_what_was_learned_and_why(world: World, tmp_path: Path) -> None:
    app, _, learner, _ = world
    enroll_one(app, tmp_path, learner, "new@fr.example,Nina,Acme,Europe/Paris,FR")
    report = windows_report(app, "learner")
    segments = {s["segment"]: s for s in report["segments"]}
    assert report["opted_in"] is True
    assert segments["FR"]["learned"] is True
    assert segments["FR"]["windows"]["tue"] == ["11:00-12:00"]
    assert segments["FR"]["top_slots"][0] == {"slot": "tue 11:00", "sends": 25, "replies": 9,
                                              "rate": 0.36, "score": pytest.approx(0.2, abs=0.03)}
    assert segments["DE"]["learned"] is False
    assert segments["DE"]["reason"].startswith("only 15 sends for DE so far; 60 needed")
    result = CliRunner().invoke(windows_command, ["learner"], obj=app)
    assert result.exit_code == 0, result.output
    assert "FR: 75 sends, 10 replies" in result.output
    assert "tue 11:00-12:00" in result.output


def test_the_history_is_read_again_after_fifteen_minutes(world: World, tmp_path: Path) -> None:
    app, clock, learner, _ = world
    row = enroll_one(app, tmp_path, learner, "new@fr.example,Nina,Acme,Europe/Paris,FR")
    with app.sessions() as session:
        before = definition_for(session, app, row)
    email(app, row, "new@fr.example", datetime(2026, 11, 20, 9), PARIS, replied=False)
    clock.advance(timedelta(minutes=14))
    assert {s["segment"]: s["sends"] for s in windows_report(app, "learner")["segments"]} \
        == {"FR": 75, "DE": 15}
    clock.advance(timedelta(minutes=2))
    assert {s["segment"]: s["sends"] for s in windows_report(app, "learner")["segments"]} \
        == {"FR": 76, "DE": 15}
    with app.sessions() as session:
        after = definition_for(session, app, row)
        pinned = definition_of(session, app, row.sequence_version_id)
    assert after is before  # same windows: the same definition, its timetables still cached
    assert after.schedule.windows[1] != pinned.schedule.windows[1]
