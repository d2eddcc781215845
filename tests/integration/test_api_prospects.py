"""/v1/prospects as a CRM or a script uses it: create, list, read, update, import."""

from __future__ import annotations

import pytest

from tests.integration.api_client import ApiHarness, assert_error

pytestmark = pytest.mark.integration
ANN = {"email": "Ann@Acme.example", "first_name": "Ann", "company": "Acme",
       "timezone": "America/New_York", "country": "us", "owner": "rita",
       "custom": {"pain_point": "slow onboarding"}}


def create(api: ApiHarness, body: dict[str, object], **kwargs: object) -> dict[str, object]:
    answer = api.post("/v1/prospects", json=body, **kwargs)
    assert answer.status_code == 201, answer.text
    found: dict[str, object] = answer.json()
    return found


def test_a_created_prospect_can_be_read_back_with_its_fields(api: ApiHarness) -> None:
    made = create(api, ANN)

    shown = api.get(f"/v1/prospects/{made['id']}")

    assert shown.status_code == 200
    assert shown.json() == made
    assert made["email"] == "Ann@Acme.example" and made["country"] == "US"
    assert made["custom"] == {"pain_point": "slow onboarding"}
    assert made["do_not_contact"] is False


def test_a_known_email_is_409_already_exists_naming_the_existing_prospect(
        api: ApiHarness) -> None:
    made = create(api, ANN)

    body = assert_error(api.post("/v1/prospects", json={"email": "ann@ACME.example"}),
                        409, "already_exists")

    assert body["details"][0]["existing_id"] == made["id"]
    assert f"#{made['id']}" in body["message"]


@pytest.mark.parametrize(("field", "value", "says"), [
    ("email", "not-an-address", "not an email address"),
    ("email", "jos\u00e9@acme.example", "not an email address"),
    ("timezone", "Mars/Olympus", "unknown time zone"),
    ("country", "ZZ", "unknown country"),
    ("first_name", "x" * 121, "at most 120"),
    ("company", "Acme\x00", "NUL"),
])
def test_bad_fields_are_422_naming_the_field(api: ApiHarness, field: str, value: str,
                                             says: str) -> None:
    body = assert_error(api.post("/v1/prospects", json={**ANN, field: value}),
                        422, "invalid_request")
    assert body["details"][0]["field"] == f"body.{field}"
    assert says in body["details"][0]["message"]


def test_an_unknown_field_is_refused_rather_than_dropped(api: ApiHarness) -> None:
    body = assert_error(api.post("/v1/prospects", json={**ANN, "emial": "x"}),
                        422, "invalid_request")
    assert body["details"][0]["field"] == "body.emial"


def test_scopes_on_prospects(api: ApiHarness) -> None:
    assert_error(api.post("/v1/prospects", json=ANN, as_=None), 401, "unauthenticated")
    assert_error(api.post("/v1/prospects", json=ANN, as_="read"), 403, "forbidden")
    assert_error(api.get("/v1/prospects", as_=None), 401, "unauthenticated")
    assert_error(api.patch("/v1/prospects/1", json={}, as_="read"), 403, "forbidden")
    assert_error(api.post("/v1/prospects/import", json=[], as_="read"), 403, "forbidden")


def test_an_unknown_prospect_is_404_naming_it(api: ApiHarness) -> None:
    body = assert_error(api.get("/v1/prospects/999"), 404, "not_found")
    assert "prospect #999" in body["message"]
    assert_error(api.patch("/v1/prospects/999", json={"title": "CTO"}), 404, "not_found")
    assert_error(api.get("/v1/prospects/999/timeline"), 404, "not_found")
    assert_error(api.get("/v1/prospects/0"), 422, "invalid_request")


def test_a_retried_create_with_the_same_key_creates_one_prospect(api: ApiHarness) -> None:
    key = {"Idempotency-Key": "create-ann-1"}
    first = api.post("/v1/prospects", json=ANN, headers=key)
    again = api.post("/v1/prospects", json=ANN, headers=key)

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert len(api.get("/v1/prospects").json()["items"]) == 1


def test_listing_filters_and_pages(api: ApiHarness) -> None:
    for n in range(5):
        create(api, {"email": f"p{n}@globex.example", "company": "Globex",
                     "owner": "rita" if n % 2 else "sam", "stage": "lead"})
    create(api, ANN)

    first = api.get("/v1/prospects", params={"company": "Globex", "limit": 2}).json()
    second = api.get("/v1/prospects", params={"company": "Globex", "limit": 2,
                                               "cursor": first["next_cursor"]}).json()
    by_owner = api.get("/v1/prospects", params={"owner": "rita"}).json()["items"]
    by_email = api.get("/v1/prospects", params={"email": "ANN@acme.EXAMPLE"}).json()["items"]

    assert [p["email"] for p in first["items"]] == ["p0@globex.example", "p1@globex.example"]
    assert [p["email"] for p in second["items"]] == ["p2@globex.example", "p3@globex.example"]
    assert {p["email"] for p in by_owner} == {"p1@globex.example", "p3@globex.example",
                                              "Ann@Acme.example"}
    assert [p["first_name"] for p in by_email] == ["Ann"]
    assert api.get("/v1/prospects", params={"stage": "customer"}).json() == {
        "items": [], "next_cursor": None}
    assert_error(api.get("/v1/prospects", params={"cursor": "garbage!"}), 400,
                 "invalid_cursor")


def test_patch_changes_only_what_is_sent_and_merges_custom_fields(api: ApiHarness) -> None:
    made = create(api, ANN)

    changed = api.patch(f"/v1/prospects/{made['id']}", json={
        "title": "VP Sales", "company": None, "do_not_contact": True,
        "custom": {"pain_point": None, "tool": "Salesforce"}})

    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert after["title"] == "VP Sales" and after["company"] is None
    assert after["first_name"] == "Ann" and after["timezone"] == "America/New_York"
    assert after["do_not_contact"] is True
    assert after["custom"] == {"tool": "Salesforce"}
    bad = assert_error(api.patch(f"/v1/prospects/{made['id']}",
                                 json={"timezone": "Europe/Nowhere"}), 422, "invalid_request")
    assert bad["details"][0]["field"] == "body.timezone"
    assert_error(api.patch(f"/v1/prospects/{made['id']}", json={"email": "x@y.example"}),
                 422, "invalid_request")


def test_a_json_import_creates_updates_and_refuses_row_by_row(api: ApiHarness) -> None:
    create(api, ANN)

    answer = api.post("/v1/prospects/import", json=[
        {"email": "bea@globex.example", "first_name": "Bea", "timezone": "Europe/Paris",
         "plan": "pro"},
        {"email": "ann@acme.example", "title": "CEO", "custom": {"tool": "HubSpot"}},
        {"email": "nobody"},
        {"email": "cy@initech.example", "timezone": "Moon/Base"},
        {"email": "BEA@globex.example"},
    ])

    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert (result["created"], result["updated"], result["refused"]) == (1, 1, 3)
    rows = result["rows"]
    assert [r["outcome"] for r in rows] == ["created", "updated", "refused", "refused",
                                            "refused"]
    assert [r["index"] for r in rows] == [0, 1, 2, 3, 4]
    assert "email" in rows[2]["reason"] and "Moon/Base" in rows[3]["reason"]
    assert "earlier" in rows[4]["reason"]
    ann = api.get(f"/v1/prospects/{rows[1]['prospect_id']}").json()
    assert ann["title"] == "CEO" and ann["first_name"] == "Ann"  # empty fields kept
    assert ann["custom"] == {"pain_point": "slow onboarding", "tool": "HubSpot"}
    bea = api.get(f"/v1/prospects/{rows[0]['prospect_id']}").json()
    assert bea["custom"] == {"plan": "pro"}


def test_a_csv_import_names_each_refused_line(api: ApiHarness) -> None:
    csv = ("email,first_name,timezone,country,pain_point\n"
           "dan@umbrella.example,Dan,Europe/Berlin,DE,churn\n"
           "bad-address,Eve,,,\n"
           "fay@umbrella.example,Fay,Nowhere/City,,\n")

    answer = api.post("/v1/prospects/import", content=csv.encode(),
                      headers={"Content-Type": "text/csv"})

    assert answer.status_code == 201, answer.text
    rows = answer.json()["rows"]
    assert [(r["line"], r["outcome"]) for r in rows] == [(2, "created"), (3, "refused"),
                                                         (4, "refused")]
    dan = api.get(f"/v1/prospects/{rows[0]['prospect_id']}").json()
    assert dan["custom"] == {"pain_point": "churn"} and dan["country"] == "DE"
    assert_error(api.post("/v1/prospects/import", content=b"name\nx\n",
                          headers={"Content-Type": "text/csv"}), 400, "invalid_input")
    assert_error(api.post("/v1/prospects/import", content=b"<xml/>",
                          headers={"Content-Type": "application/xml"}), 415,
                 "unsupported_media_type")
    assert_error(api.post("/v1/prospects/import", json={"not": "a list"}), 400,
                 "invalid_input")
    too_many = [{"email": f"p{n}@x.example"} for n in range(1001)]
    assert_error(api.post("/v1/prospects/import", json=too_many), 400, "invalid_input")


def test_a_retried_import_with_the_same_key_answers_the_same_and_creates_nothing_new(
        api: ApiHarness) -> None:
    key = {"Idempotency-Key": "import-1"}
    body = [{"email": "gus@hooli.example"}]
    first = api.post("/v1/prospects/import", json=body, headers=key)
    again = api.post("/v1/prospects/import", json=body, headers=key)

    assert first.json() == again.json()
    assert again.json()["rows"][0]["outcome"] == "created"  # not "updated": a replay
    assert_error(api.post("/v1/prospects/import", json=[{"email": "h@x.example"}],
                          headers=key), 422, "idempotency_key_reused")
