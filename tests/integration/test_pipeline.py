"""A worker process's pipeline: concurrent runs share batches, each settles once."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

import sequencer.runtime.pipeline as pipeline_module
from sequencer.delivery import SmtpTransport
from sequencer.runtime.pipeline import Pipeline
from sequencer.runtime.scheduler import tick
from sequencer.services.enroll import enroll_csv
from sequencer.services.mailboxes import add_mailbox
from sequencer.store.models import Enrollment, Suppression
from tests.integration.helpers import COLD, MONDAY, make_app, write_csv
from tests.integration.smtp_sink import Sink

pytestmark = pytest.mark.integration
PEOPLE = [f"p{i}@x{i % 7}.example,P{i},America/New_York,US" for i in range(40)]


def setup(database_url: str, tmp_path: Path,  # type: ignore[no-untyped-def]
          transport: str | None = None):
    app, clock = make_app(database_url, MONDAY + timedelta(hours=2))  # 09:00 in New York
    outbox = tmp_path / "outbox"
    add_mailbox(app, "ana@sender.example", transport=transport or f"file://{outbox}",
                daily_cap=1000)
    enroll_csv(app, COLD, write_csv(tmp_path / "p.csv", "email,first_name,timezone,country",
                                    *PEOPLE, "gone@x.example,Gone,America/New_York,US"),
               mailbox="ana@sender.example")
    with app.sessions.begin() as session:  # suppressed after enrolling: caught at send time
        session.add(Suppression(kind="address", value="gone@x.example", reason="complaint",
                                created_at=MONDAY))
    with app.sessions() as session:  # when the last of them falls due (jitter spreads them)
        clock.set(session.scalar(select(func.max(Enrollment.next_run_at))))
    claimed: list[int] = []
    tick(app, claimed.extend)
    assert len(claimed) == 41
    return app, outbox, claimed


def run_concurrently(pipeline: Pipeline, run_ids: list[int]) -> dict[int, str | BaseException]:
    """Every run from its own thread, as Dramatiq's worker threads call the actor."""
    results: dict[int, str | BaseException] = {}
    start = threading.Barrier(len(run_ids))

    def call(run_id: int) -> None:
        start.wait()
        try:
            results[run_id] = pipeline.run(run_id)
        except BaseException as exc:
            results[run_id] = exc

    threads = [threading.Thread(target=call, args=(r,)) for r in run_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_runs_are_sent_once_each_in_shared_batches(
    database_url: str, tmp_path: Path
) -> None:
    app, outbox, claimed = setup(database_url, tmp_path)
    pipeline = Pipeline(app)
    try:
        results = run_concurrently(pipeline, claimed)
        again = run_concurrently(pipeline, claimed)  # every message delivered a second time
    finally:
        pipeline.close()
    assert sorted(map(str, results.values())) == ["sent"] * 40 + ["suppressed"]
    assert all(str(outcome).startswith("duplicate") for outcome in again.values())
    recipients = [p.read_text().split("\nTo: ", 1)[1].split("\n", 1)[0]
                  for p in outbox.glob("*.eml")]
    assert len(recipients) == len(set(recipients)) == 40
    assert max(pipeline.batches) > 1  # the runs under way were prepared together
    with app.sessions() as session:
        rows = session.scalars(select(Enrollment)).all()
    moved_on = [r for r in rows if r.status == "active"]
    assert len(moved_on) == 40 and all(r.current_step != "intro" and r.waiting_on is None
                                       and r.next_run_at is not None for r in moved_on)
    assert [r.exit_reason for r in rows if r.status == "exited"] == ["suppressed: complaint"]
    app.close()


def test_a_batch_that_fails_raises_in_its_callers_and_goes_through_on_the_retry(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, outbox, claimed = setup(database_url, tmp_path)
    real = pipeline_module.prepare_batch
    failures = [ConnectionError("the database went away")]

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        if failures:
            raise failures.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_module, "prepare_batch", flaky)
    pipeline = Pipeline(app)
    try:
        first = run_concurrently(pipeline, claimed[:1])
        retried = run_concurrently(pipeline, claimed)  # Dramatiq delivers them again
    finally:
        pipeline.close()
    assert isinstance(first[claimed[0]], ConnectionError)
    assert sorted(map(str, retried.values())) == ["sent"] * 40 + ["suppressed"]
    assert len(list(outbox.glob("*.eml"))) == 40
    app.close()


def test_messages_are_built_on_the_prepare_thread_and_the_send_lane_only_talks(
    database_url: str, tmp_path: Path, sink: tuple[Sink, int],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lane has one message in flight per process; building (MIME, DKIM) there
    would hold every other message back, so the prepare stage does it."""
    handler, port = sink
    app, _, claimed = setup(database_url, tmp_path, f"smtp://127.0.0.1:{port}?timeout=5")
    builders: list[str] = []
    real_build = SmtpTransport.build

    def build(self: SmtpTransport, email):  # type: ignore[no-untyped-def]
        builders.append(threading.current_thread().name)
        return real_build(self, email)

    monkeypatch.setattr(SmtpTransport, "build", build)
    pipeline = Pipeline(app)
    try:
        results = run_concurrently(pipeline, claimed)
    finally:
        pipeline.close()
    assert sorted(map(str, results.values())) == ["sent"] * 40 + ["suppressed"]
    assert builders == ["steps-prepare"] * 40
    received = [m["Message-ID"] for m in handler.messages]
    assert len(received) == len(set(received)) == 40
    app.close()
