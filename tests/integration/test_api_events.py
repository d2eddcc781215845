"""/v1/events through the HTTP client: a CRM tells us of a stage or a meeting, a rep
marks a reply; the sequences exit as they say, once per Idempotency-Key."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from sequencer.store.models import Enrollment, Event, Prospect
from tests.integration.api_client import ApiHarness, assert_error
from tests.integration.test_task_queue import seed_call_tasks

pytestmark = pytest.mark.integration


@pytest.fixture
def crm(api: ApiHarness, tmp_path: Path) -> ApiHarness:
    seed_call_tasks(api.app, api.clock, tmp_path)
    return api


def status_of(api: ApiHarness, email: str) -> tuple[str, str | None]:
    with api.app.sessions() as session:
        row = session.execute(select(Enrollment.status, Enrollment.exit_reason).join(
            Prospect, Prospect.id == Enrollment.prospect_id)
            .where(Prospect.email == email)).one()
        return row[0], row[1]


def count(api: ApiHarness, kind: str) -> int:
    with api.app.sessions() as session:
        return session.scalar(select(func.count()).select_from(Event)
                              .where(Event.kind == kind)) or 0


def test_an_opportunity_exits_the_cold_sequence_once_per_key(crm: ApiHarness) -> None:
    body = {"email": "Ann@Acme.example", "stage": "Opportunity", "value": 12000,
            "currency": "usd", "occurred_at": "2026-11-26T09:00:00+01:00"}
    key = {"Idempotency-Key": "crm-1"}

    first = crm.post("/v1/events/stage", json=body, headers=key)
    again = crm.post("/v1/events/stage", json=body, headers=key)

    assert first.status_code == again.status_code == 201, first.text
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json()["stage"] == "opportunity"
    assert first.json()["enrollments"] == [{"sequence": "cold-outbound", "status": "exited"}]
    assert status_of(crm, "ann@acme.example")[0] == "exited"
    assert status_of(crm, "bea@globex.example")[0] == "active"
    assert count(crm, "stage_changed") == 1


def test_a_meeting_exits(crm: ApiHarness) -> None:
    done = crm.post("/v1/events/meeting", json={"email": "bea@globex.example"})
    assert done.status_code == 201, done.text
    assert status_of(crm, "bea@globex.example")[0] == "exited"
    assert count(crm, "meeting_booked") == 1


def test_bad_events_are_refused_naming_the_field_or_the_prospect(crm: ApiHarness) -> None:
    missing = assert_error(crm.post("/v1/events/stage", json={"email": "zed@nowhere.example",
                                                              "stage": "SQL"}), 404,
                           "not_found")
    assert "zed@nowhere.example" in missing["message"]
    assert_error(crm.post("/v1/events/meeting", json={"email": "zed@nowhere.example"}),
                 404, "not_found")
    stage = assert_error(crm.post("/v1/events/stage", json={"email": "ann@acme.example",
                                                            "stage": "won-ish"}),
                         422, "invalid_request")
    assert stage["details"][0]["field"] == "body.stage" and "opportunity" in stage["message"]
    naive = assert_error(crm.post("/v1/events/meeting", json={
        "email": "ann@acme.example", "occurred_at": "2026-11-25T10:00:00"}), 422,
        "invalid_request")
    assert naive["details"][0]["field"] == "body.occurred_at"
    future = assert_error(crm.post("/v1/events/meeting", json={
        "email": "ann@acme.example", "occurred_at": "2030-01-01T00:00:00Z"}), 422,
        "invalid_request")
    assert "future" in future["message"]
    for bad in ({"email": "ann@acme.example", "stage": "SQL", "value": -1},
                {"email": "ann@acme.example", "stage": "SQL", "currency": "dollars"},
                {"email": "not-an-email", "stage": "SQL"}, {"stage": "SQL"}):
        assert_error(crm.post("/v1/events/stage", json=bad), 422, "invalid_request")
    assert status_of(crm, "ann@acme.example")[0] == "active"


def test_scopes(crm: ApiHarness) -> None:
    for path in ("/v1/events/stage", "/v1/events/meeting", "/v1/events/reply-mark"):
        assert_error(crm.post(path, as_=None, json={}), 401, "unauthenticated")
        assert_error(crm.post(path, as_="read", json={}), 403, "forbidden")


def test_marking_a_reply_by_email_or_event_id(crm: ApiHarness) -> None:
    none_yet = assert_error(crm.post("/v1/events/reply-mark", json={
        "email": "ann@acme.example", "mark": "positive"}), 404, "not_found")
    assert "has not replied" in none_yet["message"]
    with crm.app.sessions.begin() as session:
        prospect_id = session.scalar(select(Prospect.id).where(
            Prospect.email == "ann@acme.example"))
        older = Event(kind="reply", source_key="r1", prospect_id=prospect_id,
                      occurred_at=crm.clock.now(), payload={"reply_text": "later maybe"})
        session.add(older)
        session.flush()
        latest = Event(kind="reply", source_key="r2", prospect_id=prospect_id,
                       occurred_at=crm.clock.now(), payload={"reply_text": "sounds good"})
        session.add(latest)
        session.flush()
        older_id, latest_id = older.id, latest.id

    by_email = crm.post("/v1/events/reply-mark", json={"email": "ann@acme.example",
                                                       "mark": "positive"})
    by_id = crm.post("/v1/events/reply-mark", json={"event_id": latest_id, "mark": "positive"})

    assert by_email.status_code == by_id.status_code == 201, by_email.text
    assert by_email.json() == {"reply_event_id": latest_id, "mark": "positive",
                               "changed": True}
    assert by_id.json()["changed"] is False
    assert count(crm, "reply_marked") == 1
    older_marked = crm.post("/v1/events/reply-mark", json={"event_id": older_id,
                                                           "mark": "negative"})
    assert older_marked.status_code == 201, "any reply can be marked by its event id"
    assert older_marked.json() == {"reply_event_id": older_id, "mark": "negative",
                                   "changed": True}
    with crm.app.sessions() as session:
        marks = {e.id: e.payload.get("rep_mark") for e in session.scalars(
            select(Event).where(Event.kind == "reply"))}
    assert marks == {older_id: "negative", latest_id: "positive"}
    assert_error(crm.post("/v1/events/reply-mark", json={"event_id": 99999, "mark": "negative"}),
                 404, "not_found")
    assert_error(crm.post("/v1/events/reply-mark", json={"mark": "positive"}), 422,
                 "invalid_request")
    assert_error(crm.post("/v1/events/reply-mark", json={
        "email": "ann@acme.example", "event_id": latest_id, "mark": "positive"}), 422,
        "invalid_request")
    assert_error(crm.post("/v1/events/reply-mark", json={"email": "ann@acme.example",
                                                         "mark": "meh"}), 422,
                 "invalid_request")
