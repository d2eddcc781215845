"""/v1/tasks through the HTTP client: a rep lists their day, logs a call, skips a touch,
and sees the enrollment move on (and the call's outcome pick the branch)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from sequencer.runtime.embedded import drain
from sequencer.store.models import Enrollment, Prospect, StepRun, Task
from tests.integration.api_client import ApiHarness, assert_error
from tests.integration.test_task_queue import seed_call_tasks

pytestmark = pytest.mark.integration


@pytest.fixture
def rita(api: ApiHarness, tmp_path: Path) -> ApiHarness:
    """Rita owns the New York mailbox; Béa's and Ann's call-1 tasks are open."""
    seed_call_tasks(api.app, api.clock, tmp_path, owner="rita")
    return api


def tasks(api: ApiHarness, query: str = "", as_: str = "read") -> list[dict[str, Any]]:
    response = api.get(f"/v1/tasks{query}", as_=as_)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def current_step(api: ApiHarness, email: str) -> tuple[str, str | None]:
    with api.app.sessions() as session:
        row = session.execute(select(Enrollment.status, Enrollment.current_step).join(
            Prospect, Prospect.id == Enrollment.prospect_id)
            .where(Prospect.email == email)).one()
        return row[0], row[1]


def test_lists_my_tasks_with_the_prospect_and_what_the_call_may_answer(rita: ApiHarness
                                                                       ) -> None:
    mine = tasks(rita, "?assignee=me")

    assert [(t["kind"], t["step"], t["prospect_email"]) for t in mine] == [
        ("call", "call-1", "bea@globex.example"), ("call", "call-1", "ann@acme.example")]
    ann = mine[1]
    assert ann["outcomes"] == ["connected", "no_answer", "voicemail", "wrong_number"]
    assert (ann["phone"], ann["prospect_name"], ann["assignee"]) == ("+1 555 0100", "Ann Lee",
                                                                     "rita")
    assert ann["due_at"].startswith("2026-11-25T13:18")
    assert tasks(rita, "?assignee=sam") == []
    assert tasks(rita, "?kind=linkedin_connect") == []
    assert len(tasks(rita, "?state=all")) == 2 and tasks(rita, "?state=done") == []


def test_due_today_is_the_reps_local_day(rita: ApiHarness) -> None:
    bea, ann = tasks(rita)
    with rita.app.sessions.begin() as session:  # now: Thursday 26 Nov 07:00 in New York
        session.execute(update(Task).where(Task.id == ann["id"]).values(
            due_at=datetime(2026, 11, 27, 4, 30, tzinfo=UTC)))  # Thursday 23:30 in New York
        session.execute(update(Task).where(Task.id == bea["id"]).values(
            due_at=datetime(2026, 11, 27, 6, 0, tzinfo=UTC)))  # Friday 01:00 in New York

    assert [t["prospect_email"] for t in tasks(rita, "?assignee=me&due=today")] == [
        "ann@acme.example"]
    rita.clock.set(datetime(2026, 11, 28, 12, tzinfo=UTC))  # overdue stays on the list
    assert len(tasks(rita, "?assignee=me&due=today")) == 2

    until = tasks(rita, "?due_until=2026-11-27T05:00:00%2B00:00")
    assert [t["prospect_email"] for t in until] == ["ann@acme.example"]
    since = tasks(rita, "?due_from=2026-11-27T05:00:00Z")
    assert [t["prospect_email"] for t in since] == ["bea@globex.example"]


def test_pages_follow_the_cursor(rita: ApiHarness) -> None:
    first = rita.get("/v1/tasks?limit=1").json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = rita.get(f"/v1/tasks?limit=1&cursor={first['next_cursor']}").json()
    assert [t["prospect_email"] for t in second["items"]] == ["ann@acme.example"]
    assert second["next_cursor"] is None


def test_refuses_bad_filters_with_the_field_named(rita: ApiHarness) -> None:
    naive = assert_error(rita.get("/v1/tasks?due_from=2026-11-25T12:00:00"), 422,
                         "invalid_request")
    assert naive["details"][0]["field"] == "query.due_from"
    assert_error(rita.get("/v1/tasks?state=closed"), 422, "invalid_request")
    assert_error(rita.get("/v1/tasks?kind=fax"), 422, "invalid_request")
    assert_error(rita.get("/v1/tasks?due=tomorrow"), 422, "invalid_request")
    assert_error(rita.get("/v1/tasks?limit=0"), 422, "invalid_request")
    assert_error(rita.get("/v1/tasks?cursor=nonsense"), 400, "invalid_cursor")


def test_me_needs_a_token_with_an_owner(rita: ApiHarness) -> None:
    from sequencer.services.api_tokens import create_token

    _, raw = create_token(rita.app, "ci", scope="read")
    response = rita.client.get("/v1/tasks?assignee=me",
                               headers={"Authorization": f"Bearer {raw}"})
    body = assert_error(response, 422, "invalid_request")
    assert "owner" in body["message"]


def test_shows_one_task_and_404_names_it(rita: ApiHarness) -> None:
    first = tasks(rita)[0]
    shown = rita.get(f"/v1/tasks/{first['id']}")
    assert shown.status_code == 200 and shown.json() == first
    missing = assert_error(rita.get("/v1/tasks/9999"), 404, "not_found")
    assert "task #9999" in missing["message"]
    assert_error(rita.get("/v1/tasks/0"), 422, "invalid_request")
    assert_error(rita.get("/v1/tasks/abc"), 422, "invalid_request")


def test_scopes(rita: ApiHarness) -> None:
    task_id = tasks(rita)[0]["id"]
    assert_error(rita.get("/v1/tasks", as_=None), 401, "unauthenticated")
    assert_error(rita.get(f"/v1/tasks/{task_id}", as_=None), 401, "unauthenticated")
    assert_error(rita.post(f"/v1/tasks/{task_id}/complete", as_="read",
                           json={"outcome": "voicemail"}), 403, "forbidden")
    assert_error(rita.post(f"/v1/tasks/{task_id}/skip", as_="read"), 403, "forbidden")
    assert_error(rita.post(f"/v1/tasks/{task_id}/skip", as_=None), 401, "unauthenticated")


def test_completing_a_call_moves_the_enrollment_on_and_a_second_time_is_409(
        rita: ApiHarness) -> None:
    ann = next(t for t in tasks(rita) if t["prospect_email"] == "ann@acme.example")
    assert current_step(rita, "ann@acme.example") == ("active", "call-1")

    done = rita.post(f"/v1/tasks/{ann['id']}/complete",
                     json={"outcome": "voicemail", "notes": "left a message"})

    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["state"], body["outcome"], body["notes"]) == ("done", "voicemail",
                                                               "left a message")
    assert body["completed_at"] and body["enrollment_status"] == "active"
    assert current_step(rita, "ann@acme.example") == ("active", "bump")
    assert [t["prospect_email"] for t in tasks(rita)] == ["bea@globex.example"]
    again = assert_error(rita.post(f"/v1/tasks/{ann['id']}/complete",
                                   json={"outcome": "voicemail"}), 409, "conflict")
    assert "done already" in again["message"]
    assert_error(rita.post(f"/v1/tasks/{ann['id']}/skip"), 409, "conflict")


def test_a_wrong_outcome_is_422_naming_the_allowed_ones(rita: ApiHarness) -> None:
    task_id = tasks(rita)[0]["id"]

    wrong = assert_error(rita.post(f"/v1/tasks/{task_id}/complete", json={"outcome": "done"}),
                         422, "invalid_outcome")

    assert "connected, no_answer, voicemail, wrong_number" in wrong["message"]
    assert wrong["details"][0]["field"] == "body.outcome"
    assert_error(rita.post(f"/v1/tasks/{task_id}/complete", json={}), 422, "invalid_request")
    assert_error(rita.post(f"/v1/tasks/{task_id}/complete", json={"outcome": "x" * 33}),
                 422, "invalid_request")
    assert_error(rita.post("/v1/tasks/9999/complete", json={"outcome": "voicemail"}),
                 404, "not_found")
    assert tasks(rita)[0]["state"] == "open"


def test_skipping_moves_on_without_the_step(rita: ApiHarness) -> None:
    bea = tasks(rita)[0]

    skipped = rita.post(f"/v1/tasks/{bea['id']}/skip", json={"notes": "no number"})

    assert skipped.status_code == 200, skipped.text
    assert (skipped.json()["state"], skipped.json()["outcome"]) == ("skipped", "skipped")
    assert current_step(rita, "bea@globex.example") == ("active", "bump")
    assert rita.post(f"/v1/tasks/{tasks(rita)[0]['id']}/skip").status_code == 200  # no body


def test_the_calls_outcome_picks_the_branch(rita: ApiHarness) -> None:
    """cold-outbound's check-engaged: a connected call goes to call-2, no answer to value."""
    for task in tasks(rita):
        outcome = "connected" if task["prospect_email"] == "ann@acme.example" else "no_answer"
        assert rita.post(f"/v1/tasks/{task['id']}/complete",
                         json={"outcome": outcome}).status_code == 200
    for _ in range(4):  # bump, then the LinkedIn connect each, then the branch
        drain(rita.app, rita.clock, until=rita.clock.now() + timedelta(days=7))
        for task in tasks(rita, "?kind=linkedin_connect"):
            assert rita.post(f"/v1/tasks/{task['id']}/complete",
                             json={"outcome": "done"}).status_code == 200

    calls = [(t["prospect_email"], t["step"]) for t in tasks(rita, "?kind=call")]
    assert ("ann@acme.example", "call-2") in calls
    assert steps_run(rita, "ann@acme.example").count("value") == 0  # engaged: straight on
    assert steps_run(rita, "bea@globex.example").count("value") == 1  # not: the value email


def steps_run(api: ApiHarness, email: str) -> list[str]:
    with api.app.sessions() as session:
        return list(session.scalars(select(StepRun.step_id)
                                    .join(Enrollment, Enrollment.id == StepRun.enrollment_id)
                                    .join(Prospect, Prospect.id == Enrollment.prospect_id)
                                    .where(Prospect.email == email)))
