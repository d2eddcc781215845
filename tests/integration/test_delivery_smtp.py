"""SmtpTransport against a real SMTP server (aiosmtpd, in process, on a free port).

The sink's handlers answer at once (no sleeps); aiosmtpd's Controller runs its event
loop in a thread of its own.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult

from sequencer.delivery import (
    OutboundEmail,
    SmtpTransport,
    UncertainSendError,
    build_mime,
    transport_from_url,
)
from sequencer.delivery.model import begin_send, build_ahead
from sequencer.errors import HeaderInjectionError, PermanentSendError, TransientSendError
from tests.integration.smtp_sink import FreePortController

LONG_LINE = "word " * 300  # 1,500 characters on one line: quoted-printable must wrap it
BODY = f"Hi Zoë,\n\n{LONG_LINE}\n.a line that starts with a dot\n— Ünal\n"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool = False


@dataclass
class Sink:
    """Records envelopes; can refuse recipients or drop the line after the final dot."""

    messages: list[Received] = field(default_factory=list)
    ehlos: int = 0
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    keep_refused: bool = False  # a sloppy server: a refused recipient still counts for DATA
    mail_replies: list[str] = field(default_factory=list)  # used up one per MAIL FROM
    data_reply: str = "250 2.0.0 Ok: queued as 4ABC123"
    drop_after_data: bool = False
    last_session: Any = None
    pipelining: bool = False  # offer RFC 2920 PIPELINING, as Postfix and the providers do
    pipelined: list[bool] = field(default_factory=list)  # per MAIL FROM: RCPT, DATA came too

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        self.ehlos += 1  # one per connection: the client never uses STARTTLS here
        session.host_name = hostname  # a custom EHLO hook must do what the default one does
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining \
            else responses

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        waiting = bytes(server._reader._buffer)  # what the client wrote after MAIL FROM
        self.pipelined.append(b"RCPT TO:" in waiting and b"DATA\r\n" in waiting)
        if self.mail_replies:
            return self.mail_replies.pop(0)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.rcpt_replies:
            if self.keep_refused:
                envelope.rcpt_tos.append(address)
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        tls = (session.ssl is not None  # after STARTTLS
               or server.transport.get_extra_info("ssl_object") is not None)  # implicit TLS
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                      envelope.content, tls=tls))
        self.last_session = server
        if self.drop_after_data:
            server.transport.close()  # the message arrived, the reply never will
        return self.data_reply


@pytest.fixture(params=[False, True], ids=["lockstep", "pipelining"])
def sink(request: pytest.FixtureRequest) -> Iterator[tuple[Sink, FreePortController]]:
    """The sink, once without and once with PIPELINING offered: every case holds for both."""
    handler = Sink(pipelining=request.param)
    controller = FreePortController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield handler, controller
    finally:
        controller.stop()


@pytest.fixture
def transport(sink: tuple[Sink, FreePortController]) -> Iterator[SmtpTransport]:
    smtp = transport_from_url(f"smtp://127.0.0.1:{sink[1].port}?timeout=5&helo=test.local")
    assert isinstance(smtp, SmtpTransport)
    yield smtp
    smtp.close()


def outbound(**changes: Any) -> OutboundEmail:
    base = OutboundEmail(
        message_id="<0123456789abcdef0123456789abcdef@mail.example.com>",
        from_address="zoe@example.com", from_name="Zoë Ünal",
        to_address="bob@example.org", to_name="Bob Builder",
        subject="Frage zu Ünal GmbH — kurz?", text_body=BODY,
        in_reply_to="<first@mail.example.com>",
        references=("<first@mail.example.com>", "<second@mail.example.com>"),
        headers={"X-Sequencer-Key": "42:intro:1"},
    )
    return replace(base, **changes)


def without_date(message: bytes) -> bytes:
    return b"\r\n".join(line for line in message.split(b"\r\n")
                        if not line.startswith(b"Date: "))


def test_message_arrives_with_exact_headers_and_parses_back(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport) -> None:
    handler, _ = sink
    sent = outbound()

    result = transport.send(sent)

    assert result.provider_id == "4ABC123"
    [got] = handler.messages
    assert (got.mail_from, got.rcpt_tos, got.tls) == ("zoe@example.com", ["bob@example.org"],
                                                       False)
    assert without_date(got.data) == without_date(build_mime(sent))  # byte for byte
    parsed = email.message_from_bytes(got.data, policy=email.policy.default)
    assert list(parsed.keys()) == [
        "From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
        "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "X-Sequencer-Key"]
    assert parsed["Subject"] == "Frage zu Ünal GmbH — kurz?"
    assert parsed["From"].addresses[0].display_name == "Zoë Ünal"
    assert parsed["From"].addresses[0].addr_spec == "zoe@example.com"
    assert parsed["To"].addresses[0].display_name == "Bob Builder"
    assert parsed["Message-ID"] == sent.message_id
    assert parsed["In-Reply-To"] == "<first@mail.example.com>"
    assert parsed["References"] == "<first@mail.example.com> <second@mail.example.com>"
    assert parsed["X-Sequencer-Key"] == "42:intro:1"
    assert parsed["Date"].datetime is not None
    assert parsed.get_content().replace("\r\n", "\n") == BODY
    assert all(len(line) <= 998 for line in got.data.split(b"\r\n"))


def test_two_sends_share_one_connection(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport) -> None:
    handler, _ = sink

    transport.send(outbound())
    transport.send(outbound(message_id="<second-message@mail.example.com>"))

    assert len(handler.messages) == 2
    assert handler.ehlos == 1


def test_a_server_offering_pipelining_gets_the_envelope_in_one_write(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport) -> None:
    handler, _ = sink

    transport.send(outbound())
    transport.send(outbound(message_id="<second-message@mail.example.com>"))

    assert handler.pipelined == [handler.pipelining] * 2  # one round trip instead of three
    assert len(handler.messages) == 2


def test_a_begun_send_delivers_nothing_until_it_is_finished(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport) -> None:
    handler, _ = sink
    transport.send(outbound())  # a connection to reuse: the next envelope goes out at once

    delivery = transport.begin(outbound(message_id="<second-message@mail.example.com>"))
    assert len(handler.messages) == 1  # the content has not left: nothing can be delivered
    delivery.finish()

    assert [m.data.count(b"second-message") for m in handler.messages] == [0, 1]
    assert handler.pipelined == [handler.pipelining] * 2
    assert handler.ehlos == 1
    with pytest.raises(RuntimeError, match="already finished"):
        delivery.finish()


def test_an_abandoned_send_delivers_nothing_and_the_next_one_goes_out(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport) -> None:
    handler, _ = sink
    transport.send(outbound())

    transport.begin(outbound(message_id="<abandoned@mail.example.com>")).abandon()
    transport.send(outbound(message_id="<after-abandon@mail.example.com>"))

    assert not any(b"abandoned@" in m.data for m in handler.messages)
    assert [m.data.count(b"after-abandon") for m in handler.messages] == [0, 1]


def test_a_message_refused_while_building_is_refused_when_finished_and_sends_nothing(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport) -> None:
    handler, _ = sink

    delivery = transport.begin(outbound(subject="a\nBcc: x@evil.test"))  # no error yet
    with pytest.raises(HeaderInjectionError):
        delivery.finish()

    assert handler.messages == []
    assert handler.ehlos == 0
    transport.send(outbound())  # the transport is free again
    assert len(handler.messages) == 1


def test_a_message_built_ahead_on_another_thread_is_delivered_byte_for_byte(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport) -> None:
    """The worker builds on its prepare thread, with that thread's own transport."""
    handler, controller = sink
    builder = transport_from_url(f"smtp://127.0.0.1:{controller.port}?timeout=5&helo=test.local")
    built: list[bytes | None] = []
    thread = threading.Thread(target=lambda: built.append(build_ahead(builder, outbound())))
    thread.start()
    thread.join()
    assert built[0] is not None and handler.ehlos == 0  # building opened no connection
    marked = built[0].replace(b"\r\nSubject:", b"\r\nX-Built: ahead\r\nSubject:", 1)

    begin_send(transport, outbound(), marked).finish()

    assert len(handler.messages) == 1  # sent as given, not built again in the lane:
    content = marked.removesuffix(b".\r\n").replace(b"\r\n..", b"\r\n.")
    assert handler.messages[0].data == content  # the Date and the dot-stuffing included
    assert b"\r\nX-Built: ahead\r\n" in handler.messages[0].data
    assert b"\r\n.a line that starts with a dot" in handler.messages[0].data


def test_a_message_that_cannot_be_built_ahead_is_refused_when_finished(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport) -> None:
    handler, _ = sink
    bad = outbound(subject="a\nBcc: x@evil.test")

    assert build_ahead(transport, bad) is None  # the prepare thread does not fail the batch
    with pytest.raises(HeaderInjectionError):
        begin_send(transport, bad, None).finish()  # the lane records the refusal, as before

    assert handler.messages == []
    transport.send(outbound())
    assert len(handler.messages) == 1


def test_a_connection_the_server_closed_between_sends_is_reopened_once(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport) -> None:
    handler, controller = sink
    transport.send(outbound())

    async def hang_up() -> None:
        handler.last_session.transport.close()

    asyncio.run_coroutine_threadsafe(hang_up(), controller.loop).result()
    transport.send(outbound(message_id="<after-reconnect@mail.example.com>"))

    assert [m.data.count(b"after-reconnect") for m in handler.messages] == [0, 1]
    assert handler.ehlos == 2


def test_a_421_at_mail_from_on_a_reused_connection_reconnects_once(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport) -> None:
    handler, _ = sink
    transport.send(outbound())
    handler.mail_replies = ["421 4.4.2 idle too long, closing"]

    transport.send(outbound(message_id="<after-421@mail.example.com>"))

    assert len(handler.messages) == 2
    assert handler.ehlos == 2


def test_a_421_on_a_fresh_connection_is_transient(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport) -> None:
    handler, _ = sink
    handler.mail_replies = ["421 4.3.2 shutting down"]

    with pytest.raises(TransientSendError, match=re.escape("421 4.3.2 shutting down")):
        transport.send(outbound())

    assert handler.messages == []


def test_451_on_rcpt_is_transient_and_the_connection_stays_usable(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport) -> None:
    handler, _ = sink
    handler.rcpt_replies["busy@example.org"] = "451 4.3.0 Try again later"

    with pytest.raises(TransientSendError, match="451") as caught:
        transport.send(outbound(to_address="busy@example.org"))
    transport.send(outbound())

    assert not isinstance(caught.value, UncertainSendError)
    assert len(handler.messages) == 1
    assert handler.ehlos == 1


def test_550_user_unknown_is_permanent_with_the_servers_reason(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport) -> None:
    handler, _ = sink
    handler.rcpt_replies["nobody@example.org"] = "550 5.1.1 user unknown"

    with pytest.raises(PermanentSendError) as caught:
        transport.send(outbound(to_address="nobody@example.org"))

    assert "550 5.1.1 user unknown" in str(caught.value)
    assert handler.messages == []


def test_a_refused_recipient_gets_nothing_even_if_the_server_then_says_go_ahead(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport) -> None:
    handler, _ = sink
    handler.rcpt_replies["nobody@example.org"] = "550 5.1.1 user unknown"
    handler.keep_refused = True  # so DATA, pipelined behind the refused RCPT, gets a 354

    with pytest.raises(PermanentSendError, match=re.escape("550 5.1.1 user unknown")):
        transport.send(outbound(to_address="nobody@example.org"))
    transport.send(outbound())

    assert [m.rcpt_tos for m in handler.messages] == [["bob@example.org"]]


def test_a_5xx_after_the_data_is_permanent_not_uncertain(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport) -> None:
    handler, _ = sink
    handler.data_reply = "554 5.7.1 Message rejected as spam"

    with pytest.raises(PermanentSendError, match=re.escape("554 5.7.1 Message rejected as spam")):
        transport.send(outbound())

    handler.data_reply = "250 OK"
    assert transport.send(outbound()).provider_id is None  # no queue id in that reply
    assert handler.ehlos == 1


def test_credentials_are_never_sent_over_a_connection_without_tls(
        sink: tuple[Sink, FreePortController]) -> None:
    handler, controller = sink
    smtp = transport_from_url(f"smtp://ann:secret@127.0.0.1:{controller.port}?timeout=5")

    with pytest.raises(PermanentSendError, match="in clear") as caught:
        smtp.send(outbound())

    assert "secret" not in str(caught.value)
    assert handler.messages == []


def test_connection_refused_is_transient() -> None:
    with socket.socket() as unused:  # bound but never listening: connects are refused
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        smtp = transport_from_url(f"smtp://127.0.0.1:{port}?timeout=5")

        with pytest.raises(TransientSendError, match="cannot connect") as caught:
            smtp.send(outbound())

    assert not isinstance(caught.value, UncertainSendError)


def test_a_line_dropped_after_the_final_dot_is_uncertain_not_transient(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport) -> None:
    handler, _ = sink
    handler.drop_after_data = True

    with pytest.raises(UncertainSendError, match="do not resend"):
        transport.send(outbound())

    assert len(handler.messages) == 1  # RFC 1047: the server has it, the client can't know
    handler.drop_after_data = False
    transport.send(outbound(message_id="<next@mail.example.com>"))
    assert handler.ehlos == 2


INJECTIONS = ["a\rBcc: x@evil.test", "a\nBcc: x@evil.test", "a\0b", "a\u2028Bcc: x@evil.test",
              "=?UTF-8?Q?=0A?=Bcc: x@evil.test"]
FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "subject": lambda bad: {"subject": bad},
    "from_name": lambda bad: {"from_name": bad},
    "to_name": lambda bad: {"to_name": bad},
    "extra header": lambda bad: {"headers": {"X-Sequencer-Key": bad}},
}


@pytest.mark.parametrize("bad", INJECTIONS)
@pytest.mark.parametrize("where", FIELDS)
def test_header_injection_is_refused_before_anything_reaches_the_server(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport,
        where: str, bad: str) -> None:
    handler, _ = sink

    with pytest.raises(HeaderInjectionError):
        transport.send(outbound(**FIELDS[where](bad)))

    assert handler.messages == []
    assert handler.ehlos == 0  # not even a connection was opened


def test_one_transport_is_safe_to_share_between_threads(
        sink: tuple[Sink, FreePortController], transport: SmtpTransport) -> None:
    handler, _ = sink
    errors: list[BaseException] = []

    def send_five(thread: int) -> None:
        try:
            for i in range(5):
                transport.send(outbound(message_id=f"<t{thread}-{i}@mail.example.com>"))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=send_five, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(handler.messages) == 20
    assert handler.ehlos == 1


# --- TLS, with a throwaway self-signed certificate ---------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return cert, key


def tls_server(certificate: tuple[Path, Path], *, kind: str
               ) -> tuple[Sink, FreePortController, list[tuple[str, bytes, bytes]]]:
    handler, logins = Sink(), []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        logins.append((mechanism, auth_data.login, auth_data.password))
        return AuthResult(success=True)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    # aiosmtpd only counts STARTTLS as TLS when deciding whether to offer AUTH
    tls: dict[str, Any] = {kind: context}
    controller = FreePortController(handler, hostname="127.0.0.1", port=0,
                                    authenticator=authenticator, **tls,
                                    auth_require_tls=kind == "tls_context")
    controller.start()
    return handler, controller, logins


@pytest.mark.parametrize("kind", ["tls_context", "ssl_context"])
def test_credentials_go_only_over_tls_starttls_or_implicit(
        certificate: tuple[Path, Path], kind: str) -> None:
    handler, controller, logins = tls_server(certificate, kind=kind)
    try:
        smtp = SmtpTransport("127.0.0.1", controller.port, implicit_tls=kind == "ssl_context",
                             username="ann", password="s3cret", timeout=5,
                             ssl_context=ssl.create_default_context(cafile=certificate[0]))
        smtp.send(outbound())
        smtp.close()
    finally:
        controller.stop()

    assert [m.tls for m in handler.messages] == [True]
    assert logins == [("PLAIN", b"ann", b"s3cret")]
    assert handler.ehlos == (2 if kind == "tls_context" else 1)  # EHLO again after STARTTLS


def test_an_untrusted_certificate_is_a_transient_failure_and_sends_nothing(
        certificate: tuple[Path, Path]) -> None:
    handler, controller, logins = tls_server(certificate, kind="tls_context")
    try:
        smtp = transport_from_url(f"smtp://ann:s3cret@127.0.0.1:{controller.port}?timeout=5")
        with pytest.raises(TransientSendError, match="certificate"):
            smtp.send(outbound())
    finally:
        controller.stop()

    assert handler.messages == []
    assert logins == []
