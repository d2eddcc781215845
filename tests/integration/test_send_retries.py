"""Temporary refusals at send time: the same email goes out later, backing off, once.

A real SMTP server (aiosmtpd) answers 451 to the first attempts; the runtime must
retry the step in a later send window with the same Message-ID, wait longer each
time, and deliver it exactly once (RELIABILITY T3).
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sequencer.runtime.embedded import next_wake, run_once
from sequencer.runtime.executor import MAX_RETRY_AFTER, RETRY_AFTER, retry_delay
from sequencer.runtime.transports import close_all
from sequencer.services.enroll import enroll_csv
from sequencer.services.explain import explain
from sequencer.services.mailboxes import add_mailbox, set_mailbox_paused
from sequencer.store.models import Enrollment, Mailbox, Message, StepRun
from tests.integration.helpers import COLD, make_app, write_csv
from tests.integration.smtp_sink import FreePortController

pytestmark = pytest.mark.integration


class Refusing:
    """Says 451 to the first ``refusals`` messages, then accepts; logs every attempt."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.attempts: list[str] = []
        self.accepted: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.attempts.append(str(parsed["Message-ID"]))
        if len(self.attempts) <= self.refusals:
            return "451 4.3.0 Temporary local problem, try again later"
        self.accepted.append(parsed)
        return "250 2.0.0 Ok"


@pytest.fixture
def refusing() -> Iterator[tuple[Refusing, int]]:
    handler = Refusing(refusals=2)
    controller = FreePortController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    yield handler, controller.port
    controller.stop()


def test_a_temporary_refusal_is_retried_later_with_backoff_and_delivered_once(
        database_url: str, tmp_path: Path, refusing: tuple[Refusing, int]) -> None:
    server, port = refusing
    app, clock = make_app(database_url)
    add_mailbox(app, "ana@sender.example", transport=f"smtp://127.0.0.1:{port}?timeout=5",
                daily_cap=100)
    enroll_csv(app, COLD, write_csv(tmp_path / "p.csv", "email,first_name,timezone,country",
                                    "ann@acme.example,Ann,America/New_York,US"),
               mailbox="ana@sender.example")
    attempts_at: list[datetime] = []
    while not server.accepted:
        wake = next_wake(app)
        assert wake is not None and len(attempts_at) < 5
        clock.set(max(wake, clock.now()))
        before = len(server.attempts)
        run_once(app)
        if len(server.attempts) > before:
            attempts_at.append(clock.now())

    assert len(server.attempts) == 3 and len(set(server.attempts)) == 1  # one Message-ID
    assert len(server.accepted) == 1
    assert attempts_at[1] - attempts_at[0] >= RETRY_AFTER
    assert attempts_at[2] - attempts_at[1] >= 2 * RETRY_AFTER
    with app.sessions() as session:
        run = session.scalars(select(StepRun).where(StepRun.step_id == "intro")).one()
        message = session.scalars(select(Message)).one()
        enrollment = session.scalars(select(Enrollment)).one()
    assert (run.state, message.status, run.attempts) == ("sent", "sent", 3)
    assert enrollment.current_step != "intro"  # and the sequence went on
    app.close()


def test_the_retry_delay_doubles_honours_retry_after_and_is_capped() -> None:
    assert [retry_delay(n) for n in (1, 2, 3)] == [RETRY_AFTER, 2 * RETRY_AFTER,
                                                  4 * RETRY_AFTER]
    assert retry_delay(1, asked=3600) == timedelta(hours=1)
    assert retry_delay(30) == MAX_RETRY_AFTER
    assert retry_delay(1, asked=10 * 86400) == MAX_RETRY_AFTER


class Guarded(Refusing):
    """Accepts mail only after AUTH with the right password (no TLS: loopback test)."""

    def __init__(self) -> None:
        super().__init__(refusals=0)

    @staticmethod
    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"right"
        return AuthResult(success=ok, handled=False)


def test_a_refused_login_pauses_the_mailbox_and_its_steps_wait_instead_of_failing(
        database_url: str, tmp_path: Path) -> None:
    server = Guarded()
    controller = FreePortController(server, hostname="127.0.0.1", port=0,
                                    authenticator=server.authenticator,
                                    auth_require_tls=False)
    controller.start()
    app, clock = make_app(database_url)
    url = f"smtp://ana:{{}}@127.0.0.1:{controller.port}?timeout=5&starttls=no"
    add_mailbox(app, "ana@sender.example", transport=url.format("wrong"), daily_cap=100)
    enroll_csv(app, COLD, write_csv(tmp_path / "p.csv", "email,first_name,timezone,country",
                                    "ann@acme.example,Ann,America/New_York,US"),
               mailbox="ana@sender.example")
    try:
        wake = next_wake(app)
        assert wake is not None
        clock.set(wake)
        run_once(app)
        with app.sessions() as session:
            mailbox = session.scalars(select(Mailbox)).one()
            run = session.scalars(select(StepRun)).one()
            enrollment = session.scalars(select(Enrollment)).one()
        assert mailbox.paused and "535" in (mailbox.pause_reason or "")
        assert (run.state, enrollment.status) == ("deferred", "active")  # waiting, not failed
        assert "paused" in " ".join(str(e) for e in explain(app, "ann@acme.example"))

        add_mailbox(app, "ana@sender.example", transport=url.format("right"), daily_cap=100)
        set_mailbox_paused(app, "ana@sender.example", paused=False, reason=None)
        for _ in range(3):
            if server.accepted:
                break
            wake = next_wake(app)
            assert wake is not None
            clock.set(max(wake, clock.now()))
            run_once(app)
        assert len(server.accepted) == 1
    finally:
        close_all()
        controller.stop()
        app.close()
