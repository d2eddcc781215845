"""The web app as a rep and a manager use it: Debian's Chromium, headless, driven by
Playwright against a real uvicorn server on a free port.

The server runs in a thread on a socket bound and listening before the test starts,
so the browser's first request simply waits in the backlog: no polling, no sleeping.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn

from sequencer.api import create_app
from sequencer.runtime.embedded import drain
from sequencer.services.app import App
from sequencer.services.enrollment_actions import enrollment_detail
from sequencer.services.task_queue import close_task, get_task
from sequencer.store.migrate import upgrade
from tests.e2e.world import World, build_world

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path("/tmp")

if not CHROMIUM.exists():
    _message = (f"{CHROMIUM} is missing; the browser tests need Debian's chromium "
                "(`make test` installs it with apt)")
    if os.environ.get("CI"):
        pytest.fail(f"{_message}: under CI this is a failure, not a skip", pytrace=False)
    pytest.skip(_message, allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

Serve = Callable[[App], AbstractContextManager[str]]


@contextmanager
def serving(app: App) -> Iterator[str]:
    """The app on a real uvicorn server at 127.0.0.1:<free port>; its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(app), log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]},
                              name="uvicorn", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        found = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                           headless=True)
        yield found
        found.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    found = context.new_page()
    found.set_default_timeout(15_000)
    yield found
    context.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    upgrade(url)
    found = build_world(url, tmp_path)
    yield found
    found.app.close()


def sign_in(page: Page, base: str, token: str, path: str) -> None:
    page.goto(f"{base}{path}")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def test_a_rep_signs_in_logs_a_call_with_one_click_and_sees_the_enrollment_advance(
        page: Page, world: World) -> None:
    with serving(world.app) as base:
        sign_in(page, base, world.write_token, "/app/today")
        expect(page).to_have_url(f"{base}/app/today")
        expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
        tasks = page.locator("article.task")
        expect(tasks).to_have_count(3)
        first = tasks.first
        expect(first).to_contain_text("Ask who owns outbound tooling.")
        task_id = int((first.get_attribute("aria-labelledby") or "").removeprefix("task-"))
        first.get_by_label("Notes").fill("left a voicemail about tooling")
        first.get_by_role("button", name="Voicemail").click()

        result = page.get_by_role("status")
        expect(result).to_contain_text("Logged: voicemail")
        expect(result.locator(".enrollment-status")).to_have_text("active")
        expect(result.locator(".next-step")).to_have_text("follow-up (email)")
        expect(tasks).to_have_count(2)
        page.screenshot(path=str(SCREENSHOTS / "web-today.png"), full_page=True)

    task = get_task(world.app, task_id)
    assert task is not None and task.state == "done" and task.outcome == "voicemail"
    detail = enrollment_detail(world.app, task.enrollment_id)
    assert detail is not None and detail.enrollment.current_step == "follow-up"


def test_a_manager_opens_the_reports_page_and_sees_its_charts(page: Page,
                                                              world: World) -> None:
    for task_id in world.task_ids:  # the calls are made; the follow-up emails go out
        close_task(world.app, task_id, "no_answer")
    drain(world.app, world.clock, until=world.clock.now() + timedelta(days=3))
    with serving(world.app) as base:
        sign_in(page, base, world.read_token, "/app/reports")
        expect(page.get_by_role("heading", name="Reports")).to_be_visible()
        report = page.frame_locator("iframe.report")
        expect(report.get_by_role("heading", name="How our outreach is doing")).to_be_visible()
        charts = report.locator("svg")
        expect(charts.first).to_be_visible()
        assert charts.count() >= 3
        report.get_by_role("heading", name="Reply rate by step").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "web-reports.png"), full_page=True)

        page.get_by_label("Sequence").select_option("call-first")
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(f"{base}/app/reports?sequence=call-first&since=")
        expect(report.locator("svg").first).to_be_visible()
