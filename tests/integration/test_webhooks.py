"""The email providers' event webhooks through the HTTP app, against a real database:
only valid, fresh, first-seen requests change anything, and each event acts once
(RELIABILITY rule 10, T24)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from sequencer.api import create_app
from sequencer.clock import FakeClock
from sequencer.runtime.embedded import drain, next_wake
from sequencer.services.app import App
from sequencer.services.enroll import enroll_csv
from sequencer.services.mailboxes import add_mailbox
from sequencer.store.models import (
    Enrollment,
    Event,
    Message,
    Prospect,
    StepRun,
    Suppression,
)
from tests.integration.helpers import COLD, make_app, write_csv

pytestmark = pytest.mark.integration
HEADER = "email,first_name,company,timezone,country"
PEOPLE = ("ann@acme.example", "bob@bolt.example", "cid@cork.example")
MAILGUN_KEY = "key-0123456789abcdef0123456789abcdef"
POSTMARK_AUTH = ("postmark", "hook-pass-0123")


@dataclass
class Sent:
    """Three prospects, each sent the intro of the cold cadence; the HTTP app around them."""

    app: App
    clock: FakeClock
    client: TestClient
    signing: ec.EllipticCurvePrivateKey
    emails: dict[str, Message]  # by address

    def run(self, address: str) -> str:
        """The X-Sequencer-Key of the email sent to ``address``."""
        with self.app.sessions() as session:
            run = session.get(StepRun, self.emails[address].step_run_id)
            assert run is not None
            return f"{run.enrollment_id}:{run.step_id}:{run.round}"

    def state(self) -> tuple[dict[str, str], set[str]]:
        """Each prospect's enrollment status, and the suppressed addresses."""
        with self.app.sessions() as session:
            rows = session.execute(select(Prospect.email_key, Enrollment.status).join(
                Enrollment, Enrollment.prospect_id == Prospect.id)).all()
            statuses = {address: status for address, status in rows}
            return statuses, set(session.scalars(select(Suppression.value)))

    def events(self, kind: str | None = None) -> int:
        with self.app.sessions() as session:
            rows = session.scalars(select(Event.kind)).all()
        return sum(1 for row in rows if kind is None or row == kind)


@pytest.fixture
def sent(database_url: str, tmp_path: Path) -> Iterator[Sent]:
    app, clock = make_app(database_url)
    signing = ec.generate_private_key(ec.SECP256R1())
    der = signing.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    app.settings = replace(app.settings, sendgrid_webhook_public_key=base64.b64encode(der)
                           .decode(), postmark_webhook_user=POSTMARK_AUTH[0],
                           postmark_webhook_password=POSTMARK_AUTH[1],
                           mailgun_webhook_signing_key=MAILGUN_KEY)
    add_mailbox(app, "ana@sender.example", transport=f"file://{tmp_path / 'out'}",
                daily_cap=100)
    rows = [f"{a},{a[0].upper()}{a[1:3]},{a.split('@')[1]},America/New_York,US" for a in PEOPLE]
    enroll_csv(app, COLD, write_csv(tmp_path / "p.csv", HEADER, *rows),
               mailbox="ana@sender.example")
    wake = next_wake(app)
    assert wake is not None
    clock.set(wake)
    drain(app, clock, until=wake + timedelta(hours=3))  # every intro is out
    with app.sessions() as session:
        emails = {m.to_address: m for m in session.scalars(select(Message))}
    assert sorted(emails) == sorted(PEOPLE)
    with TestClient(create_app(app)) as client:
        yield Sent(app, clock, client, signing, emails)
    app.close()


# -- SendGrid ----------------------------------------------------------------------------
def sendgrid_event(sent: Sent, address: str, event_id: str, **fields: Any) -> dict[str, Any]:
    """An event as SendGrid posts it for one of our emails (custom_args at the top level)."""
    email = sent.emails[address]
    return {"email": address, "timestamp": int(sent.clock.now().timestamp()),
            "sg_event_id": event_id, "sg_message_id": f"sgq{email.id}.filter0001.1.0",
            "message_id": email.message_id, "sequencer_key": sent.run(address), **fields}


def post_sendgrid(sent: Sent, events: list[dict[str, Any]], *, age: timedelta = timedelta(0),
                  tamper: bool = False) -> Any:
    body = json.dumps(events).encode()
    stamp = str(int((sent.clock.now() - age).timestamp()))
    signature = sent.signing.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    sent_body = body.replace(b"bounce", b"delivered") if tamper else body
    return sent.client.post("/webhooks/sendgrid", content=sent_body, headers={
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": stamp})


def test_a_signed_sendgrid_batch_suppresses_hard_bounces_and_complaints_but_not_blocks(
        sent: Sent) -> None:
    batch = [
        sendgrid_event(sent, "ann@acme.example", "ev-ann", event="bounce", type="bounce",
                       status="5.1.1", reason="550 5.1.1 No such user here"),
        sendgrid_event(sent, "bob@bolt.example", "ev-bob", event="bounce", type="blocked",
                       status="5.7.1", reason="550 5.7.1 Message rejected by policy"),
        sendgrid_event(sent, "cid@cork.example", "ev-cid", event="spamreport"),
        {"event": "bounce", "email": "nobody@else.example"},  # unreadable: no sg_event_id
    ]

    answer = post_sendgrid(sent, batch)

    assert answer.status_code == 200
    assert answer.json() == {"taken": 3, "duplicates": 0, "ignored": 1}
    statuses, suppressed = sent.state()
    assert suppressed == {"ann@acme.example", "cid@cork.example"}
    assert statuses == {"ann@acme.example": "exited", "bob@bolt.example": "active",
                        "cid@cork.example": "exited"}
    with sent.app.sessions() as session:
        blocked = session.get(Message, sent.emails["bob@bolt.example"].id)
        assert blocked is not None and blocked.status == "blocked"


def test_the_same_sendgrid_event_twice_acts_once(sent: Sent) -> None:
    block = sendgrid_event(sent, "bob@bolt.example", "ev-1", event="bounce", type="blocked",
                           status="4.7.0", reason="421 4.7.0 Try again later, reputation")

    first = post_sendgrid(sent, [block])
    again = post_sendgrid(sent, [block])

    assert first.json()["taken"] == 1
    assert again.json() == {"taken": 0, "duplicates": 1, "ignored": 0}
    assert sent.events("blocked") == 1  # one block counted against the mailbox, not two


def test_a_tampered_or_stale_sendgrid_request_is_401_and_changes_nothing(sent: Sent) -> None:
    bounce = sendgrid_event(sent, "ann@acme.example", "ev-t", event="bounce", type="bounce",
                            status="5.1.1", reason="550 5.1.1 user unknown")
    before = sent.events()

    tampered = post_sendgrid(sent, [bounce], tamper=True)
    stale = post_sendgrid(sent, [bounce], age=timedelta(minutes=6))
    unsigned = sent.client.post("/webhooks/sendgrid", content=json.dumps([bounce]))

    assert [tampered.status_code, stale.status_code, unsigned.status_code] == [401] * 3
    assert "replay" in stale.json()["error"]["message"]
    assert sent.events() == before
    assert sent.state() == ({a: "active" for a in PEOPLE}, set())


def test_a_sendgrid_event_without_our_custom_args_is_matched_by_sendgrids_message_id(
        sent: Sent) -> None:
    ann = sent.emails["ann@acme.example"]
    with sent.app.sessions.begin() as session:  # as the SendGrid transport stores X-Message-Id
        session.execute(update(Message).where(Message.id == ann.id).values(
            provider_id="W3ZxY2tleQ"))
    bounce = {"email": "ann@acme.example", "sg_event_id": "ev-p", "event": "bounce",
              "type": "bounce", "status": "5.1.1", "reason": "550 5.1.1 user unknown",
              "sg_message_id": "W3ZxY2tleQ.filterdrecv-canary-1.2.3"}

    assert post_sendgrid(sent, [bounce]).json()["taken"] == 1

    with sent.app.sessions() as session:
        event = session.scalars(select(Event).where(Event.kind == "hard_bounce")).one()
    assert event.message_id == ann.message_id and event.enrollment_id == ann.enrollment_id
    assert sent.state()[0]["ann@acme.example"] == "exited"


def test_sendgrid_opens_and_clicks_are_recorded_once_and_change_no_status(sent: Sent) -> None:
    events = [sendgrid_event(sent, "ann@acme.example", "o1", event="open"),
              sendgrid_event(sent, "ann@acme.example", "o2", event="open"),
              sendgrid_event(sent, "ann@acme.example", "o3", event="open", sg_machine_open=True),
              sendgrid_event(sent, "ann@acme.example", "c1", event="click",
                             url="https://acme.example/pricing")]

    answer = post_sendgrid(sent, events)

    assert answer.json() == {"taken": 2, "duplicates": 1, "ignored": 1}
    assert (sent.events("open"), sent.events("click")) == (1, 1)
    assert sent.state()[0]["ann@acme.example"] == "active"


def test_a_webhook_whose_secret_is_not_set_is_off_and_says_which_variable_to_set(
        sent: Sent) -> None:
    sent.app.settings = replace(sent.app.settings, sendgrid_webhook_public_key=None)

    answer = post_sendgrid(sent, [])

    assert answer.status_code == 403
    assert "SEQUENCER_SENDGRID_WEBHOOK_PUBLIC_KEY" in answer.json()["error"]["message"]


# -- Postmark ----------------------------------------------------------------------------
def postmark_bounce(sent: Sent, address: str, bounce_type: str) -> dict[str, Any]:
    email = sent.emails[address]
    return {"RecordType": "Bounce", "ID": 4200 + email.id, "Type": bounce_type,
            "TypeCode": 1, "MessageID": f"pm-{email.id}", "Email": address,
            "Description": "The server was unable to deliver your message",
            "Details": "smtp;550 5.1.1 The email account does not exist",
            "Metadata": {"message_id": email.message_id, "sequencer_key": sent.run(address)}}


def test_postmark_with_the_right_basic_credentials_is_taken_in_once(sent: Sent) -> None:
    bounce = postmark_bounce(sent, "ann@acme.example", "HardBounce")

    first = sent.client.post("/webhooks/postmark", json=bounce, auth=POSTMARK_AUTH)
    again = sent.client.post("/webhooks/postmark", json=bounce, auth=POSTMARK_AUTH)

    assert first.json() == {"taken": 1, "duplicates": 0, "ignored": 0}
    assert again.json() == {"taken": 0, "duplicates": 1, "ignored": 0}
    assert sent.state() == ({**{a: "active" for a in PEOPLE}, "ann@acme.example": "exited"},
                            {"ann@acme.example"})


def test_postmark_with_wrong_or_no_credentials_is_401_and_changes_nothing(sent: Sent) -> None:
    bounce = postmark_bounce(sent, "ann@acme.example", "HardBounce")

    wrong = sent.client.post("/webhooks/postmark", json=bounce, auth=("postmark", "guess"))
    missing = sent.client.post("/webhooks/postmark", json=bounce)

    assert wrong.status_code == missing.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Basic")
    assert sent.events() == 0 and sent.state()[1] == set()


# -- Mailgun -----------------------------------------------------------------------------
def mailgun_body(sent: Sent, event: dict[str, Any], *, token: str = "a" * 50,
                 key: str = MAILGUN_KEY) -> dict[str, Any]:
    stamp = str(int(sent.clock.now().timestamp()))
    signature = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    return {"signature": {"timestamp": stamp, "token": token, "signature": signature},
            "event-data": event}


def mailgun_failure(sent: Sent, address: str, event_id: str) -> dict[str, Any]:
    email = sent.emails[address]
    return {"event": "failed", "id": event_id, "severity": "permanent", "reason": "bounce",
            "recipient": address, "delivery-status": {
                "code": 550, "enhanced-code": "5.1.1", "message": "5.1.1 No such user"},
            "message": {"headers": {"message-id": email.message_id.strip("<>")}}}


def test_a_signed_mailgun_failure_suppresses_and_a_replay_of_it_is_refused(sent: Sent) -> None:
    body = mailgun_body(sent, mailgun_failure(sent, "ann@acme.example", "mg-1"))

    first = sent.client.post("/webhooks/mailgun", json=body)
    replayed = sent.client.post("/webhooks/mailgun", json=body)

    assert first.json() == {"taken": 1, "duplicates": 0, "ignored": 0}
    assert replayed.status_code == 409
    assert sent.state()[1] == {"ann@acme.example"}
    assert sent.events("hard_bounce") == 1


def test_a_mailgun_event_with_a_forged_or_stale_signature_is_401(sent: Sent) -> None:
    forged = mailgun_body(sent, mailgun_failure(sent, "ann@acme.example", "mg-2"),
                          key="key-attacker")
    retimed = mailgun_body(sent, mailgun_failure(sent, "ann@acme.example", "mg-3"))
    retimed["signature"]["timestamp"] = str(int(retimed["signature"]["timestamp"]) - 1)
    stale = mailgun_body(sent, mailgun_failure(sent, "ann@acme.example", "mg-4"))
    sent.clock.advance(timedelta(minutes=6))

    for body in (forged, retimed, stale):
        assert sent.client.post("/webhooks/mailgun", json=body).status_code == 401
    assert sent.events() == 0 and sent.state()[1] == set()


def test_a_new_mailgun_request_for_an_event_already_taken_is_a_harmless_duplicate(
        sent: Sent) -> None:
    event = mailgun_failure(sent, "ann@acme.example", "mg-5")

    first = sent.client.post("/webhooks/mailgun", json=mailgun_body(sent, event, token="b" * 50))
    retry = sent.client.post("/webhooks/mailgun", json=mailgun_body(sent, event, token="c" * 50))

    assert first.json()["taken"] == retry.json()["duplicates"] == 1


def test_a_mailgun_request_that_failed_midway_may_come_again_with_the_same_token(
        sent: Sent, monkeypatch: pytest.MonkeyPatch) -> None:
    body = mailgun_body(sent, mailgun_failure(sent, "ann@acme.example", "mg-6"))

    def database_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr("sequencer.api.webhooks.take_in", database_down)
        with pytest.raises(ConnectionError):
            sent.client.post("/webhooks/mailgun", json=body)
    retried = sent.client.post("/webhooks/mailgun", json=body)  # Mailgun retries on a 5xx

    assert retried.json()["taken"] == 1
    assert sent.state()[1] == {"ann@acme.example"}
