"""CRM bodies mapped item by item: the generic, HubSpot and Salesforce shapes, CRM stage
names through the editable map, and errors that name the item and the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from sequencer.crm.inbound import Parsed, parse
from sequencer.crm.stages import StageMap, parse_stage_map
from sequencer.errors import InputError
from sequencer.inbound.webhook_auth import MalformedPayload
from sequencer.reporting.lifecycle import Lifecycle

LIFECYCLE = Lifecycle()


def read(source: str, payload: Any, stages: StageMap | None = None) -> Parsed:
    return parse(source, json.dumps(payload).encode(), stages=stages or StageMap(),
                 lifecycle=LIFECYCLE)


def errors(parsed: Parsed) -> list[tuple[int, str | None, str]]:
    return [(e.index, e.id, e.field) for e in parsed.errors]


def test_a_generic_object_is_one_stage_change_in_the_lifecycles_spelling() -> None:
    parsed = read("generic", {"id": "evt_1", "type": "stage_changed", "email": "A@B.example",
                              "stage": "sql", "value": 1200, "currency": "eur",
                              "occurred_at": "2026-11-23T13:00:00+01:00"})
    [event] = parsed.events
    assert (event.id, event.kind, event.email, event.stage, event.value, event.currency) == (
        "evt_1", "stage_changed", "A@B.example", "SQL", 1200.0, "EUR")
    assert event.occurred_at == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_a_generic_list_keeps_good_items_and_names_each_bad_one() -> None:
    parsed = read("generic", [
        {"id": 1, "type": "meeting_booked", "email": "a@b.example"},
        {"id": 2, "type": "stage_changed", "email": "a@b.example"},
        {"id": 3, "type": "lunch", "email": "a@b.example"},
        {"type": "meeting_booked", "email": "a@b.example"},
        {"id": 5, "type": "stage_changed", "email": "a@b.example", "stage": "SQL",
         "value": -3},
        {"id": 6, "type": "meeting_booked", "email": "a@b.example",
         "occurred_at": "2026-11-23T12:00:00"},
        {"id": 7, "type": "stage_changed", "email": "a@b.example", "stage": "champion"},
        {"id": 8, "type": "meeting_booked", "email": "nobody"}])
    assert [e.id for e in parsed.events] == ["1"]
    assert errors(parsed) == [(1, "2", "stage"), (2, "3", "type"), (3, None, "id"),
                              (4, "5", "value"), (5, "6", "occurred_at"), (6, "7", "stage"),
                              (7, "8", "email")]
    assert "no time zone" in parsed.errors[4].message
    assert "crm_stages.yaml" in parsed.errors[5].message


def test_hubspot_property_changes_and_meetings_map_through_hubspots_names() -> None:
    parsed = read("hubspot", [
        {"eventId": 11, "subscriptionType": "contact.propertyChange", "objectId": 5,
         "propertyName": "lifecyclestage", "propertyValue": "marketingqualifiedlead",
         "occurredAt": 1795435200000, "email": "a@b.example"},
        {"eventId": 12, "subscriptionType": "contact.propertyChange", "objectId": 5,
         "propertyName": "hs_lead_status", "propertyValue": "OPEN_DEAL", "email": "a@b.example"},
        {"eventId": 13, "subscriptionType": "object.creation", "objectTypeId": "0-47",
         "objectId": 9, "email": "a@b.example"},
        {"eventId": 14, "subscriptionType": "contact.propertyChange", "objectId": 5,
         "propertyName": "lifecyclestage", "propertyValue": "lead"},
        {"eventId": 15, "subscriptionType": "contact.propertyChange", "objectId": 5,
         "propertyName": "firstname", "propertyValue": "Ann", "email": "a@b.example"},
        {"eventId": 16, "subscriptionType": "deal.creation", "email": "a@b.example"}])
    assert [(e.id, e.kind, e.stage) for e in parsed.events] == [
        ("11", "stage_changed", "MQL"), ("12", "stage_changed", "opportunity"),
        ("13", "meeting_booked", None)]
    assert parsed.events[0].occurred_at == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert errors(parsed) == [(3, "14", "email"), (4, "15", "propertyName"),
                              (5, "16", "subscriptionType")]
    assert "objectId" in parsed.errors[0].message


def test_hubspot_wants_an_array() -> None:
    with pytest.raises(MalformedPayload, match="array"):
        read("hubspot", {"eventId": 1})


def test_salesforce_opportunities_and_events() -> None:
    parsed = read("salesforce", {"records": [
        {"Id": "006A", "Email": "a@b.example", "StageName": "Negotiation/Review",
         "Amount": "5000.50", "CurrencyIsoCode": "USD",
         "LastModifiedDate": "2026-11-23T12:00:00.000+0000"},
        {"Id": "00QA", "Email": "c@d.example", "Status": "Closed - Not Converted"},
        {"Id": "00UA", "WhoEmail": "a@b.example", "StartDateTime": "2026-12-01T15:00:00Z",
         "CreatedDate": "2026-11-23T11:00:00Z"},
        {"EventUuid": "e-1", "ContactEmail": "a@b.example", "StageName": "Closed Won"},
        {"Id": "006B", "Email": "a@b.example", "StageName": "Mystery"}]})
    assert [(e.id, e.kind, e.stage, e.value) for e in parsed.events] == [
        ("006A:Negotiation/Review:2026-11-23T12:00:00+00:00", "stage_changed", "opportunity",
         5000.5), ("00QA:Closed - Not Converted:", "stage_changed", "lost", None),
        ("00UA", "meeting_booked", None, None), ("e-1", "stage_changed", "customer", None)]
    assert parsed.events[2].occurred_at == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    assert errors(parsed) == [(4, "006B", "StageName")]


def test_a_body_that_is_not_json_is_refused_whole() -> None:
    with pytest.raises(MalformedPayload, match="not JSON"):
        parse("generic", b"{nope", stages=StageMap(), lifecycle=LIFECYCLE)


def test_the_stage_map_can_be_edited_and_entries_removed() -> None:
    stages = parse_stage_map("hubspot:\n  customer: opportunity\n  lead: null\n"
                             "generic:\n  Hot: SQL\n")
    parsed = read("generic", {"id": 1, "type": "stage_changed", "email": "a@b.example",
                              "stage": "HOT"}, stages)
    assert parsed.events[0].stage == "SQL"
    assert stages.to_lifecycle("hubspot", "customer", LIFECYCLE) == "opportunity"
    assert stages.to_lifecycle("hubspot", "lead", LIFECYCLE) == "lead"  # the stage itself
    with pytest.raises(InputError, match="unknown source 'pipedrive'"):
        parse_stage_map("pipedrive: {won: customer}")
    with pytest.raises(InputError, match="mapped to 'champion'"):
        parse_stage_map("salesforce: {Won: champion}").to_lifecycle(
            "salesforce", "won", LIFECYCLE)
