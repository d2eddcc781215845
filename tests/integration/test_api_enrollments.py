"""/v1/enrollments as a CRM uses it: enroll many, list, explain, pause, resume, exit,
and read an enrollment's history."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from sequencer.runtime.embedded import next_wake, run_once
from sequencer.services.mailboxes import add_mailbox
from sequencer.store.upsert import suppress
from tests.integration.api_client import ApiHarness, assert_error
from tests.integration.helpers import COLD

pytestmark = pytest.mark.integration
SENDER = "ana@sender.example"
ANN = {"email": "ann@acme.example", "first_name": "Ann", "company": "Acme",
       "timezone": "America/New_York", "country": "US"}


@pytest.fixture
def ready(api: ApiHarness, tmp_path: Path) -> ApiHarness:
    """A mailbox, and cold-outbound published through the API."""
    add_mailbox(api.app, SENDER, transport=f"file://{tmp_path / 'out'}", daily_cap=100)
    published = api.post("/v1/sequences", as_="admin", content=COLD.read_bytes(),
                         headers={"Content-Type": "application/yaml"})
    assert published.status_code == 201, published.text
    return api


def enroll(api: ApiHarness, *items: dict[str, object], **kwargs: object) -> dict[str, object]:
    answer = api.post("/v1/enrollments", json={"sequence": "cold-outbound", "mailbox": SENDER,
                                               "prospects": list(items)}, **kwargs)
    assert answer.status_code == 201, answer.text
    found: dict[str, object] = answer.json()
    return found


def one(api: ApiHarness) -> int:
    result = enroll(api, ANN)
    items = result["items"]
    assert isinstance(items, list) and items[0]["status"] == "enrolled"
    enrollment_id: int = items[0]["enrollment_id"]
    return enrollment_id


def test_enrolling_many_answers_each_item_with_the_csv_skip_reasons(ready: ApiHarness) -> None:
    api = ready
    dnc = api.post("/v1/prospects", json={"email": "dan@umbrella.example",
                                          "do_not_contact": True})
    assert dnc.status_code == 201
    known = api.post("/v1/prospects", json={"email": "eve@hooli.example",
                                            "timezone": "Europe/Paris"}).json()
    with api.app.sessions.begin() as session:
        suppress(session, "gone@initech.example", "unsubscribed", api.clock.now())

    result = enroll(api, ANN, {"prospect_id": known["id"]}, {"email": "not an address"},
                    {"email": "cy@x.example", "timezone": "Mars/Base"},
                    {"email": "ANN@acme.example"}, {"email": "gone@initech.example"},
                    {"email": "dan@umbrella.example"}, {"prospect_id": 99999})

    items = result["items"]
    assert [(i["index"], i["status"], i["code"]) for i in items] == [
        (0, "enrolled", None), (1, "enrolled", None), (2, "skipped", "invalid_email"),
        (3, "skipped", "unknown_timezone"), (4, "skipped", "duplicate_in_file"),
        (5, "skipped", "suppressed"), (6, "skipped", "do_not_contact"),
        (7, "skipped", "unknown_prospect")]
    assert (result["enrolled"], result["skipped"]) == (2, 6)
    assert "Mars/Base" in items[3]["reason"] and "earlier in this request" in items[4]["reason"]
    assert items[1]["prospect_id"] == known["id"]
    shown = api.get(f"/v1/enrollments/{items[0]['enrollment_id']}").json()
    assert shown["email"] == "ann@acme.example" and shown["status"] == "active"
    again = enroll(api, {"prospect_id": items[0]["prospect_id"]})
    assert again["items"][0]["code"] == "already_active"


def test_enroll_refuses_an_unknown_sequence_or_mailbox_or_a_malformed_body(
        ready: ApiHarness) -> None:
    api = ready
    body = {"sequence": "nope", "mailbox": SENDER, "prospects": [ANN]}
    bad = assert_error(api.post("/v1/enrollments", json=body), 422, "invalid_request")
    assert bad["details"][0]["field"] == "body.sequence" and "'nope'" in bad["message"]
    bad = assert_error(api.post("/v1/enrollments", json={**body, "sequence": "cold-outbound",
                                                         "mailbox": "who@x.example"}),
                       422, "invalid_request")
    assert bad["details"][0]["field"] == "body.mailbox"
    assert_error(api.post("/v1/enrollments", json={**body, "prospects": []}), 422,
                 "invalid_request")
    assert_error(api.post("/v1/enrollments", json={**body, "prospects": [{}]}), 422,
                 "invalid_request")
    assert_error(api.post("/v1/enrollments", json={**body, "prospects": [
        {"email": "a@b.example", "prospect_id": 1}]}), 422, "invalid_request")
    assert_error(api.post("/v1/enrollments", json={**body, "prospects": [ANN] * 1001}), 422,
                 "invalid_request")
    assert_error(api.post("/v1/enrollments", json=body, as_=None), 401, "unauthenticated")
    assert_error(api.post("/v1/enrollments", json=body, as_="read"), 403, "forbidden")


def test_a_retried_enroll_with_the_same_key_enrolls_once(ready: ApiHarness) -> None:
    api = ready
    key = {"Idempotency-Key": "enroll-ann"}
    first = enroll(api, ANN, headers=key)
    again = api.post("/v1/enrollments", headers=key, json={
        "sequence": "cold-outbound", "mailbox": SENDER, "prospects": [ANN]})

    assert again.json() == first and again.headers["Idempotent-Replayed"] == "true"
    assert len(api.get("/v1/enrollments").json()["items"]) == 1


def test_listing_filters_and_pages(ready: ApiHarness) -> None:
    api = ready
    enroll(api, *({"email": f"p{n}@globex.example"} for n in range(5)))
    first = api.get("/v1/enrollments", params={"limit": 3}).json()
    rest = api.get("/v1/enrollments", params={"limit": 3, "cursor": first["next_cursor"]}
                   ).json()
    assert len(first["items"]) == 3 and len(rest["items"]) == 2
    assert rest["next_cursor"] is None
    pid = first["items"][0]["prospect_id"]
    assert [e["prospect_id"] for e in api.get(
        "/v1/enrollments", params={"prospect_id": pid}).json()["items"]] == [pid]
    assert len(api.get("/v1/enrollments", params={"sequence": "cold-outbound",
                                                  "mailbox": SENDER,
                                                  "status": "active"}).json()["items"]) == 5
    assert api.get("/v1/enrollments", params={"status": "paused"}).json()["items"] == []
    assert_error(api.get("/v1/enrollments", params={"status": "sleeping"}), 422,
                 "invalid_request")
    assert_error(api.get("/v1/enrollments", as_=None), 401, "unauthenticated")


def test_show_says_what_comes_next_and_why_not_yet(ready: ApiHarness) -> None:
    api = ready
    enrollment_id = one(api)

    shown = api.get(f"/v1/enrollments/{enrollment_id}").json()

    assert shown["current_step"] == "intro" and shown["next_step"] == "intro (email)"
    assert shown["why"].startswith("waiting: due at") and "America/New_York" in shown["why"]
    assert shown["next_run_at"] is not None
    assert "enrollment #777" in assert_error(api.get("/v1/enrollments/777"), 404,
                                             "not_found")["message"]


def test_pause_resume_exit_and_the_conflicts_between_them(ready: ApiHarness) -> None:
    api = ready
    enrollment_id = one(api)
    base = f"/v1/enrollments/{enrollment_id}"
    until = (api.clock.now() + timedelta(days=3)).isoformat()

    assert_error(api.post(f"{base}/resume"), 409, "conflict")  # active: nothing to resume
    paused = api.post(f"{base}/pause", json={"reason": "talking to legal", "until": until})
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "paused"
    assert paused.json()["pause_reason"] == "talking to legal"
    assert "talking to legal" in api.get(base).json()["why"]
    resumed = api.post(f"{base}/resume")
    assert resumed.json()["status"] == "active" and resumed.json()["pause_reason"] is None
    exited = api.post(f"{base}/exit", json={"reason": "moved to a partner"})
    assert exited.json()["status"] == "exited"
    assert exited.json()["exit_reason"] == "moved to a partner"
    body = assert_error(api.post(f"{base}/pause", json={}), 409, "conflict")
    assert "exited" in body["message"]
    assert_error(api.post(f"{base}/exit", json={}), 409, "conflict")


def test_pause_refuses_a_naive_or_past_until_and_actions_need_write(ready: ApiHarness) -> None:
    api = ready
    base = f"/v1/enrollments/{one(api)}"
    naive = assert_error(api.post(f"{base}/pause", json={"until": "2026-12-01T09:00:00"}),
                         422, "invalid_request")
    assert naive["details"][0]["field"] == "body.until"
    past = (api.clock.now() - timedelta(days=1)).isoformat()
    assert "until" in assert_error(api.post(f"{base}/pause", json={"until": past}), 400,
                                   "invalid_input")["message"]
    assert_error(api.post(f"{base}/pause", json={}, as_="read"), 403, "forbidden")
    assert_error(api.post(f"{base}/exit", json={}, as_=None), 401, "unauthenticated")
    assert_error(api.post("/v1/enrollments/4242/pause", json={}), 404, "not_found")
    assert_error(api.post("/v1/enrollments/4242/resume"), 404, "not_found")
    assert_error(api.post(f"{base}/exit", json={"reason": ""}), 422, "invalid_request")


def test_history_tells_the_send_and_the_hand_actions_in_order(ready: ApiHarness) -> None:
    api = ready
    enrollment_id = one(api)
    wake = next_wake(api.app)
    assert wake is not None
    api.clock.set(wake)
    run_once(api.app)
    api.post(f"/v1/enrollments/{enrollment_id}/pause", json={"reason": "on holiday"})
    api.post(f"/v1/enrollments/{enrollment_id}/resume")

    history = api.get(f"/v1/enrollments/{enrollment_id}/history").json()["items"]

    assert [h["kind"] for h in history] == ["enrolled", "email_sent", "manual_pause",
                                            "manual_resume"]
    assert history[1]["step"] == "intro" and "email sent: '" in history[1]["summary"]
    assert "on holiday" in history[2]["summary"]
    assert all(h["enrollment_id"] == enrollment_id and h["sequence"] == "cold-outbound"
               for h in history)
    page = api.get(f"/v1/enrollments/{enrollment_id}/history", params={"limit": 3}).json()
    tail = api.get(f"/v1/enrollments/{enrollment_id}/history",
                   params={"cursor": page["next_cursor"]}).json()
    assert page["items"] + tail["items"] == history
    assert_error(api.get("/v1/enrollments/4242/history"), 404, "not_found")
