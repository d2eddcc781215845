"""The timeline a rep reads on a prospect's page, built from what really happened:
a send, an out-of-office answer, a resume by hand, a call task worked, a reply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from sequencer.clock import FakeClock
from sequencer.runtime.embedded import next_wake, run_once
from sequencer.services.actions import complete_task, list_tasks
from sequencer.services.app import App
from sequencer.services.enroll import enroll_csv
from sequencer.services.enrollment_actions import resume_enrollment
from sequencer.services.inbound import ingest
from sequencer.services.mailboxes import add_mailbox
from sequencer.services.timeline import enrollment_history, prospect_timeline
from sequencer.store.models import Enrollment, Message
from tests.integration.helpers import COLD, make_app, write_csv

pytestmark = pytest.mark.integration
SENDER = "ana@sender.example"


def answer(message: Message, *, subject: str, body: str, n: int, extra: str = "") -> bytes:
    return (f"From: Ann <ann@acme.example>\r\nTo: {SENDER}\r\nSubject: {subject}\r\n"
            f"Message-ID: <answer-{n}@acme.example>\r\nIn-Reply-To: {message.message_id}\r\n"
            f"Date: Tue, 24 Nov 2026 10:00:00 -0500\r\n{extra}\r\n{body}\r\n").encode()


def wake_and_run(app: App, clock: FakeClock) -> None:
    wake = next_wake(app)
    assert wake is not None
    clock.set(max(wake, clock.now()))
    run_once(app)


@pytest.fixture
def lived(database_url: str, tmp_path: Path) -> Iterator[tuple[App, int, int]]:
    """Ann's enrollment through a send, an out-of-office, a resume, a call and a reply."""
    app, clock = make_app(database_url)
    add_mailbox(app, SENDER, transport=f"file://{tmp_path / 'out'}", daily_cap=100)
    enroll_csv(app, COLD, write_csv(tmp_path / "p.csv", "email,first_name,company,timezone",
                                    "ann@acme.example,Ann,Acme,America/New_York"),
               mailbox=SENDER)
    wake_and_run(app, clock)  # the intro goes out
    with app.sessions() as session:
        row = session.scalars(select(Enrollment)).one()
        intro = session.scalars(select(Message)).one()
        session.expunge_all()
    ingest(app, answer(intro, subject="Automatic reply: out of office", n=1,
                       body="I am out of the office until Friday 4 December 2026.",
                       extra="Auto-Submitted: auto-replied\r\n"), source="test")
    resume_enrollment(app, row.id, by="rita")
    wake_and_run(app, clock)  # the call task comes due
    (task,) = list_tasks(app)
    complete_task(app, task.id, "voicemail", "left a message")
    ingest(app, answer(intro, subject="Re: hello", n=2,
                       body="Yes, let's talk on Thursday."), source="test")
    yield app, row.prospect_id, row.id
    app.close()


def test_the_prospect_timeline_tells_each_touch_and_answer_in_order(
        lived: tuple[App, int, int]) -> None:
    app, prospect_id, enrollment_id = lived

    entries = prospect_timeline(app, prospect_id)

    assert [e.kind for e in entries] == ["enrolled", "email_sent", "auto_reply",
                                         "manual_resume", "task_created", "task_completed",
                                         "reply", "exited"]
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    by_kind = {e.kind: e for e in entries}
    assert by_kind["enrolled"].summary == f"enrolled in cold-outbound from {SENDER}"
    assert by_kind["email_sent"].step == "intro" and "email sent: '" in by_kind[
        "email_sent"].summary
    assert "back 2026-12-05" in by_kind["auto_reply"].summary  # out until the 4th
    assert by_kind["task_created"].step == "call-1"
    assert by_kind["task_completed"].summary == "call task done: voicemail (left a message)"
    assert "Thursday" in by_kind["reply"].summary
    assert by_kind["exited"].summary.startswith("left cold-outbound:")
    assert {e.sequence for e in entries} == {"cold-outbound"}
    assert {e.enrollment_id for e in entries} == {enrollment_id}


def test_an_enrollment_history_is_the_same_builder_filtered(
        lived: tuple[App, int, int]) -> None:
    app, prospect_id, enrollment_id = lived

    assert enrollment_history(app, enrollment_id) == prospect_timeline(app, prospect_id)
    assert enrollment_history(app, enrollment_id + 100) == []
    assert prospect_timeline(app, prospect_id + 100) == []
