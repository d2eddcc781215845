"""The CRM webhooks in, through the HTTP app against a real database: signed requests
from the generic, HubSpot and Salesforce shapes record stages and meetings once per
CRM event id, and a stage the sequence exits on ends the enrollment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sequencer.api import create_app
from sequencer.clock import FakeClock
from sequencer.crm.signatures import hubspot_signature, sign
from sequencer.services.app import App
from sequencer.services.enroll import enroll_csv
from sequencer.services.mailboxes import add_mailbox
from sequencer.store.models import Enrollment, Event, Prospect
from tests.integration.helpers import COLD, make_app, write_csv

pytestmark = pytest.mark.integration
GENERIC, HUBSPOT, SALESFORCE = "generic-secret-0123", "hubspot-secret-0123", "sf-secret-0123"
PEOPLE = ("email,first_name,company,timezone,country",
          "ann@acme.example,Ann,Acme,America/New_York,US",
          "bob@bolt.example,Bob,Bolt,America/New_York,US")


@pytest.fixture
def world(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
          ) -> Iterator[tuple[App, FakeClock, TestClient]]:
    monkeypatch.chdir(tmp_path)  # the default lifecycle and CRM stage map
    monkeypatch.delenv("SEQUENCER_LIFECYCLE", raising=False)
    monkeypatch.delenv("SEQUENCER_CRM_STAGES", raising=False)
    app, clock = make_app(database_url)
    app.settings = replace(app.settings, crm_webhook_secret=GENERIC,
                           hubspot_app_secret=HUBSPOT, salesforce_webhook_secret=SALESFORCE)
    add_mailbox(app, "ana@sender.example", transport=f"file://{tmp_path / 'out'}", daily_cap=50)
    enroll_csv(app, COLD, write_csv(tmp_path / "p.csv", *PEOPLE), mailbox="ana@sender.example")
    clock.advance(timedelta(hours=1))
    with TestClient(create_app(app)) as client:
        yield app, clock, client
    app.close()


def post(client: TestClient, clock: FakeClock, source: str, payload: Any,
         secret: str | None = None) -> Any:
    body = json.dumps(payload).encode()
    secret = secret or {"generic": GENERIC, "salesforce": SALESFORCE}[source]
    return client.post(f"/v1/crm/{source}/events", content=body,
                       headers={"X-Sequencer-Signature": sign(secret, body, now=clock.now()),
                                "Content-Type": "application/json"})


def statuses(app: App) -> dict[str, tuple[str, str | None]]:
    with app.sessions() as session:
        return {email: (status, reason) for email, status, reason in session.execute(
            select(Prospect.email, Enrollment.status, Enrollment.exit_reason).join(
                Enrollment, Enrollment.prospect_id == Prospect.id))}


def events(app: App, kind: str) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(Event).where(
            Event.kind == kind)) or 0


def test_a_generic_stage_change_the_sequence_exits_on_ends_the_enrollment(world: Any) -> None:
    app, clock, client = world
    answer = post(client, clock, "generic", {
        "id": "evt_1", "type": "stage_changed", "email": "Ann@Acme.example",
        "stage": "opportunity", "value": 1200, "currency": "eur"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["applied"][0]["enrollments"] == [
        {"sequence": "cold-outbound", "status": "exited"}]
    assert statuses(app)["ann@acme.example"] == ("exited", "stage:opportunity")
    assert statuses(app)["bob@bolt.example"][0] == "active"


def test_the_same_crm_event_delivered_twice_is_applied_once(world: Any) -> None:
    app, clock, client = world
    payload = [{"id": "evt_7", "type": "meeting_booked", "email": "bob@bolt.example"},
               {"id": "evt_8", "type": "stage_changed", "email": "bob@bolt.example",
                "stage": "sql"}]
    first = post(client, clock, "generic", payload)
    second = post(client, clock, "generic", payload)
    assert [a["id"] for a in first.json()["applied"]] == ["evt_7", "evt_8"]
    assert second.status_code == 200
    assert second.json()["applied"] == [] and len(second.json()["duplicates"]) == 2
    assert events(app, "meeting_booked") == 1 and events(app, "stage_changed") == 1
    assert statuses(app)["bob@bolt.example"] == ("exited", "meeting_booked")


def test_a_batch_with_bad_items_applies_the_good_ones_and_names_the_others(world: Any) -> None:
    app, clock, client = world
    answer = post(client, clock, "generic", [
        {"id": "a", "type": "stage_changed", "email": "ann@acme.example", "stage": "MQL"},
        {"id": "b", "type": "stage_changed", "email": "nobody@x.example", "stage": "MQL"},
        {"id": "c", "type": "stage_changed", "email": "ann@acme.example", "stage": "Hot"},
        {"id": "d", "type": "meeting_booked"},
        "not an object"])
    assert answer.status_code == 422
    data = answer.json()
    assert [a["id"] for a in data["applied"]] == ["a"]
    refused = {r["index"]: (r["id"], r["field"]) for r in data["refused"]}
    assert refused == {1: ("b", "email"), 2: ("c", "stage"), 3: ("d", "email"),
                       4: (None, "(item)")}
    assert "unknown stage 'Hot'" in data["refused"][1]["error"]
    assert events(app, "stage_changed") == 1


def test_hubspot_events_signed_v3_record_stages_and_meetings(world: Any) -> None:
    app, clock, client = world
    body = json.dumps([
        {"eventId": 101, "subscriptionType": "contact.propertyChange", "objectId": 5,
         "propertyName": "lifecyclestage", "propertyValue": "salesqualifiedlead",
         "occurredAt": int(clock.now().timestamp() * 1000) - 60_000,
         "email": "ann@acme.example"},
        {"eventId": 102, "subscriptionType": "meeting.creation", "objectId": 9,
         "email": "bob@bolt.example"}]).encode()
    stamp = str(int(clock.now().timestamp() * 1000))
    url = "http://localhost:8000/v1/crm/hubspot/events"  # SEQUENCER_PUBLIC_URL's default
    headers = {"X-HubSpot-Signature-v3": hubspot_signature(HUBSPOT, "POST", url, body, stamp),
               "X-HubSpot-Request-Timestamp": stamp}
    answer = client.post("/v1/crm/hubspot/events", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert [(a["email"], a["stage"]) for a in answer.json()["applied"]] == [
        ("ann@acme.example", "SQL"), ("bob@bolt.example", None)]
    assert statuses(app)["bob@bolt.example"] == ("exited", "meeting_booked")
    headers["X-HubSpot-Signature-v3"] = hubspot_signature("wrong", "POST", url, body, stamp)
    assert client.post("/v1/crm/hubspot/events", content=body,
                       headers=headers).status_code == 401


def test_salesforce_closed_won_exits_and_an_event_books_a_meeting(world: Any) -> None:
    app, clock, client = world
    modified = (clock.now() - timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    answer = post(client, clock, "salesforce", {"records": [
        {"Id": "0061x", "Email": "ann@acme.example", "StageName": "Closed Won",
         "Amount": 5000, "CurrencyIsoCode": "USD", "LastModifiedDate": modified},
        {"Id": "00U1x", "WhoEmail": "bob@bolt.example", "StartDateTime": modified}]})
    assert answer.status_code == 200, answer.text
    assert statuses(app) == {"ann@acme.example": ("exited", "stage:customer"),
                             "bob@bolt.example": ("exited", "meeting_booked")}
    with app.sessions() as session:
        payload = session.scalars(select(Event.payload).where(
            Event.kind == "stage_changed")).one()
    assert (payload["stage"], payload["value"], payload["currency"]) == ("customer", 5000, "USD")


def test_bad_expired_or_unsigned_requests_change_nothing(world: Any) -> None:
    app, clock, client = world
    item = {"id": "x", "type": "meeting_booked", "email": "ann@acme.example"}
    assert post(client, clock, "generic", item, secret="not-the-secret").status_code == 401
    body = json.dumps(item).encode()
    stale = sign(GENERIC, body, now=clock.now() - timedelta(minutes=6))
    assert client.post("/v1/crm/generic/events", content=body,
                       headers={"X-Sequencer-Signature": stale}).status_code == 401
    assert client.post("/v1/crm/generic/events", content=body).status_code == 401
    assert events(app, "meeting_booked") == 0
    good = sign(GENERIC, b"not json", now=clock.now())
    assert client.post("/v1/crm/generic/events", content=b"not json",
                       headers={"X-Sequencer-Signature": good}).status_code == 400


def test_a_source_without_its_secret_is_off_and_says_how_to_turn_it_on(world: Any) -> None:
    app, clock, client = world
    app.settings = replace(app.settings, salesforce_webhook_secret=None)
    answer = post(client, clock, "salesforce", {"Id": "1"})
    assert answer.status_code == 403
    assert "SEQUENCER_SALESFORCE_WEBHOOK_SECRET" in answer.text
    assert client.post("/v1/crm/pipedrive/events", content=b"{}").status_code == 404
