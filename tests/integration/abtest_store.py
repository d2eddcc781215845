"""A store with the cold cadence's A/B intro sent, and answers to it (for the A/B tests)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from sequencer.clock import FakeClock
from sequencer.runtime.embedded import drain
from sequencer.services.app import App
from sequencer.services.enroll import enroll_csv
from sequencer.services.inbound import ingest
from sequencer.services.mailboxes import add_mailbox
from sequencer.store.models import Enrollment, Message, Prospect, StepRun
from tests.integration.helpers import COLD, make_app, write_csv

SENDER = "ana@sender.example"
HEADER = "email,first_name,company,timezone,country"


def cold_copy(tmp_path: Path) -> Path:
    """The example cold cadence, copied: declaring a winner writes to the file."""
    path = tmp_path / "sequences" / "cold-outbound.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(COLD, path)
    return path


@pytest.fixture(name="ab_store")
def ab_store_fixture(database_url: str, tmp_path: Path) -> Iterator[tuple[App, FakeClock]]:
    """An app on the test database with one sender writing to a file outbox."""
    app, clock = make_app(database_url)
    add_mailbox(app, SENDER, transport=f"file://{tmp_path / 'outbox'}", daily_cap=10_000)
    yield app, clock
    app.close()


def enroll(app: App, sequence: Path, tmp_path: Path, group: str, count: int) -> None:
    """Enroll ``count`` prospects, ``{group}-{n}@acme{n}.example``."""
    rows = [f"{group}-{i}@acme{i}.example,P{i},Acme {i},America/New_York,US"
            for i in range(count)]
    enroll_csv(app, sequence, write_csv(tmp_path / f"{group}.csv", HEADER, *rows),
               mailbox=SENDER)


def send_intros(app: App, clock: FakeClock) -> None:
    """Run the engine for a day: every enrollment due gets its intro, nothing more."""
    drain(app, clock, until=clock.now() + timedelta(days=1))


def intros(app: App) -> dict[str, tuple[str, str, int]]:
    """Each prospect's intro: address -> (variant, Message-ID, sequence version id)."""
    with app.sessions() as session:
        rows = session.execute(select(Prospect.email_key, Message.variant, Message.message_id,
                                      Enrollment.sequence_version_id)
                               .join(Enrollment, Enrollment.prospect_id == Prospect.id)
                               .join(Message, Message.enrollment_id == Enrollment.id)
                               .join(StepRun, StepRun.id == Message.step_run_id)
                               .where(StepRun.step_id == "intro"))
        return {email: (variant or "", message_id, version)
                for email, variant, message_id, version in rows}


def answer(app: App, address: str, message_id: str, body: str, *, auto: bool = False) -> None:
    """``address`` answers our email ``message_id`` through the real inbound path."""
    message = EmailMessage()
    message["From"] = address
    message["To"] = SENDER
    message["Subject"] = "Automatic reply: out of office" if auto else "Re: your note"
    message["Date"] = "Tue, 24 Nov 2026 15:02:11 -0500"
    message["Message-ID"] = f"<answer-{address}-{len(body)}-{auto}@acme.example>"
    message["In-Reply-To"] = message_id
    message["References"] = message_id
    if auto:
        message["Auto-Submitted"] = "auto-replied"
    message.set_content(body)
    taken = ingest(app, message.as_bytes(), source="test")
    assert taken.kind == ("auto_reply" if auto else "reply"), taken.kind
