"""Each kind of answer end to end: a real SMTP send, a real inbound message, the
enrollment's resulting state, and no send after the fact (issue 4, point 6)."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from sequencer.clock import FakeClock
from sequencer.runtime.embedded import drain, next_wake, run_once
from sequencer.services.app import App
from sequencer.services.enroll import enroll_csv
from sequencer.services.inbound import BLOCK_PAUSE_MINIMUM, ingest
from sequencer.services.mailboxes import add_mailbox
from sequencer.store.models import Enrollment, Event, Mailbox, Message, Prospect, Suppression
from tests.integration.helpers import COLD, make_app, write_csv
from tests.integration.smtp_sink import Sink

pytestmark = pytest.mark.integration
SENDER = "ana@sender.example"
HEADER = "email,first_name,company,timezone,country"
ANN = "ann@acme.example,Ann,Acme,America/New_York,US"
BOB = "bob@acme.example,Bob,Acme,America/New_York,US"


def started(database_url: str, tmp_path: Path, port: int, *rows: str
            ) -> tuple[App, FakeClock]:
    """The cold cadence's intro sent over SMTP to everyone in ``rows``."""
    app, clock = make_app(database_url)
    add_mailbox(app, SENDER, transport=f"smtp://127.0.0.1:{port}?timeout=5", daily_cap=100,
                display_name="Ana Ruiz")
    enroll_csv(app, COLD, write_csv(tmp_path / "p.csv", HEADER, *rows), mailbox=SENDER)
    wake = next_wake(app)
    assert wake is not None
    clock.set(wake)
    run_once(app)
    return app, clock


def enrollment(app: App, address: str) -> Enrollment:
    with app.sessions() as session:
        return session.scalars(select(Enrollment).join(
            Prospect, Prospect.id == Enrollment.prospect_id).where(
            Prospect.email_key == address)).one()


def answer(original: EmailMessage, *, sender: str, subject: str, body: str,
           **headers: str) -> bytes:
    """A person's (or their mail system's) answer to one of our emails, as raw MIME."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = original["From"]
    message["Subject"] = subject
    message["Date"] = "Tue, 24 Nov 2026 15:02:11 -0500"
    message["Message-ID"] = f"<answer-{abs(hash((sender, subject, body)))}@acme.example>"
    message["In-Reply-To"] = original["Message-ID"]
    message["References"] = original["Message-ID"]
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def bounce(original: EmailMessage, *, status: str, diagnostic: str, action: str = "failed"
           ) -> bytes:
    """An RFC 3464 delivery-status notification returning ``original``'s headers, as
    Postfix writes them."""
    recipient = original["To"].addresses[0].addr_spec
    quoted = "".join(f"{k}: {v}\r\n" for k, v in original.items())
    text = f"""\
From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>
To: {original["From"]}
Subject: Undelivered Mail Returned to Sender
Date: Tue, 24 Nov 2026 15:02:11 -0500
Message-ID: <dsn-{status}-{abs(hash((recipient, diagnostic)))}@mx.acme.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B0UND"

--B0UND
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.acme.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--B0UND
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.acme.example

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; inbound.acme.example
Diagnostic-Code: smtp; {diagnostic}

--B0UND
Content-Type: text/rfc822-headers

{quoted}
--B0UND--
"""
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def sends_after(app: App, clock: FakeClock, sink: Sink, address: str, days: int) -> int:
    """How many more emails ``address`` gets while the engine runs ``days`` more days."""
    before = len(sink.to(address))
    drain(app, clock, until=clock.now() + timedelta(days=days))
    return len(sink.to(address)) - before


def test_a_human_reply_exits_the_sequence_and_nothing_more_is_sent(
        database_url: str, tmp_path: Path, sink: tuple[Sink, int]) -> None:
    mails, port = sink
    app, clock = started(database_url, tmp_path, port, ANN)
    (intro,) = mails.to("ann@acme.example")
    raw = answer(intro, sender="Ann <ann@acme.example>", subject=f"Re: {intro['Subject']}",
                 body="Sounds interesting, can we talk Thursday at 10?\n\nAnn\n\n"
                      f"On Mon, Nov 23, 2026 at 9:14 AM Ana Ruiz <{SENDER}> wrote:\n"
                      "> Hi Ann,\n> quick question about outbound.\n")

    taken = ingest(app, raw, source="test")

    assert taken.kind == "reply" and taken.matched == intro["Message-ID"]
    row = enrollment(app, "ann@acme.example")
    assert row.status == "exited" and row.exit_reason == "replied"
    assert sends_after(app, clock, mails, "ann@acme.example", days=30) == 0
    with app.sessions() as session:
        event = session.scalars(select(Event).where(Event.kind == "reply")).one()
    assert event.payload["reply_text"].startswith("Sounds interesting")
    assert "quick question" not in event.payload["reply_text"]
    again = ingest(app, raw, source="imap")  # the same mail, by another path
    assert again.duplicate and again.enrollments == []
    app.close()


def test_a_reply_from_a_colleague_exits_the_whole_account_as_the_sequence_says(
        database_url: str, tmp_path: Path, sink: tuple[Sink, int]) -> None:
    mails, port = sink
    app, clock = started(database_url, tmp_path, port, ANN, BOB)
    (intro,) = mails.to("bob@acme.example")

    ingest(app, answer(intro, sender="bob@acme.example", subject="Re: hi",
                       body="Ann owns this, but we are not looking right now."), source="test")

    assert enrollment(app, "bob@acme.example").exit_reason == "replied"
    assert enrollment(app, "ann@acme.example").exit_reason == "account_replied"
    assert sends_after(app, clock, mails, "ann@acme.example", days=30) == 0
    app.close()


def test_an_out_of_office_pauses_until_the_business_day_after_the_return_date(
        database_url: str, tmp_path: Path, sink: tuple[Sink, int]) -> None:
    mails, port = sink
    app, clock = started(database_url, tmp_path, port, ANN)
    (intro,) = mails.to("ann@acme.example")
    raw = answer(intro, sender="ann@acme.example", subject=f"Automatic reply: {intro['Subject']}",
                 body="Thank you for your email. I am out of the office until Friday 4 December "
                      "2026 with limited access to email. For urgent matters contact "
                      "bob@acme.example.", Auto_Submitted="auto-replied")

    taken = ingest(app, raw, source="test")

    assert taken.kind == "auto_reply"
    row = enrollment(app, "ann@acme.example")
    assert row.status == "paused" and row.pause_reason == "out_of_office"
    assert row.resume_at is not None and row.resume_at.date() >= datetime(2026, 12, 7).date()
    assert sends_after(app, clock, mails, "ann@acme.example", days=10) == 0  # until Dec 3
    with app.sessions() as session:
        assert session.scalars(select(Event).where(Event.kind == "reply")).first() is None
    app.close()


def test_a_hard_bounce_suppresses_the_address_and_exits(
        database_url: str, tmp_path: Path, sink: tuple[Sink, int]) -> None:
    mails, port = sink
    app, clock = started(database_url, tmp_path, port, ANN)
    (intro,) = mails.to("ann@acme.example")

    taken = ingest(app, bounce(intro, status="5.1.1", diagnostic="550 5.1.1 <ann@acme.example>: "
                               "Recipient address rejected: User unknown in virtual mailbox"),
                   source="test")

    assert taken.kind == "hard_bounce" and taken.suppressed == "ann@acme.example"
    row = enrollment(app, "ann@acme.example")
    assert row.status == "exited" and row.exit_reason == "hard_bounce"
    with app.sessions() as session:
        assert session.scalars(select(Suppression.value)).all() == ["ann@acme.example"]
        assert session.scalars(select(Message.status)).one() == "bounced"
    assert sends_after(app, clock, mails, "ann@acme.example", days=30) == 0
    app.close()


def test_a_soft_bounce_sends_the_same_email_again_later_then_the_sequence_goes_on(
        database_url: str, tmp_path: Path, sink: tuple[Sink, int]) -> None:
    mails, port = sink
    app, clock = started(database_url, tmp_path, port, ANN)
    (intro,) = mails.to("ann@acme.example")

    taken = ingest(app, bounce(intro, status="4.2.2", diagnostic="452 4.2.2 The email account "
                               "that you tried to reach is over quota"), source="test")

    assert taken.kind == "soft_bounce" and taken.suppressed is None
    row = enrollment(app, "ann@acme.example")
    assert row.status == "active" and row.soft_bounces == 1 and row.current_step == "intro"
    drain(app, clock, until=clock.now() + timedelta(days=3))
    again = mails.to("ann@acme.example")
    assert len(again) == 2 and again[1]["Message-ID"] == intro["Message-ID"]
    assert enrollment(app, "ann@acme.example").current_step != "intro"  # and it goes on
    app.close()


def test_blocks_retry_the_step_and_pause_the_mailbox_once_they_keep_happening(
        database_url: str, tmp_path: Path, sink: tuple[Sink, int]) -> None:
    mails, port = sink
    people = [f"p{i}@firm{i}.example,P{i},Firm{i},America/New_York,US"
              for i in range(BLOCK_PAUSE_MINIMUM)]
    app, clock = started(database_url, tmp_path, port, *people)
    drain(app, clock, until=clock.now() + timedelta(hours=3))  # every intro is out
    assert len(mails.messages) == BLOCK_PAUSE_MINIMUM
    block = "550 5.7.1 Message rejected due to spam content; see our policy"
    results = [ingest(app, bounce(m, status="5.7.1", diagnostic=block), source="test")
               for m in list(mails.messages)]

    assert {r.kind for r in results} == {"blocked"}
    assert [r.mailbox_paused for r in results] == [False] * (BLOCK_PAUSE_MINIMUM - 1) + [True]
    with app.sessions() as session:
        assert session.scalars(select(Suppression)).first() is None  # nobody is suppressed
        mailbox = session.scalars(select(Mailbox)).one()
        assert mailbox.paused and "blocked" in (mailbox.pause_reason or "")
        rows = session.scalars(select(Enrollment)).all()
        assert {(r.status, r.current_step, r.soft_bounces) for r in rows} == {
            ("active", "intro", 0)}
    app.close()


def test_an_unsubscribe_by_reply_suppresses_the_address_across_every_sequence(
        database_url: str, tmp_path: Path, sink: tuple[Sink, int]) -> None:
    mails, port = sink
    app, clock = started(database_url, tmp_path, port, ANN)
    (intro,) = mails.to("ann@acme.example")

    taken = ingest(app, answer(intro, sender="ann@acme.example", subject="Re: hi",
                               body="Please remove me from your mailing list."), source="test")

    assert taken.kind == "unsubscribe" and taken.suppressed == "ann@acme.example"
    assert enrollment(app, "ann@acme.example").exit_reason == "unsubscribed"
    assert sends_after(app, clock, mails, "ann@acme.example", days=30) == 0
    app.close()


def test_mail_to_the_list_unsubscribe_mailto_address_is_an_unsubscribe(
        database_url: str, tmp_path: Path, sink: tuple[Sink, int]) -> None:
    mails, port = sink
    app, _ = started(database_url, tmp_path, port, ANN)
    (intro,) = mails.to("ann@acme.example")
    raw = answer(intro, sender="ann@acme.example", subject="unsubscribe", body="")
    raw = raw.replace(f"To: {intro['From']}".encode(), b"To: ana+unsubscribe@sender.example")

    taken = ingest(app, raw, source="test")

    assert taken.kind == "unsubscribe"
    assert enrollment(app, "ann@acme.example").status == "exited"
    app.close()


def test_a_bounce_that_quotes_nothing_finds_its_step_through_the_verp_return_path(
        database_url: str, tmp_path: Path, sink: tuple[Sink, int]) -> None:
    mails, port = sink
    app, clock = make_app(database_url)
    add_mailbox(app, SENDER, transport=f"smtp://127.0.0.1:{port}?timeout=5&verp=yes",
                daily_cap=100)
    enroll_csv(app, COLD, write_csv(tmp_path / "p.csv", HEADER, ANN), mailbox=SENDER)
    wake = next_wake(app)
    assert wake is not None
    clock.set(wake)
    run_once(app)
    (return_path,) = mails.envelope_senders
    assert return_path.startswith("ana+s-") and return_path.endswith("@sender.example")
    terse = (f"From: MAILER-DAEMON@mx.acme.example\r\nTo: {return_path}\r\n"
             "Subject: failure notice\r\nMessage-ID: <terse-1@mx.acme.example>\r\n"
             "Date: Tue, 24 Nov 2026 10:00:00 -0500\r\n\r\n"
             "Hi. This is the qmail-send program at mx.acme.example.\r\n"
             "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
             "This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
             "<ann@acme.example>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n")

    taken = ingest(app, terse.encode(), source="test")

    assert taken.kind == "hard_bounce"
    assert taken.matched == mails.messages[0]["Message-ID"]
    assert enrollment(app, "ann@acme.example").exit_reason == "hard_bounce"
    app.close()


def test_a_spam_complaint_suppresses_the_address_that_complained(
        database_url: str, tmp_path: Path, sink: tuple[Sink, int]) -> None:
    mails, port = sink
    app, clock = started(database_url, tmp_path, port, ANN)
    (intro,) = mails.to("ann@acme.example")
    quoted = "".join(f"{k}: {v}\r\n" for k, v in intro.items())
    arf = f"""\
From: Feedback Loop <fbl@isp.example>
To: abuse@sender.example
Subject: FW: complaint about message from 192.0.2.1
Message-ID: <fbl-1@isp.example>
Date: Tue, 24 Nov 2026 10:00:00 -0500
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"

--ARF
Content-Type: text/plain

This is an email abuse report for an email message received from IP 192.0.2.1.

--ARF
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Rcpt-To: <ann@acme.example>

--ARF
Content-Type: text/rfc822-headers

{quoted}
--ARF--
""".replace("\r\n", "\n").replace("\n", "\r\n").encode()

    taken = ingest(app, arf, source="test")

    assert taken.kind == "unknown" and taken.suppressed == "ann@acme.example"
    assert enrollment(app, "ann@acme.example").exit_reason == "unsubscribed"
    assert sends_after(app, clock, mails, "ann@acme.example", days=30) == 0
    app.close()
