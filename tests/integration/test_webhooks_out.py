"""Outbound webhooks against a real database and a real local HTTP receiver: every
kind of fact reaches an endpoint once, signed; failures retry on the fake clock;
nothing is delivered twice; private destinations are refused unless allowed."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from sequencer.crm.ssrf import UnsafeDestination
from sequencer.runtime.embedded import serve
from sequencer.services.actions import complete_task, record_meeting
from sequencer.services.app import App
from sequencer.services.enroll import enroll_csv
from sequencer.services.inbound import unsubscribe_address
from sequencer.services.mailboxes import add_mailbox
from sequencer.services.webhooks_out import (
    add_endpoint,
    deliver_due,
    deliver_webhooks,
    fan_out,
    list_deliveries,
    remove_endpoint,
)
from sequencer.store.models import Enrollment, Event, Prospect, StepRun, Task
from sequencer.store.webhook_models import WebhookDelivery
from tests.integration.helpers import COLD, make_app, write_csv

pytestmark = pytest.mark.integration
SECRET = "receiver-secret-0123456789"
PEOPLE = ("email,first_name,company,timezone,country",
          "ann@acme.example,Ann,Acme,America/New_York,US",
          "bob@bolt.example,Bob,Bolt,America/New_York,US",
          "cid@cork.example,Cid,Cork,America/New_York,US",
          "dee@dune.example,Dee,Dune,America/New_York,US")


class Receiver(ThreadingHTTPServer):
    """Counts signed deliveries by event id; answers with the queued codes, then 200."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[dict[str, Any]] = []
        self.answers: list[int] = []
        self.bad_signatures = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        stamp, _, mac = self.headers["X-Sequencer-Signature"].partition(",v1=")
        expected = hmac.new(SECRET.encode(), f"{stamp[2:]}.".encode() + body,
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, mac):
            self.server.bad_signatures += 1
        code = self.server.answers.pop(0) if self.server.answers else 200
        if code == 200:
            event = json.loads(body)
            assert event["id"] == self.headers["X-Sequencer-Event-Id"]
            self.server.received.append(event)
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def setup(database_url: str, tmp_path: Path) -> tuple[App, Any]:
    app, clock = make_app(database_url)
    add_mailbox(app, "ana@sender.example", transport=f"file://{tmp_path / 'out'}", daily_cap=50)
    enroll_csv(app, COLD, write_csv(tmp_path / "p.csv", *PEOPLE), mailbox="ana@sender.example")
    clock.advance(timedelta(minutes=1))
    return app, clock


def a_reply_and_a_bounce(app: App) -> None:
    """As the inbound path stores them (the tests of inbound prove that path)."""
    with app.sessions.begin() as session:
        ids = dict(session.execute(select(Prospect.email, Prospect.id)).all())
        now = app.clock.now()
        session.add(Event(kind="reply", source_key="mail:<r1@x>", prospect_id=ids[
            "ann@acme.example"], occurred_at=now, payload={"reply_text": "Tell me more"}))
        session.add(Event(kind="hard_bounce", source_key="mail:<b1@x>", prospect_id=ids[
            "bob@bolt.example"], occurred_at=now, payload={"status": "5.1.1"}))


def a_task_done(app: App) -> None:
    with app.sessions.begin() as session:
        row = session.scalars(select(Enrollment).join(Prospect).where(
            Prospect.email_key == "dee@dune.example")).one()
        run = StepRun(enrollment_id=row.id, step_id="call-1", kind="call",
                      state="task_created", claimed_at=app.clock.now())
        session.add(run)
        session.flush()
        session.add(Task(step_run_id=run.id, enrollment_id=row.id, kind="call",
                         step_id="call-1", due_at=app.clock.now(), state="open"))
        row.current_step = "call-1"
        task_id = run.id
    with app.sessions() as session:
        task = session.scalars(select(Task).where(Task.step_run_id == task_id)).one()
    complete_task(app, task.id, "connected")


def test_each_kind_of_fact_reaches_the_endpoint_once_signed(
        database_url: str, tmp_path: Path, receiver: Receiver) -> None:
    app, clock = setup(database_url, tmp_path)
    add_endpoint(app, receiver.url, ["reply", "bounce", "unsubscribe", "meeting", "task", "exit"],
                 secret=SECRET, allow_private=True)
    a_reply_and_a_bounce(app)
    unsubscribe_address(app, "cid@cork.example", source_key="u:1", reason="one-click")
    record_meeting(app, "ann@acme.example")  # the sequence exits on a meeting
    a_task_done(app)
    for _ in range(2):  # running both twice changes nothing
        fan_out(app)
        deliver_due(app)
    kinds = sorted(e["type"] for e in receiver.received)
    assert kinds == ["bounce", "exit", "exit", "meeting", "reply", "task", "unsubscribe"]
    assert receiver.bad_signatures == 0
    assert len({e["id"] for e in receiver.received}) == len(receiver.received)
    by_type = {e["type"]: e for e in receiver.received}
    assert by_type["reply"]["data"]["email"] == "ann@acme.example"
    assert by_type["task"]["data"]["outcome"] == "connected"
    assert by_type["bounce"]["data"]["hard"] is True
    exits = {e["data"]["email"]: e["data"]["reason"] for e in receiver.received
             if e["type"] == "exit"}
    assert exits == {"ann@acme.example": "meeting_booked", "cid@cork.example": "unsubscribed"}
    clock.advance(timedelta(minutes=10))  # past the cursors' grace: re-reads change nothing
    assert fan_out(app) == 0 and deliver_due(app).delivered == 0
    app.close()


def test_a_500_is_retried_after_the_backoff_and_delivered_once(
        database_url: str, tmp_path: Path, receiver: Receiver) -> None:
    app, clock = setup(database_url, tmp_path)
    add_endpoint(app, receiver.url, ["meeting"], secret=SECRET, allow_private=True)
    record_meeting(app, "bob@bolt.example")
    assert fan_out(app) == 1
    receiver.answers = [500]
    assert deliver_due(app).retrying == 1
    assert deliver_due(app).delivered == 0  # not due yet: the backoff is a minute
    clock.advance(timedelta(seconds=61))
    assert deliver_due(app).delivered == 1
    assert [e["type"] for e in receiver.received] == ["meeting"]
    [delivery] = list_deliveries(app)
    assert (delivery.state, delivery.attempts) == ("delivered", 2)
    clock.advance(timedelta(hours=1))
    assert deliver_due(app).delivered == 0 and len(receiver.received) == 1
    app.close()


def test_retries_back_off_and_give_up_as_failed(database_url: str, tmp_path: Path) -> None:
    app, clock = setup(database_url, tmp_path)
    calls: list[httpx.Request] = []

    def unavailable(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503)

    client = httpx.Client(transport=httpx.MockTransport(unavailable))
    add_endpoint(app, "https://crm.example.com/hook", ["meeting"], secret=SECRET,
                 resolve=lambda host, port: ["93.184.216.34"])
    record_meeting(app, "bob@bolt.example")
    fan_out(app)
    waits = []
    for _ in range(8):
        deliver_due(app, client, resolve=lambda host, port: ["93.184.216.34"])
        with app.sessions() as session:
            row = session.scalars(select(WebhookDelivery)).one()
        if row.next_attempt_at and row.state == "pending":
            waits.append(round((row.next_attempt_at - clock.now()).total_seconds() / 60))
            clock.set(row.next_attempt_at)
    assert waits == [1, 2, 4, 8, 16, 32, 60]
    assert row.state == "failed" and len(calls) == 8
    assert calls[0].url.host == "93.184.216.34"  # pinned to the address checked
    assert calls[0].headers["host"] == "crm.example.com"
    assert calls[0].extensions["sni_hostname"] == "crm.example.com"
    assert [d.id for d in list_deliveries(app, failed_only=True)] == [row.id]
    app.close()


def test_a_4xx_fails_at_once_and_a_stuck_send_is_never_resent(database_url: str,
                                                               tmp_path: Path) -> None:
    app, clock = setup(database_url, tmp_path)
    answers = [httpx.Response(410)]
    client = httpx.Client(transport=httpx.MockTransport(lambda r: answers.pop(0)))
    public = {"resolve": lambda host, port: ["93.184.216.34"]}
    add_endpoint(app, "http://crm.example.com/hook", ["meeting"], secret=SECRET, **public)
    record_meeting(app, "ann@acme.example")
    record_meeting(app, "bob@bolt.example")
    fan_out(app)
    assert deliver_due(app, client, limit=1, **public).failed == 1
    with app.sessions.begin() as session:  # a sender that died mid-request
        session.execute(update(WebhookDelivery).where(WebhookDelivery.state == "pending")
                        .values(state="sending", claimed_at=clock.now()))
    clock.advance(timedelta(minutes=11))
    assert deliver_due(app, client, **public).uncertain == 1
    assert {d.state for d in list_deliveries(app, failed_only=True)} == {"failed", "uncertain"}
    app.close()


def test_private_destinations_are_refused_unless_allowed(database_url: str, tmp_path: Path,
                                                         receiver: Receiver) -> None:
    app, _ = setup(database_url, tmp_path)
    for url in ("http://127.0.0.1/h", "http://10.1.2.3/h", "http://169.254.169.254/latest",
                "http://[::1]/h", "http://[::ffff:127.0.0.1]/h", "http://localhost/h",
                "ftp://crm.example.com/h", "https://user:pw@crm.example.com/h"):
        with pytest.raises(UnsafeDestination):
            add_endpoint(app, url, ["reply"])
    endpoint, _ = add_endpoint(app, receiver.url, ["meeting"], secret=SECRET,
                               allow_private=True)
    assert endpoint.allow_private
    # A public name at registration that resolves to loopback at delivery (rebinding).
    add_endpoint(app, "http://crm.example.com/h", ["meeting"], secret=SECRET,
                 resolve=lambda host, port: ["93.184.216.34"])
    record_meeting(app, "ann@acme.example")
    fan_out(app)
    report = deliver_due(app, resolve=lambda host, port: ["127.0.0.1"])
    assert (report.delivered, report.failed) == (1, 1)
    [failed] = list_deliveries(app, failed_only=True)
    assert "loopback" in (failed.last_error or "")
    remove_endpoint(app, endpoint.id)
    record_meeting(app, "bob@bolt.example")
    fan_out(app)
    assert deliver_due(app, resolve=lambda host, port: ["127.0.0.1"]).delivered == 0
    app.close()


def test_the_webhook_commands_add_list_deliver_and_remove(database_url: str,
                                                          receiver: Receiver) -> None:
    from click.testing import CliRunner

    from sequencer.cli.webhook_commands import webhook_group

    runner = CliRunner(env={"SEQUENCER_DATABASE_URL": database_url, "HOOK_SECRET": SECRET})
    refused = runner.invoke(webhook_group, ["add", "http://127.0.0.1:9/h", "--events", "reply"])
    assert refused.exit_code == 1 and "loopback" in refused.output
    added = runner.invoke(webhook_group, ["add", receiver.url, "--events", "reply,exit",
                                          "--secret-env", "HOOK_SECRET", "--allow-private"])
    assert added.exit_code == 0, added.output
    assert "secret" not in added.output  # only a generated secret is shown
    listed = runner.invoke(webhook_group, ["list"])
    assert receiver.url in listed.output and "reply,exit" in listed.output
    delivered = runner.invoke(webhook_group, ["deliver"])
    assert delivered.exit_code == 0 and "queued 0, delivered 0" in delivered.output
    assert runner.invoke(webhook_group, ["deliveries", "--failed"]).output == ""
    assert runner.invoke(webhook_group, ["remove", "1"]).exit_code == 0
    assert runner.invoke(webhook_group, ["remove", "1"]).exit_code == 1


def test_the_embedded_runner_delivers_webhooks_when_idle(
        database_url: str, tmp_path: Path, receiver: Receiver) -> None:
    """`sequencer run` needs no webhook process of its own: between passes it delivers."""
    app, _clock = setup(database_url, tmp_path)
    assert deliver_webhooks(app) is None, "no endpoint: nothing is even looked at"
    add_endpoint(app, receiver.url, ["reply", "bounce"], secret=SECRET, allow_private=True)
    a_reply_and_a_bounce(app)
    stop = threading.Event()
    rounds: list[object] = []

    def once() -> None:  # one idle round, then stop the runner
        rounds.append(deliver_webhooks(app))
        stop.set()

    serve(app, stop, poll_seconds=0, when_idle=once)
    assert len(rounds) == 1
    assert sorted(e["type"] for e in receiver.received) == ["bounce", "reply"]
    app.close()
