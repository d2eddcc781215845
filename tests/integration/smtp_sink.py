"""An aiosmtpd Controller on a free port, for the tests that need a real SMTP server."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from sequencer.runtime.transports import close_all


class FreePortController(Controller):
    """A Controller bound to port 0; reads back the port the OS chose before use."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class Sink:
    """An SMTP server that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelope_senders: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        self.envelope_senders.append(envelope.mail_from)
        return "250 2.0.0 Ok: queued as T1"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"].addresses[0].addr_spec == address]


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    """A recording SMTP server on a free port: (the recorder, its port)."""
    handler = Sink()
    controller = FreePortController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    yield handler, controller.port
    close_all()  # the SMTP connections this thread's sends kept open for reuse
    controller.stop()
