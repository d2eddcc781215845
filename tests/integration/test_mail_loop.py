"""The full loop against real servers: send over SMTP (aiosmtpd), the prospect's answer
lands in the sender's mailbox on a real IMAP server (Dovecot), ``inbound poll`` reads
it, and the enrollment stops, pauses or is suppressed (issue 4, "Done means")."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from sequencer.cli.main import cli
from sequencer.runtime.embedded import drain
from sequencer.services.mailboxes import add_mailbox
from sequencer.services.mailin import poll_mailbox
from sequencer.store.models import Mailbox, Suppression
from tests.integration.imap_server import ImapServer
from tests.integration.smtp_sink import Sink
from tests.integration.test_inbound_effects import (
    ANN,
    BOB,
    SENDER,
    answer,
    bounce,
    enrollment,
    sends_after,
    started,
)

pytestmark = pytest.mark.integration


def test_answers_read_over_imap_stop_pause_and_suppress_and_are_taken_in_once(
        database_url: str, tmp_path: Path, sink: tuple[Sink, int],
        imap_server: ImapServer) -> None:
    mails, port = sink
    app, clock = started(database_url, tmp_path, port, ANN, BOB,
                         "cyd@initech.example,Cyd,Initech,Europe/Paris,FR")
    add_mailbox(app, SENDER, transport=f"smtp://127.0.0.1:{port}?timeout=5", daily_cap=100,
                inbound_url=imap_server.url(starttls="no", mark_seen="yes"))
    drain(app, clock, until=clock.now() + timedelta(days=1))  # each intro in its window
    (to_ann,), (to_bob,), (to_cyd,) = (mails.to(a) for a in (
        "ann@acme.example", "bob@acme.example", "cyd@initech.example"))
    imap_server.append(answer(to_ann, sender="ann@acme.example", subject="Re: hi",
                              body="Yes - send me times for next week."))
    imap_server.append(answer(to_cyd, sender="cyd@initech.example",
                              subject="Réponse automatique : absent",
                              body="Je suis absente jusqu'au 4 décembre 2026 inclus.",
                              Auto_Submitted="auto-replied"))
    imap_server.append(bounce(to_bob, status="5.1.1",
                              diagnostic="550 5.1.1 <bob@acme.example>: user unknown"))

    first = poll_mailbox(app, SENDER)
    second = poll_mailbox(app, SENDER)

    assert first.error is None, first.error
    assert first.kinds == {"reply": 1, "auto_reply": 1, "hard_bounce": 1}
    assert second.ingested == 0
    assert enrollment(app, "ann@acme.example").exit_reason == "replied"
    assert enrollment(app, "bob@acme.example").exit_reason in ("hard_bounce", "account_replied")
    cyd = enrollment(app, "cyd@initech.example")
    assert (cyd.status, cyd.pause_reason) == ("paused", "out_of_office")
    with app.sessions() as session:
        assert session.scalars(select(Suppression.value)).all() == ["bob@acme.example"]
        box = session.scalars(select(Mailbox)).one()
        assert box.inbound_last_uid == 3
    for address in ("ann@acme.example", "bob@acme.example", "cyd@initech.example"):
        assert sends_after(app, clock, mails, address, days=8) == 0
    app.close()


def test_the_poll_command_reports_what_it_read_per_mailbox(
        database_url: str, tmp_path: Path, sink: tuple[Sink, int],
        imap_server: ImapServer, monkeypatch: pytest.MonkeyPatch) -> None:
    mails, port = sink
    app, _ = started(database_url, tmp_path, port, ANN)
    add_mailbox(app, SENDER, transport=f"smtp://127.0.0.1:{port}?timeout=5", daily_cap=100,
                inbound_url=imap_server.url(starttls="no"))
    (to_ann,) = mails.to("ann@acme.example")
    imap_server.append(answer(to_ann, sender="ann@acme.example", subject="Re: hi",
                              body="Please remove me from your list."))
    app.close()
    monkeypatch.setenv("SEQUENCER_DATABASE_URL", database_url)

    result = CliRunner().invoke(cli, ["inbound", "poll"])

    assert result.exit_code == 0, result.output
    assert f"{SENDER}: 1 new (1 unsubscribe)" in result.output
