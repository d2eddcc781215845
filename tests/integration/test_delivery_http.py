"""SendGrid and Postmark transports against their documented request and response shapes.

Most tests answer through ``httpx.MockTransport``; a few talk to a real HTTP server on
loopback (connection reuse, a connection dropped after the request went out, a port
that refuses connections). Nothing sleeps: the clock is a FakeClock.
"""

from __future__ import annotations

import json
import socket
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from sequencer.clock import FakeClock
from sequencer.delivery import OutboundEmail, UncertainSendError, transport_from_url
from sequencer.delivery.api_urls import check_api_url
from sequencer.delivery.postmark import PostmarkTransport
from sequencer.delivery.sendgrid import SendGridTransport
from sequencer.errors import (
    DeliveryError,
    HeaderInjectionError,
    InputError,
    MailboxRefusedError,
    PermanentSendError,
    TransientSendError,
)
from sequencer.services.mailboxes import check_transport

SG_KEY = "SG.sekrit-key.0123456789abcdef"
PM_TOKEN = "pm-token-0123456789-sekrit"
NOW = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
TEXT = "Hi Bob,\n\nA short question about Ünal GmbH.\n\n— Zoë\n"
HTML = "<p>Hi Bob,</p><p>A short question about <b>Ünal GmbH</b>.</p><p>— Zoë</p>"
UNSUBSCRIBE = "<https://u.example.com/u/abc>, <mailto:unsub@example.com?subject=abc>"
MESSAGE_ID = "<0123456789abcdef0123456789abcdef@mail.example.com>"


def outbound(**changes: Any) -> OutboundEmail:
    base = OutboundEmail(
        message_id=MESSAGE_ID,
        from_address="zoe@example.com", from_name="Zoë Ünal",
        to_address="bob@example.org", to_name="Bob Builder",
        subject="Frage zu Ünal GmbH — kurz?", text_body=TEXT, html_body=HTML,
        in_reply_to="<first@mail.example.com>",
        references=("<first@mail.example.com>", "<second@mail.example.com>"),
        headers={"X-Sequencer-Key": "42:intro:1", "List-Unsubscribe": UNSUBSCRIBE,
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    return replace(base, **changes)


@dataclass
class FakeApi:
    """An httpx.MockTransport that records requests and answers from a script."""

    answers: list[httpx.Response | Exception] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def sendgrid(api: FakeApi) -> SendGridTransport:
    return SendGridTransport(SG_KEY, transport=api.transport(), clock=FakeClock(NOW))


def postmark(api: FakeApi) -> PostmarkTransport:
    return PostmarkTransport(PM_TOKEN, message_stream="outreach", transport=api.transport(),
                             clock=FakeClock(NOW))


def accepted_by_sendgrid(message_id: str = "14c5d75ce93.dfd.64b469.filter0001") -> httpx.Response:
    return httpx.Response(202, headers={"X-Message-Id": message_id})


def accepted_by_postmark(message_id: str = "b7bc2f4a-e38e-4336-af7d-e6c392c2f817"
                         ) -> httpx.Response:
    return httpx.Response(200, json={"To": "bob@example.org", "SubmittedAt":
                                     "2025-03-14T05:00:00.0000000-04:00",
                                     "MessageID": message_id, "ErrorCode": 0,
                                     "Message": "OK"})


# --- SendGrid: the request ------------------------------------------------------------


def test_sendgrid_request_has_the_documented_shape_auth_and_every_header() -> None:
    api = FakeApi([accepted_by_sendgrid()])

    sendgrid(api).send(outbound())

    [request] = api.requests
    assert (request.method, str(request.url)) == ("POST",
                                                  "https://api.sendgrid.com/v3/mail/send")
    assert request.headers["Authorization"] == f"Bearer {SG_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert api.body() == {
        "personalizations": [{"to": [{"email": "bob@example.org", "name": "Bob Builder"}]}],
        "from": {"email": "zoe@example.com", "name": "Zoë Ünal"},
        "subject": "Frage zu Ünal GmbH — kurz?",
        "content": [{"type": "text/plain", "value": TEXT},
                    {"type": "text/html", "value": HTML}],
        "headers": {
            "Message-ID": MESSAGE_ID,
            "In-Reply-To": "<first@mail.example.com>",
            "References": "<first@mail.example.com> <second@mail.example.com>",
            "X-Sequencer-Key": "42:intro:1",
            "List-Unsubscribe": UNSUBSCRIBE,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        "custom_args": {"message_id": MESSAGE_ID, "sequencer_key": "42:intro:1"},
    }


def test_sendgrid_without_html_sends_only_the_text_part_and_no_threading_headers() -> None:
    api = FakeApi([accepted_by_sendgrid()])

    sendgrid(api).send(outbound(html_body=None, in_reply_to=None, references=(),
                                headers={}, to_name=None))

    body = api.body()
    assert body["content"] == [{"type": "text/plain", "value": TEXT}]
    assert body["headers"] == {"Message-ID": MESSAGE_ID}
    assert body["personalizations"] == [{"to": [{"email": "bob@example.org"}]}]
    assert body["custom_args"] == {"message_id": MESSAGE_ID}


def test_sendgrid_quotes_a_name_with_a_comma_and_maps_reply_to_to_its_field() -> None:
    api = FakeApi([accepted_by_sendgrid()])

    sendgrid(api).send(outbound(to_name="Builder, Bob", headers={
        "Reply-To": "Zoë Replies <replies@example.com>"}))

    body = api.body()
    assert body["personalizations"][0]["to"] == [{"email": "bob@example.org",
                                                  "name": '"Builder, Bob"'}]
    assert body["reply_to"] == {"email": "replies@example.com", "name": "Zoë Replies"}
    assert "Reply-To" not in body["headers"]


def test_a_non_ascii_extra_header_is_sent_as_encoded_words_that_decode_back() -> None:
    api = FakeApi([accepted_by_sendgrid()])

    sendgrid(api).send(outbound(headers={"X-Campaign": "Frühling – Zoë"}))

    value = api.body()["headers"]["X-Campaign"]
    assert value.isascii()
    assert str(make_header(decode_header(value))) == "Frühling – Zoë"


@pytest.mark.parametrize("name", ["X-SG-ID", "x-sg-eid", "Received", "DKIM-Signature", "Cc",
                                  "BCC", "Content-Type", "From", "Subject", "Message-ID"])
def test_sendgrid_refuses_reserved_headers_before_any_request(name: str) -> None:
    api = FakeApi([accepted_by_sendgrid()])

    with pytest.raises(HeaderInjectionError, match=name):
        sendgrid(api).send(outbound(headers={name: "x"}))

    assert api.requests == []


@pytest.mark.parametrize("changes", [
    {"subject": "Hi\r\nBcc: evil@example.net"},
    {"to_name": "Bob\nBcc: evil@example.net"},
    {"headers": {"X-Sequencer-Key": "1\u2028Bcc: evil@example.net"}},
    {"headers": {"Bad Name": "x"}},
])
def test_header_injection_is_refused_before_any_request(changes: dict[str, Any]) -> None:
    for make in (sendgrid, postmark):
        api = FakeApi([accepted_by_sendgrid()])

        with pytest.raises(HeaderInjectionError):
            make(api).send(outbound(**changes))

        assert api.requests == []


# --- SendGrid: the answers ------------------------------------------------------------


def test_sendgrid_202_is_acceptance_with_its_message_id() -> None:
    api = FakeApi([accepted_by_sendgrid("W7lFmrbVQzGbnIZWg6GDaA")])

    result = sendgrid(api).send(outbound())

    assert result.provider_id == "W7lFmrbVQzGbnIZWg6GDaA"


def test_sendgrid_429_is_transient_with_the_retry_after_it_asked_for() -> None:
    api = FakeApi([httpx.Response(429, headers={"Retry-After": "30"},
                                  json={"errors": [{"field": None,
                                                    "message": "too many requests"}]})])

    with pytest.raises(TransientSendError) as caught:
        sendgrid(api).send(outbound())

    assert not isinstance(caught.value, UncertainSendError)
    assert caught.value.retry_after == 30.0
    assert "HTTP 429: too many requests" in str(caught.value)


def test_sendgrid_429_without_retry_after_waits_until_the_rate_limit_resets() -> None:
    reset = int(NOW.timestamp()) + 42
    api = FakeApi([httpx.Response(429, headers={"X-RateLimit-Reset": str(reset)},
                                  json={"errors": [{"message": "too many requests"}]})])

    with pytest.raises(TransientSendError) as caught:
        sendgrid(api).send(outbound())

    assert caught.value.retry_after == 42.0


def test_a_retry_after_date_is_counted_from_the_clock() -> None:
    api = FakeApi([httpx.Response(503, headers={"Retry-After": "Fri, 14 Mar 2025 09:02:00 GMT"},
                                  text="<html>down for maintenance</html>")])

    with pytest.raises(TransientSendError) as caught:
        sendgrid(api).send(outbound())

    assert caught.value.retry_after == 120.0
    assert "HTTP 503: <html>down for maintenance</html>" in str(caught.value)


def test_sendgrid_500_is_transient_without_a_wait() -> None:
    api = FakeApi([httpx.Response(500, json={"errors": [{"message": "internal error"}]})])

    with pytest.raises(TransientSendError, match="HTTP 500: internal error") as caught:
        sendgrid(api).send(outbound())

    assert not isinstance(caught.value, UncertainSendError)
    assert caught.value.retry_after is None


def test_sendgrid_400_is_permanent_with_every_reason_it_gave() -> None:
    api = FakeApi([httpx.Response(400, json={"errors": [
        {"message": "The from address does not match a verified Sender Identity.",
         "field": "from", "help": "http://sendgrid.com/docs/for-developers/sending-email/"},
        {"message": "Invalid type. Expected: string", "field": "subject", "help": None},
    ]})])

    with pytest.raises(PermanentSendError) as caught:
        sendgrid(api).send(outbound())

    assert str(caught.value) == (
        "SendGrid: HTTP 400: from: The from address does not match a verified Sender "
        "Identity.; subject: Invalid type. Expected: string")


@pytest.mark.parametrize("status", [401, 403, 413])
def test_sendgrid_other_4xx_are_permanent(status: int) -> None:
    api = FakeApi([httpx.Response(status, json={"errors": [{"message": "refused"}]})])

    with pytest.raises(PermanentSendError, match=f"HTTP {status}: refused") as caught:
        sendgrid(api).send(outbound())

    # A bad key or a suspended account is the mailbox's problem, not this message's.
    assert isinstance(caught.value, MailboxRefusedError) == (status in (401, 403))


@pytest.mark.parametrize(("code", "account"), [(10, True), (401, True), (412, True),
                                               (300, False), (406, False)])
def test_postmark_account_codes_refuse_the_mailbox_not_the_message(code: int,
                                                                  account: bool) -> None:
    api = FakeApi([httpx.Response(422, json={"ErrorCode": code, "Message": "no"})])

    with pytest.raises(PermanentSendError) as caught:
        postmark(api).send(outbound())

    assert isinstance(caught.value, MailboxRefusedError) == account


def test_408_is_transient() -> None:
    api = FakeApi([httpx.Response(408, text="request timeout")])

    with pytest.raises(TransientSendError) as caught:
        sendgrid(api).send(outbound())

    assert not isinstance(caught.value, (UncertainSendError, PermanentSendError))


@pytest.mark.parametrize("error", [
    httpx.ConnectError("[Errno 111] Connection refused"),
    httpx.ConnectTimeout("timed out"),
    httpx.WriteTimeout("timed out"),
    httpx.PoolTimeout("timed out"),
])
def test_failures_before_the_request_was_sent_are_transient(error: Exception) -> None:
    for make in (sendgrid, postmark):
        api = FakeApi([error])

        with pytest.raises(TransientSendError, match="request not sent") as caught:
            make(api).send(outbound())

        assert not isinstance(caught.value, UncertainSendError)


@pytest.mark.parametrize("error", [
    httpx.ReadTimeout("timed out"),
    httpx.ReadError("[Errno 104] Connection reset by peer"),
    httpx.RemoteProtocolError("Server disconnected without sending a response."),
])
def test_failures_after_the_request_was_sent_are_uncertain(error: Exception) -> None:
    for make in (sendgrid, postmark):
        api = FakeApi([error])

        with pytest.raises(UncertainSendError, match="do not resend"):
            make(api).send(outbound())


# --- Postmark -------------------------------------------------------------------------


def test_postmark_request_has_the_documented_shape_token_and_every_header() -> None:
    api = FakeApi([accepted_by_postmark()])

    postmark(api).send(outbound())

    [request] = api.requests
    assert (request.method, str(request.url)) == ("POST", "https://api.postmarkapp.com/email")
    assert request.headers["X-Postmark-Server-Token"] == PM_TOKEN
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Content-Type"] == "application/json"
    assert api.body() == {
        "From": "Zoë Ünal <zoe@example.com>",
        "To": "Bob Builder <bob@example.org>",
        "Subject": "Frage zu Ünal GmbH — kurz?",
        "TextBody": TEXT,
        "HtmlBody": HTML,
        "Headers": [
            {"Name": "Message-ID", "Value": MESSAGE_ID},
            {"Name": "In-Reply-To", "Value": "<first@mail.example.com>"},
            {"Name": "References",
             "Value": "<first@mail.example.com> <second@mail.example.com>"},
            {"Name": "X-Sequencer-Key", "Value": "42:intro:1"},
            {"Name": "List-Unsubscribe", "Value": UNSUBSCRIBE},
            {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"},
        ],
        "MessageStream": "outreach",
        "Metadata": {"message_id": MESSAGE_ID, "sequencer_key": "42:intro:1"},
    }


def test_postmark_without_html_has_no_html_body_and_quotes_punctuated_names() -> None:
    api = FakeApi([accepted_by_postmark()])

    postmark(api).send(outbound(html_body=None, to_name='Bob "The" Builder, Jr.',
                                from_name=None, headers={"Reply-To": "replies@example.com"}))

    body = api.body()
    assert "HtmlBody" not in body
    assert body["To"] == '"Bob \\"The\\" Builder, Jr." <bob@example.org>'
    assert body["From"] == "zoe@example.com"
    assert body["ReplyTo"] == "replies@example.com"
    assert body["Metadata"] == {"message_id": MESSAGE_ID}


def test_postmark_200_with_error_code_0_is_acceptance_with_its_message_id() -> None:
    api = FakeApi([accepted_by_postmark("0a129aee-e1cd-480d-b08d-4f48548ff48d")])

    result = postmark(api).send(outbound())

    assert result.provider_id == "0a129aee-e1cd-480d-b08d-4f48548ff48d"


@pytest.mark.parametrize(("code", "message", "label"), [
    (406, "You tried to send to recipient(s) that have been marked as inactive. Found "
          "inactive addresses: bob@example.org. Inactive recipients are ones that have "
          "generated a hard bounce, a spam complaint, or a manual suppression.",
     "inactive recipient"),
    (300, "Invalid 'To' address: 'bob@example'.", "invalid email request"),
    (401, "Sender signature not confirmed.", "sender signature not confirmed"),
])
def test_postmark_422_is_permanent_with_its_code_and_message(code: int, message: str,
                                                             label: str) -> None:
    api = FakeApi([httpx.Response(422, json={"ErrorCode": code, "Message": message})])

    with pytest.raises(PermanentSendError) as caught:
        postmark(api).send(outbound())

    assert str(caught.value) == f"Postmark: ErrorCode {code} ({label}): {message}"


def test_postmark_maintenance_code_is_transient() -> None:
    api = FakeApi([httpx.Response(422, json={"ErrorCode": 100, "Message": "Maintenance"})])

    with pytest.raises(TransientSendError, match="ErrorCode 100") as caught:
        postmark(api).send(outbound())

    assert not isinstance(caught.value, UncertainSendError)


def test_postmark_429_is_transient_with_retry_after() -> None:
    api = FakeApi([httpx.Response(429, headers={"Retry-After": "5"},
                                  json={"ErrorCode": 429, "Message": "Rate limit exceeded"})])

    with pytest.raises(TransientSendError, match="Rate limit exceeded") as caught:
        postmark(api).send(outbound())

    assert caught.value.retry_after == 5.0


def test_postmark_500_is_transient_and_401_permanent() -> None:
    api = FakeApi([httpx.Response(500, text="Internal Server Error"),
                   httpx.Response(401, json={"ErrorCode": 10,
                                             "Message": "Request does not contain a valid "
                                                        "Server token."})])
    transport = postmark(api)

    with pytest.raises(TransientSendError, match="HTTP 500: Internal Server Error"):
        transport.send(outbound())
    with pytest.raises(PermanentSendError,
                       match="HTTP 401: ErrorCode 10: Request does not contain a valid"):
        transport.send(outbound())


@pytest.mark.parametrize("answer", [
    httpx.Response(200, text="<html>OK</html>"),
    httpx.Response(200, json={"ErrorCode": 0, "Message": "OK"}),
])
def test_a_postmark_200_we_cannot_read_is_uncertain_not_a_failure(answer: httpx.Response
                                                                  ) -> None:
    api = FakeApi([answer])

    with pytest.raises(UncertainSendError, match="may have been accepted"):
        postmark(api).send(outbound())


# --- secrets --------------------------------------------------------------------------


ECHOES: dict[str, Callable[[str], httpx.Response | Exception]] = {  # the worst case:
    "401": lambda secret: httpx.Response(  # the provider quotes the secret back
        401, json={"errors": [{"message": f"bad key {secret}"}], "ErrorCode": 10,
                   "Message": f"bad {secret}"}),
    "422": lambda secret: httpx.Response(422, json={"ErrorCode": 300, "Message": f"{secret}?"}),
    "500": lambda secret: httpx.Response(500, text=f"upstream said {secret}"),
    "connect": lambda secret: httpx.ConnectError(f"proxy refused {secret}"),
    "read": lambda secret: httpx.ReadTimeout(f"read timed out {secret}"),
}
CASES = [(provider, echo) for provider in ("sendgrid", "postmark") for echo in ECHOES]
CASES.append(("postmark", "unreadable 200"))  # uncertain: for SendGrid any 2xx is acceptance
ECHOES["unreadable 200"] = lambda secret: httpx.Response(200, text=f"ok {secret}")


@pytest.mark.parametrize(("provider", "echo"), CASES)
def test_the_secret_never_appears_in_an_error_or_a_repr(provider: str, echo: str) -> None:
    secret = SG_KEY if provider == "sendgrid" else PM_TOKEN
    api = FakeApi([ECHOES[echo](secret)])
    transport = sendgrid(api) if provider == "sendgrid" else postmark(api)

    with pytest.raises(DeliveryError) as caught:
        transport.send(outbound())

    ours = caught.value
    assert secret not in str(ours) and secret not in repr(ours)
    assert "***" in str(ours)
    assert secret not in repr(transport)


# --- a real HTTP server on loopback ---------------------------------------------------


@dataclass
class Served:
    peer: tuple[str, int]
    path: str
    headers: dict[str, str]
    body: bytes


class FakeProvider(ThreadingHTTPServer):
    """Answers each POST from ``script``: (status, headers, body), or "drop"."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script: list[tuple[int, dict[str, str], bytes] | str] = []
        self.served: list[Served] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so that reuse can be seen
    server: FakeProvider

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.served.append(Served(self.client_address, self.path,
                                         dict(self.headers.items()), body))
        answer = self.server.script.pop(0)
        if answer == "drop":  # the whole request arrived; the answer never will
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        assert not isinstance(answer, str)
        status, headers, payload = answer
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(payload))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    server = FakeProvider()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_sends_reuse_one_connection_and_reconnect_after_close(provider: FakeProvider,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    monkeypatch.setenv("SEQUENCER_TEST_SG_KEY", SG_KEY)
    accepted = (202, {"X-Message-Id": "abc"}, b"")
    provider.script = [accepted] * 4
    transport = transport_from_url(
        f"sendgrid://?key_env=SEQUENCER_TEST_SG_KEY&timeout=5&base_url={provider.url}")

    results = [transport.send(outbound(message_id=f"<m{n}@mail.example.com>"))
               for n in range(3)]
    transport.close()
    transport.send(outbound())
    transport.close()

    assert [r.provider_id for r in results] == ["abc"] * 3
    peers = [served.peer for served in provider.served]
    assert len(set(peers[:3])) == 1  # three sends, one connection
    assert peers[3] != peers[0]  # closed, then opened afresh
    assert {served.path for served in provider.served} == {"/v3/mail/send"}
    assert provider.served[0].headers["Authorization"] == f"Bearer {SG_KEY}"
    assert json.loads(provider.served[1].body)["headers"]["Message-ID"] == (
        "<m1@mail.example.com>")


def test_a_connection_dropped_after_the_request_arrived_is_uncertain(provider: FakeProvider
                                                                     ) -> None:
    provider.script = ["drop", (200, {"Content-Type": "application/json"},
                                json.dumps({"ErrorCode": 0, "MessageID": "m-2"}).encode())]
    transport = PostmarkTransport(PM_TOKEN, base_url=provider.url, timeout=5)

    with pytest.raises(UncertainSendError, match="do not resend") as caught:
        transport.send(outbound())
    after = transport.send(outbound(message_id="<next@mail.example.com>"))
    transport.close()

    assert len(provider.served) == 2  # the provider did get the first request whole
    assert json.loads(provider.served[0].body)["Headers"][0]["Value"] == MESSAGE_ID
    assert after.provider_id == "m-2"
    assert PM_TOKEN not in "".join(traceback.format_exception(caught.value))


def test_a_port_that_refuses_connections_is_transient() -> None:
    with socket.socket() as unused:  # bound, never listening: connections are refused
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        transport = SendGridTransport(SG_KEY, base_url=f"http://127.0.0.1:{port}", timeout=5)

        with pytest.raises(TransientSendError, match="request not sent") as caught:
            transport.send(outbound())

    assert not isinstance(caught.value, UncertainSendError)
    assert SG_KEY not in "".join(traceback.format_exception(caught.value))


# --- URLs -----------------------------------------------------------------------------


def test_api_urls_read_the_secret_from_the_named_variable(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setenv("PM_TOKEN_FOR_TEST", PM_TOKEN)
    monkeypatch.setenv("SENDGRID_API_KEY", SG_KEY)

    pm = transport_from_url("postmark://?token_env=PM_TOKEN_FOR_TEST&stream=broadcast")
    sg = transport_from_url("sendgrid://")

    assert isinstance(pm, PostmarkTransport) and pm.message_stream == "broadcast"
    assert isinstance(sg, SendGridTransport)
    assert PM_TOKEN not in repr(pm) and SG_KEY not in repr(sg)
    assert repr(sg) == "SendGridTransport(https://api.sendgrid.com)"


def test_an_unset_secret_variable_is_named_in_the_error(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.delenv("NO_SUCH_SG_KEY", raising=False)

    with pytest.raises(ValueError, match="environment variable NO_SUCH_SG_KEY is not set"):
        transport_from_url("sendgrid://?key_env=NO_SUCH_SG_KEY")


@pytest.mark.parametrize(("url", "message"), [
    (f"sendgrid://?key={SG_KEY}", "unknown option"),
    (f"postmark://?token={PM_TOKEN}&stream=outbound", "unknown option"),
    (f"sendgrid://{SG_KEY}@api.sendgrid.com", "no host"),
    ("sendgrid://?key_env=A&key_env=B", "given twice"),
    ("sendgrid://?key_env=NOT-A-NAME", "environment variable"),
    ("postmark://?stream=", "stream"),
    ("postmark://?timeout=0", "positive"),
    ("sendgrid://?base_url=http://api.example.com", "loopback"),
    (f"sendgrid://?base_url=https://u:{SG_KEY}@api.example.com", "no credentials"),
])
def test_bad_api_urls_are_refused_clearly_and_never_echo_a_secret(url: str, message: str
                                                                  ) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        check_api_url(url)
    with pytest.raises(ValueError, match=message):
        transport_from_url(url)

    assert SG_KEY not in str(caught.value) and PM_TOKEN not in str(caught.value)


def test_mailbox_registration_accepts_api_urls_without_their_secret_in_reach(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)

    assert check_transport("sendgrid://?key_env=SENDGRID_API_KEY") == (
        "sendgrid://?key_env=SENDGRID_API_KEY")
    assert check_transport("postmark://?token_env=PM&stream=outbound")
    with pytest.raises(InputError, match="unknown option") as caught:
        check_transport(f"sendgrid://?api_key={SG_KEY}")
    assert SG_KEY not in str(caught.value)
