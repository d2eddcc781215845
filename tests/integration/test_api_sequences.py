"""/v1/sequences as an admin and a CRM use it: list, show versions, check a draft, publish."""

from __future__ import annotations

from pathlib import Path

import pytest

from sequencer.services.enroll import enroll_csv
from sequencer.services.mailboxes import add_mailbox
from tests.integration.api_client import ApiHarness, assert_error
from tests.integration.helpers import COLD, write_csv

pytestmark = pytest.mark.integration
COLD_TEXT = COLD.read_text("utf-8")
YAML = {"Content-Type": "application/yaml"}
DRAFT = """\
name: tiny
schedule:
  timezone: Europe/Paris
  windows:
    mon-fri: ["09:00-11:00"]
steps:
  - id: intro
    type: email
    template: cold/intro_a.j2
    subject: hello
  - id: call
    type: call
    wait: 2 business days
"""


def publish(api: ApiHarness, text: str, **kwargs: object) -> dict[str, object]:
    answer = api.post("/v1/sequences", as_="admin", content=text.encode(), headers={
        **YAML, **kwargs.pop("headers", {})}, **kwargs)  # type: ignore[dict-item]
    assert answer.status_code == 201, answer.text
    found: dict[str, object] = answer.json()
    return found


def test_a_valid_draft_answers_valid_and_stores_nothing(api: ApiHarness) -> None:
    answer = api.post("/v1/sequences/validate", as_="read", content=DRAFT.encode(),
                      headers=YAML)

    assert answer.status_code == 200, answer.text
    assert answer.json()["valid"] is True and answer.json()["name"] == "tiny"
    assert api.get("/v1/sequences").json()["items"] == []


def test_a_broken_draft_lists_every_problem_with_its_line(api: ApiHarness) -> None:
    broken = DRAFT.replace("Europe/Paris", "Europe/Atlantis").replace(
        "type: call", "type: carrier_pigeon")

    answer = api.post("/v1/sequences/validate", as_="read",
                      json={"source": broken, "filename": "tiny.yaml"})

    report = answer.json()
    assert answer.status_code == 200 and report["valid"] is False
    lines = {p["line"]: p for p in report["problems"]}
    assert "Europe/Atlantis" in lines[3]["message"] and lines[3]["severity"] == "error"
    assert "carrier_pigeon" in lines[12]["message"]
    assert all(p["file"] == "tiny.yaml" for p in report["problems"])


def test_a_draft_naming_a_missing_template_is_invalid(api: ApiHarness) -> None:
    report = api.post("/v1/sequences/validate", as_="read", headers=YAML,
                      content=DRAFT.replace("cold/intro_a.j2", "cold/nope.j2").encode()).json()
    assert report["valid"] is False
    assert any("nope.j2" in p["message"] for p in report["problems"])


def test_a_body_that_is_not_yaml_or_json_is_refused(api: ApiHarness) -> None:
    assert_error(api.post("/v1/sequences/validate", as_="read", content=b"x",
                          headers={"Content-Type": "image/png"}), 415,
                 "unsupported_media_type")
    assert_error(api.post("/v1/sequences/validate", as_="read", json={"yaml": "x"}), 422,
                 "invalid_request")
    assert_error(api.post("/v1/sequences/validate", as_="read", content=b"\xff\xfe",
                          headers=YAML), 400, "invalid_input")


def test_publishing_needs_admin_and_a_valid_definition(api: ApiHarness) -> None:
    assert_error(api.post("/v1/sequences", as_=None, content=DRAFT.encode(), headers=YAML),
                 401, "unauthenticated")
    assert_error(api.post("/v1/sequences", as_="write", content=DRAFT.encode(), headers=YAML),
                 403, "forbidden")
    body = assert_error(api.post("/v1/sequences", as_="admin", headers=YAML,
                                 content=DRAFT.replace("09:00", "9 o'clock").encode()),
                        422, "invalid_sequence")
    assert body["details"][0]["line"] == 5
    assert api.get("/v1/sequences").json()["items"] == []


def test_a_changed_definition_is_a_new_version_and_the_same_one_is_not(
        api: ApiHarness) -> None:
    first = publish(api, DRAFT)
    same = publish(api, DRAFT)
    changed = publish(api, DRAFT.replace("2 business days", "3 business days"))

    assert first["created"] is True and same["created"] is False
    assert same["version_id"] == first["version_id"]
    assert changed["created"] is True and changed["version"] != first["version"]
    detail = api.get("/v1/sequences/tiny").json()
    assert [v["version"] for v in detail["versions"]] == [first["version"],
                                                          changed["version"]]
    assert [(s["id"], s["type"], s["wait"]) for s in detail["steps"]] == [
        ("intro", "email", "0 days"), ("call", "call", "3 business days")]
    old = api.get(f"/v1/sequences/tiny/versions/{first['version']}").json()
    assert old["source"] == DRAFT and old["steps"][1]["wait"] == "2 business days"
    assert api.get("/v1/sequences/tiny/versions/latest").json()["id"] == changed["version_id"]


def test_a_retried_publish_with_the_same_key_is_answered_once(api: ApiHarness) -> None:
    key = {"Idempotency-Key": "publish-tiny"}
    first = publish(api, DRAFT, headers=key)
    again = api.post("/v1/sequences", as_="admin", content=DRAFT.encode(),
                     headers={**YAML, **key})
    assert again.json() == first and again.headers["Idempotent-Replayed"] == "true"


def test_the_list_counts_live_enrollments_by_status(api: ApiHarness, tmp_path: Path) -> None:
    add_mailbox(api.app, "ana@sender.example", transport=f"file://{tmp_path}", daily_cap=50)
    enroll_csv(api.app, COLD, write_csv(tmp_path / "p.csv", "email,timezone",
                                        "ann@acme.example,America/New_York",
                                        "bea@globex.example,Europe/Paris"),
               mailbox="ana@sender.example")
    publish(api, DRAFT)

    listed = api.get("/v1/sequences").json()["items"]

    by_name = {s["name"]: s for s in listed}
    assert by_name["cold-outbound"]["enrollments"] == {"active": 2, "paused": 0,
                                                       "finished": 0, "exited": 0}
    assert by_name["cold-outbound"]["versions"] == 1
    assert by_name["tiny"]["enrollments"]["active"] == 0
    page = api.get("/v1/sequences", params={"limit": 1}).json()
    rest = api.get("/v1/sequences", params={"cursor": page["next_cursor"]}).json()
    assert [s["name"] for s in page["items"] + rest["items"]] == ["cold-outbound", "tiny"]
    shown = api.get("/v1/sequences/cold-outbound").json()
    assert shown["enrollments"]["active"] == 2 and shown["steps"][0]["id"] == "intro"
    assert "a: cold/intro_a.j2" in shown["steps"][0]["variants"]


def test_unknown_sequences_and_versions_are_404(api: ApiHarness) -> None:
    publish(api, DRAFT)
    assert "'nope'" in assert_error(api.get("/v1/sequences/nope"), 404, "not_found")["message"]
    assert_error(api.get("/v1/sequences/tiny/versions/abc"), 404, "not_found")
    assert_error(api.get("/v1/sequences", as_=None), 401, "unauthenticated")
    assert_error(api.post("/v1/sequences/validate", as_=None, content=b"x", headers=YAML),
                 401, "unauthenticated")
