"""Sending through Postmark's Email API (``POST /email``).

Postmark builds the MIME from JSON: ``From``/``To`` as ``Name <address>`` strings,
``TextBody`` and ``HtmlBody``, our Message-ID, threading and list headers in
``Headers`` (a list of ``{"Name", "Value"}``), the ``MessageStream`` to send through,
and ``Metadata`` (our X-Sequencer-Key and Message-ID) that its webhooks echo back.

Acceptance is ``200`` with ``ErrorCode`` 0 and Postmark's ``MessageID``. A refusal is
``422`` with a non-zero ``ErrorCode`` and a ``Message`` saying why: all of them are
permanent for the message except maintenance (100) and the rate limit (429). 401
means a bad server token; 5xx and 429 are worth another try.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from sequencer.clock import Clock
from sequencer.delivery.headers import check_address, check_header_value
from sequencer.delivery.http_api import (
    DEFAULT_TIMEOUT,
    SEQUENCER_KEY,
    ApiClient,
    display_name,
    header_value,
    json_object,
    message_headers,
    reply_to_of,
    response_reason,
    retry_after_seconds,
    short,
)
from sequencer.delivery.model import OutboundEmail, SendResult, UncertainSendError
from sequencer.errors import (
    DeliveryError,
    MailboxRefusedError,
    PermanentSendError,
    TransientSendError,
)

DEFAULT_BASE_URL = "https://api.postmarkapp.com"
DEFAULT_STREAM = "outbound"
SEND_PATH = "/email"
#: Postmark's API error codes that a send can meet (its API overview), as readers say them.
ERROR_CODES = {
    10: "bad or missing server token",
    100: "maintenance",
    300: "invalid email request",
    400: "sender signature not found",
    401: "sender signature not confirmed",
    402: "invalid JSON",
    403: "incompatible JSON",
    405: "not allowed to send",
    406: "inactive recipient",
    409: "JSON required",
    411: "forbidden attachment type",
    412: "account is pending",
    413: "account may not send",
    429: "rate limit exceeded",
}
#: The codes that pass: nothing is wrong with the message or the account.
TRANSIENT_ERROR_CODES = frozenset({100, 429})
# The server token, the sender signature or the account: the mailbox, not the message.
ACCOUNT_ERROR_CODES = frozenset({10, 400, 401, 405, 412, 413})
METADATA_VALUE_LIMIT = 80  # characters; Postmark refuses longer metadata values
_PLAIN_PHRASE = re.compile(r"[\w!#$%&'*+/=?^`{|}~ -]+")  # no need to quote it


class PostmarkTransport:
    """Postmark's Email API over one reused HTTP connection pool.

    Parameters:
        server_token: the server's API token (never shown in errors).
        message_stream: the transactional or broadcast stream to send through.
        base_url: ``https://api.postmarkapp.com``; a loopback ``http://`` URL in tests.
        timeout: seconds for connecting and for each read and write.
        transport: an ``httpx`` transport to use instead of the network (tests).
        clock: for ``Retry-After`` dates.
    """

    def __init__(self, server_token: str, *, message_stream: str = DEFAULT_STREAM,
                 base_url: str = DEFAULT_BASE_URL, timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.BaseTransport | None = None,
                 clock: Clock | None = None) -> None:
        if not message_stream or not message_stream.isprintable():
            raise ValueError("Postmark: the message stream must be a non-empty name")
        self.message_stream = message_stream
        self._api = ApiClient("Postmark", base_url, {"X-Postmark-Server-Token": server_token},
                              secret=server_token, timeout=timeout, transport=transport,
                              clock=clock)

    def __repr__(self) -> str:  # never shows the token
        return f"PostmarkTransport({self._api.base_url}, stream={self.message_stream!r})"

    def send(self, email: OutboundEmail) -> SendResult:
        """Send one message; see ``sequencer.delivery.model`` for what each error means.

        The request body is built, and every header checked, before any connection.
        """
        payload = email_body(email, message_stream=self.message_stream)
        response = self._api.post_json(SEND_PATH, payload)
        body = json_object(response)
        code = body.get("ErrorCode") if body is not None else None
        if response.is_success and code == 0 and body is not None and body.get("MessageID"):
            return SendResult(provider_id=str(body["MessageID"]))
        if isinstance(code, int) and code != 0 and (response.is_success
                                                    or response.status_code == 422):
            raise self._refusal(code, body, response)
        if response.is_success:  # taken, but we cannot read what Postmark said
            raise UncertainSendError(self._api.say(
                f"HTTP {response.status_code} without an ErrorCode 0 and a MessageID "
                f"({response_reason(response)}); the message may have been accepted: "
                "do not resend"))
        raise self._api.refused(response, _reason(body, response))

    def close(self) -> None:
        """Close the connections; the next send opens new ones."""
        self._api.close()

    def _refusal(self, code: int, body: dict[str, Any] | None,
                 response: httpx.Response) -> DeliveryError:
        """A refusal by API error code: permanent unless the code says "later"."""
        label = ERROR_CODES.get(code, "unknown error code")
        reason = short(str((body or {}).get("Message") or "no message"))
        message = self._api.say(f"ErrorCode {code} ({label}): {reason}")
        if code in TRANSIENT_ERROR_CODES:
            return TransientSendError(message, retry_after=retry_after_seconds(
                response.headers, now=self._api.clock.now()))
        if code in ACCOUNT_ERROR_CODES:
            return MailboxRefusedError(message)
        return PermanentSendError(message)


def email_body(email: OutboundEmail, *, message_stream: str = DEFAULT_STREAM
               ) -> dict[str, Any]:
    """The JSON body of ``POST /email`` for one message.

    Raises:
        HeaderInjectionError: a value with a line break, or an extra header that
            Postmark takes as a field.
        PermanentSendError: a malformed address or message id.
    """
    headers = message_headers(email, provider="Postmark")
    body: dict[str, Any] = {
        "From": _mailbox("From", email.from_address, email.from_name),
        "To": _mailbox("To", email.to_address, email.to_name),
        "Subject": check_header_value("Subject", email.subject),
        "TextBody": email.text_body,
    }
    if email.html_body is not None:
        body["HtmlBody"] = email.html_body
    reply_to = reply_to_of(email)
    if reply_to is not None:
        body["ReplyTo"] = _mailbox("Reply-To", *reply_to)
    body["Headers"] = [{"Name": name, "Value": value} for name, value in headers]
    body["MessageStream"] = message_stream
    body["Metadata"] = _metadata(email)
    return body


def _mailbox(header: str, address: str, name: str | None) -> str:
    """``Name <address>``, the name quoted when it holds punctuation."""
    check_address(header, address)
    shown = display_name(name)
    if shown is None:
        return address
    if not _PLAIN_PHRASE.fullmatch(shown):
        shown = '"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{shown} <{address}>"


def _metadata(email: OutboundEmail) -> dict[str, str]:
    """Our run key and Message-ID, for Postmark's webhooks (values it would refuse left out)."""
    found = {"message_id": email.message_id}
    key = header_value(email, SEQUENCER_KEY)
    if key is not None:
        found["sequencer_key"] = key
    return {name: value for name, value in found.items()
            if len(value) <= METADATA_VALUE_LIMIT}


def _reason(body: dict[str, Any] | None, response: httpx.Response) -> str:
    """Postmark's ``Message`` (with its ``ErrorCode``), or the body as text."""
    if body is not None and body.get("Message"):
        code = body.get("ErrorCode")
        prefix = f"ErrorCode {code}: " if isinstance(code, int) and code else ""
        return prefix + short(str(body["Message"]))
    return response_reason(response)
