"""The web app through its HTTP client: sign-in, the rep's day, one-click outcomes,
the prospect page, the manager's pages, CSRF and read-only tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from sequencer.api import create_app
from sequencer.services.api_tokens import revoke_token
from sequencer.services.task_queue import get_task
from tests.e2e.world import World, build_world

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Browser:
    """A TestClient that signs in through the form, as a person does."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.client = TestClient(create_app(world.app), raise_server_exceptions=True,
                                 follow_redirects=False)

    def sign_in(self, token: str, next_path: str = "") -> httpx.Response:
        form = self.client.get("/app/login")
        return self.client.post("/app/login", data={
            "token": token, "csrf": csrf_of(form), "next": next_path})

    def page(self, path: str) -> httpx.Response:
        answer = self.client.get(path)
        assert answer.status_code == 200, answer.text
        return answer


def csrf_of(answer: httpx.Response) -> str:
    found = CSRF.search(answer.text)
    assert found, "no CSRF field on the page"
    return found.group(1)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    found = build_world(database_url, tmp_path)
    yield found
    found.app.close()


@pytest.fixture
def empty(database_url: str, tmp_path: Path) -> Iterator[World]:
    found = build_world(database_url, tmp_path, with_tasks=False)
    yield found
    found.app.close()


@pytest.fixture
def rita(world: World) -> Browser:
    browser = Browser(world)
    assert browser.sign_in(world.write_token).status_code == 303
    return browser


def test_pages_send_a_signed_out_visitor_to_sign_in_and_back(world: World) -> None:
    browser = Browser(world)
    for path in ("/app/", "/app/today", "/app/reports", "/app/sequences", "/app/mailboxes",
                 "/app/prospects/1", "/app/sequences/call-first"):
        answer = browser.client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/app/login?next=/app/")
        assert answer.content == b"", "a redirect, not an API error body"
    signed = browser.sign_in(world.write_token, "/app/mailboxes")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/app/mailboxes"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/app" in cookie
    assert world.write_token not in cookie.split(";")[0]  # signed and encoded, not bare
    assert browser.page("/app/mailboxes").status_code == 200


def test_sign_in_refuses_a_bad_token_and_a_foreign_next_page(world: World) -> None:
    browser = Browser(world)
    answer = browser.sign_in("sqt_000000000000_not-a-token")
    assert answer.status_code == 401
    assert "That token is not valid" in answer.text
    assert "sequencer_session" not in answer.headers.get("set-cookie", "")
    answer = browser.sign_in(world.write_token, "https://evil.example/")
    assert answer.headers["location"] == "/app/"


def test_sign_in_without_the_form_value_is_refused(world: World) -> None:
    browser = Browser(world)
    answer = browser.client.post("/app/login", data={"token": world.write_token})
    assert answer.status_code == 403
    assert "sequencer_session" not in answer.headers.get("set-cookie", "")


def test_a_forged_or_revoked_session_signs_nobody_in(rita: Browser, world: World) -> None:
    value = rita.client.cookies["sequencer_session"]
    rita.client.cookies.set("sequencer_session", value[:-2] + "00", path="/app")
    assert rita.client.get("/app/today").status_code == 303
    rita.client.cookies.set("sequencer_session", value, path="/app")
    assert rita.client.get("/app/today").status_code == 200
    revoke_token(world.app, 1)
    rita.client.app.state.token_cache._seen.clear()  # type: ignore[attr-defined]  # its 30 s
    assert rita.client.get("/app/today").status_code == 303


def test_the_reps_day_lists_the_due_calls_with_one_button_per_outcome(rita: Browser) -> None:
    html = rita.page("/app/today").text
    assert html.count('<article class="task"') == 3
    for outcome in ("Connected", "Voicemail", "No answer", "Wrong number", "Skip"):
        assert f">{outcome}</button>" in html
    assert "Ask who owns outbound tooling." in html
    assert "&lt;b&gt;Evil&lt;/b&gt;" in html and "<b>Evil</b>" not in html  # escaped
    assert 'lang="en"' in html and "<main" in html and "<nav" in html
    assert 'for="notes-1"' in html


def test_one_click_logs_the_outcome_and_shows_the_enrollment_advance(rita: Browser,
                                                                    world: World) -> None:
    task = world.task_ids[0]
    today = rita.page("/app/today")
    answer = rita.client.post(f"/app/tasks/{task}", data={
        "outcome": "voicemail", "notes": "left a message", "csrf": csrf_of(today)})
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"/app/today?done={task}")
    html = rita.page(f"/app/today?done={task}").text
    assert "Logged: voicemail" in html
    assert "follow-up (email)" in html  # the next step
    assert html.count('<article class="task"') == 2
    done = get_task(world.app, task)
    assert done is not None and done.state == "done" and done.outcome == "voicemail"
    assert done.notes == "left a message"


def test_a_post_without_the_csrf_value_is_refused(rita: Browser, world: World) -> None:
    task = world.task_ids[0]
    for data in ({"outcome": "connected"}, {"outcome": "connected", "csrf": "forged"}):
        answer = rita.client.post(f"/app/tasks/{task}", data=data)
        assert answer.status_code == 403
        assert "This form has expired" in answer.text
    found = get_task(world.app, task)
    assert found is not None and found.state == "open"


def test_a_read_token_sees_the_day_but_cannot_act(world: World) -> None:
    reader = Browser(world)
    reader.sign_in(world.read_token)
    html = reader.page("/app/today").text
    assert "(read only)" in html and "<button type=\"submit\" name=\"outcome\"" not in html
    answer = reader.client.post(f"/app/tasks/{world.task_ids[0]}", data={
        "outcome": "connected", "csrf": csrf_of(reader.page("/app/today"))})
    assert answer.status_code == 403
    assert "can only read" in answer.text
    page = reader.page("/app/prospects/1").text
    assert ">Pause</button>" not in page


def test_an_outcome_that_does_not_fit_the_task_says_why(rita: Browser, world: World) -> None:
    answer = rita.client.post(f"/app/tasks/{world.task_ids[0]}", data={
        "outcome": "done", "csrf": csrf_of(rita.page("/app/today"))})
    assert answer.status_code == 409
    assert "is not an outcome of a call task" in answer.text


def test_the_prospect_page_pauses_resumes_and_exits_an_enrollment(rita: Browser) -> None:
    html = rita.page("/app/prospects/1").text
    assert "ana@acme.example" in html and "call-first" in html and ">Pause</button>" in html
    csrf = csrf_of(rita.page("/app/prospects/1"))
    for action, status in (("pause", "paused"), ("resume", "active"), ("exit", "exited")):
        answer = rita.client.post(f"/app/enrollments/1/{action}", data={"csrf": csrf})
        assert answer.status_code == 303, answer.text
        html = rita.page(answer.headers["location"].split("#")[0]).text
        assert f'<span class="tag {status}">{status}</span>' in html
    assert ">Pause</button>" not in html and ">Exit</button>" not in html


def test_unknown_prospects_sequences_and_actions_answer_404(rita: Browser) -> None:
    assert rita.client.get("/app/prospects/999").status_code == 404
    assert rita.client.get("/app/sequences/nope").status_code == 404
    csrf = csrf_of(rita.page("/app/today"))
    assert rita.client.post("/app/enrollments/1/dance", data={"csrf": csrf}).status_code == 404
    assert rita.client.post("/app/tasks/999", data={"csrf": csrf, "outcome": "connected"}
                            ).status_code == 404


def test_the_manager_pages_render_with_data(rita: Browser) -> None:
    html = rita.page("/app/sequences").text
    assert "call-first" in html and "<th scope=\"col\" class=\"num\">Active</th>" in html
    html = rita.page("/app/sequences/call-first").text
    assert "call-1" in html and "follow-up" in html
    assert "The next 14 days of 3 active enrollments" in html
    assert html.count("<td>follow-up</td>") == 3  # each prospect's email, two days on
    html = rita.page("/app/mailboxes").text
    assert "rita@ourco.example" in html and ">40</td>" in html
    html = rita.page("/app/reports?sequence=call-first&since=2026-11-01").text
    assert '<iframe class="report"' in html and 'title="Reply-rate report for call-first"' in html
    report = rita.page("/app/reports/view?sequence=call-first&since=2026-11-01").text
    assert "<svg" in report or "No email" in report or "empty" in report
    assert rita.client.get("/app/reports?since=yesterday").status_code == 400


def test_every_page_renders_with_no_data(empty: World) -> None:
    browser = Browser(empty)
    browser.sign_in(empty.write_token)
    assert "Nothing due today" in browser.page("/app/today").text
    assert "No sequence has been published" in browser.page("/app/sequences").text
    assert "No mailbox yet" in browser.page("/app/mailboxes").text
    assert "<iframe" in browser.page("/app/reports").text
    assert browser.page("/app/reports/view").status_code == 200


def test_a_token_without_an_owner_is_told_why_its_day_is_empty(world: World) -> None:
    from sequencer.services.api_tokens import create_token

    _, raw = create_token(world.app, "robot", scope="write")
    browser = Browser(world)
    browser.sign_in(raw)
    assert "names no rep" in browser.page("/app/today").text


def test_sign_out_ends_the_session(rita: Browser) -> None:
    answer = rita.client.post("/app/logout", data={"csrf": csrf_of(rita.page("/app/today"))})
    assert answer.status_code == 303 and answer.headers["location"] == "/app/login"
    assert rita.client.get("/app/today").status_code == 303
