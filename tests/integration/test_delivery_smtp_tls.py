"""SmtpTransport over real TLS: aiosmtpd on loopback, certificates from a throw-away CA.

trustme makes the CA and the server's certificate; the client trusts that CA only
through the ``ssl_context`` it is given (or the URL's ``cafile``), so every test also
proves that the default verification is on. Connections are counted at the server by
the client's address and port, the only sure sign of reuse. Nothing sleeps.
"""

from __future__ import annotations

import email
import email.policy
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.smtp import AuthResult, LoginPassword

from sequencer.delivery import OutboundEmail, SmtpTransport, UncertainSendError, transport_from_url
from sequencer.errors import PermanentSendError, TransientSendError
from tests.integration.smtp_sink import FreePortController

USER, PASSWORD = "ann@example.com", "s3cret pa55"
BODY = "Hi Bob,\n\nOver TLS this time.\n\n— Zoë\n"


def outbound(n: int = 0) -> OutboundEmail:
    return OutboundEmail(
        message_id=f"<tls-{n}@mail.example.com>", from_address="zoe@example.com",
        from_name="Zoë Ünal", to_address="bob@example.org", to_name="Bob Builder",
        subject=f"Über TLS #{n}", text_body=BODY, headers={"X-Sequencer-Key": f"7:intro:{n}"})


@dataclass
class Received:
    peer: tuple[str, int]
    data: bytes
    tls: bool


@dataclass
class TlsSink:
    """Records each EHLO and message with the connection (peer) it came on, and logins."""

    messages: list[Received] = field(default_factory=list)
    ehlo_peers: list[tuple[str, int]] = field(default_factory=list)
    logins: list[tuple[str, bytes, bytes]] = field(default_factory=list)

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        self.ehlo_peers.append(session.peer)
        session.host_name = hostname  # what the default EHLO hook would have done
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        tls = (session.ssl is not None  # after STARTTLS
               or server.transport.get_extra_info("ssl_object") is not None)  # implicit
        self.messages.append(Received(session.peer, envelope.content, tls))
        return "250 2.0.0 Ok: queued as 9TLS42"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((mechanism, auth_data.login, auth_data.password))
        ok = (auth_data.login, auth_data.password) == (USER.encode(), PASSWORD.encode())
        return AuthResult(success=ok, handled=False)  # a failure: aiosmtpd's own 535


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def trusting(ca: trustme.CA) -> ssl.SSLContext:
    """What a client configured for the private CA uses: default checks, that CA."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(names or ("127.0.0.1",))).configure_cert(context)
    return context


@dataclass
class Server:
    sink: TlsSink
    port: int


def start(mode: str, context: ssl.SSLContext | None, **options: Any
          ) -> tuple[TlsSink, FreePortController]:
    """An SMTP server: "starttls" (offered and required before AUTH), "implicit" TLS
    from the first byte, or "clear" (no TLS at all, AUTH offered anyway)."""
    sink = TlsSink()
    tls: dict[str, Any] = {}
    if mode == "starttls":
        tls = {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
    elif mode == "implicit":  # aiosmtpd counts only STARTTLS as TLS for auth_require_tls
        tls = {"ssl_context": context, "auth_require_tls": False}
    else:
        tls = {"auth_require_tls": False}
    controller = FreePortController(sink, hostname="127.0.0.1", port=0,
                                    authenticator=sink.authenticate, **tls, **options)
    controller.start()
    return sink, controller


@pytest.fixture
def servers() -> Iterator[list[FreePortController]]:
    started: list[FreePortController] = []
    yield started
    for controller in started:
        controller.stop()


def serve(servers: list[FreePortController], mode: str, context: ssl.SSLContext | None,
          **options: Any) -> Server:
    sink, controller = start(mode, context, **options)
    servers.append(controller)
    return Server(sink, controller.port)


def client(server: Server, mode: str, context: ssl.SSLContext, *,
           password: str = PASSWORD) -> SmtpTransport:
    return SmtpTransport("127.0.0.1", server.port, implicit_tls=mode == "implicit",
                         username=USER, password=password, timeout=5, helo="test.local",
                         ssl_context=context)


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_starttls_upgrades_before_the_login_and_the_message_arrives_whole(
        ca: trustme.CA, trusting: ssl.SSLContext, servers: list[FreePortController],
        mechanism: str) -> None:
    other = {"PLAIN": "LOGIN", "LOGIN": "PLAIN"}[mechanism]
    server = serve(servers, "starttls", server_context(ca), auth_exclude_mechanism=[other])
    smtp = client(server, "starttls", trusting)

    result = smtp.send(outbound())
    smtp.close()

    assert result.provider_id == "9TLS42"
    assert server.sink.logins == [(mechanism, USER.encode(), PASSWORD.encode())]
    [got] = server.sink.messages
    assert got.tls
    assert len(server.sink.ehlo_peers) == 2  # EHLO, STARTTLS, EHLO again...
    assert set(server.sink.ehlo_peers) == {got.peer}  # ...on the one connection
    parsed = email.message_from_bytes(got.data, policy=email.policy.default)
    assert parsed["Subject"] == "Über TLS #0"
    assert parsed["Message-ID"] == "<tls-0@mail.example.com>"
    assert parsed.get_content().replace("\r\n", "\n") == BODY


def test_implicit_tls_with_auth_from_an_smtps_url_that_names_the_ca_file(
        ca: trustme.CA, servers: list[FreePortController], tmp_path: Path) -> None:
    server = serve(servers, "implicit", server_context(ca))
    cafile = tmp_path / "private-ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    smtp = transport_from_url(f"smtps://ann%40example.com:s3cret%20pa55@"
                              f"127.0.0.1:{server.port}?cafile={cafile}&timeout=5")

    smtp.send(outbound())
    smtp.close()

    assert [m.tls for m in server.sink.messages] == [True]
    assert server.sink.logins == [("PLAIN", USER.encode(), PASSWORD.encode())]
    assert len(server.sink.ehlo_peers) == 1  # no STARTTLS: one EHLO


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_one_tls_connection_and_one_login_serve_many_sends(
        ca: trustme.CA, trusting: ssl.SSLContext, servers: list[FreePortController],
        mode: str) -> None:
    server = serve(servers, mode, server_context(ca))
    smtp = client(server, mode, trusting)

    for n in range(5):
        smtp.send(outbound(n))
    smtp.close()
    smtp.send(outbound(5))  # a closed transport opens a new connection, and logs in again
    smtp.close()

    peers = [m.peer for m in server.sink.messages]
    assert all(m.tls for m in server.sink.messages)
    assert len(set(peers[:5])) == 1
    assert peers[5] != peers[0]
    assert len(server.sink.logins) == 2


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
@pytest.mark.parametrize("certificate", ["from an unknown CA", "for another host"])
def test_a_certificate_the_client_cannot_verify_is_transient_and_nothing_is_sent(
        ca: trustme.CA, trusting: ssl.SSLContext, servers: list[FreePortController],
        mode: str, certificate: str) -> None:
    if certificate == "from an unknown CA":
        context = server_context(trustme.CA(), "127.0.0.1")
    else:
        context = server_context(ca, "mail.example.com")
    server = serve(servers, mode, context)
    smtp = client(server, mode, trusting)

    with pytest.raises(TransientSendError, match="CERTIFICATE_VERIFY_FAILED") as caught:
        smtp.send(outbound())

    assert not isinstance(caught.value, UncertainSendError)
    assert PASSWORD not in str(caught.value)
    assert server.sink.logins == []
    assert server.sink.messages == []


def test_a_server_without_starttls_never_receives_the_password(
        trusting: ssl.SSLContext, servers: list[FreePortController]) -> None:
    server = serve(servers, "clear", None)  # offers AUTH in clear and would accept it
    smtp = client(server, "starttls", trusting)

    with pytest.raises(PermanentSendError, match="refusing to send the password in clear"
                       ) as caught:
        smtp.send(outbound())

    assert PASSWORD not in str(caught.value)
    assert server.sink.logins == []
    assert server.sink.messages == []
    assert len(server.sink.ehlo_peers) == 1  # it connected, looked, and stopped


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_a_wrong_password_is_permanent_with_the_servers_words(
        ca: trustme.CA, trusting: ssl.SSLContext, servers: list[FreePortController],
        mode: str) -> None:
    server = serve(servers, mode, server_context(ca))
    smtp = client(server, mode, trusting, password="not the password")

    with pytest.raises(PermanentSendError) as caught:
        smtp.send(outbound())

    assert "535 5.7.8 Authentication credentials invalid (at AUTH)" in str(caught.value)
    assert "not the password" not in str(caught.value)
    assert server.sink.logins  # smtplib tries each offered mechanism once
    assert {login for _, login, _ in server.sink.logins} == {USER.encode()}
    assert server.sink.messages == []


def test_a_password_smtplib_cannot_send_is_permanent_not_a_crash(
        ca: trustme.CA, trusting: ssl.SSLContext, servers: list[FreePortController]) -> None:
    server = serve(servers, "starttls", server_context(ca))
    smtp = client(server, "starttls", trusting, password="pässwörd")

    with pytest.raises(PermanentSendError, match="must be ASCII") as caught:
        smtp.send(outbound())

    assert "pässwörd" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert server.sink.logins == []
    assert server.sink.messages == []


@pytest.mark.parametrize(("cafile", "message"), [
    ("relative/ca.pem", "absolute path"),
    ("/no/such/ca.pem", "cannot load cafile"),
    ("NOT A CERTIFICATE", "cannot load cafile"),
])
def test_a_cafile_that_cannot_be_used_is_refused_when_the_url_is_read(
        tmp_path: Path, cafile: str, message: str) -> None:
    if cafile == "NOT A CERTIFICATE":
        cafile = str(tmp_path / "empty.pem")
        Path(cafile).write_text("not a certificate\n")

    with pytest.raises(ValueError, match=message) as caught:
        transport_from_url(f"smtps://ann:hunter2@mail.example.com?cafile={cafile}")

    assert "hunter2" not in str(caught.value)
