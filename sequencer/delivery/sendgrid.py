"""Sending through SendGrid's v3 Mail Send API (``POST /v3/mail/send``).

SendGrid builds the MIME itself from JSON: recipients in ``personalizations``, the
parts in ``content`` (text/plain first, then text/html, the order SendGrid requires),
our Message-ID, threading and list headers in ``headers``. It reserves some header
names (x-sg-id, x-sg-eid, received, dkim-signature, Content-Type,
Content-Transfer-Encoding, To, From, Subject, Reply-To, CC, BCC): those travel as
fields or are refused before anything is sent. ``custom_args`` carries our
X-Sequencer-Key and Message-ID into SendGrid's event webhooks.

Acceptance is ``202 Accepted``, SendGrid's queue id in the ``X-Message-Id`` header.
Refusals carry ``{"errors": [{"message", "field", "help"}]}``; a 429 says when the
rate limit resets in ``X-RateLimit-Reset`` (epoch seconds).
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
    short,
)
from sequencer.delivery.model import OutboundEmail, SendResult

DEFAULT_BASE_URL = "https://api.sendgrid.com"
SEND_PATH = "/v3/mail/send"
#: Header names SendGrid refuses in ``headers`` (lower case; To, From, Subject... are
#: refused for every API in http_api.API_FIELDS).
RESERVED_HEADERS = frozenset({"x-sg-id", "x-sg-eid", "received", "dkim-signature", "cc",
                              "bcc"})
_EPOCH = re.compile(r"\d+")


class SendGridTransport:
    """SendGrid's Mail Send API over one reused HTTP connection pool.

    Parameters:
        api_key: an API key with the ``mail.send`` scope (never shown in errors).
        base_url: ``https://api.sendgrid.com``; ``https://api.eu.sendgrid.com`` for EU
            subusers; a loopback ``http://`` URL in tests.
        timeout: seconds for connecting and for each read and write.
        transport: an ``httpx`` transport to use instead of the network (tests).
        clock: for ``Retry-After`` dates and rate-limit reset times.
    """

    def __init__(self, api_key: str, *, base_url: str = DEFAULT_BASE_URL,
                 timeout: float = DEFAULT_TIMEOUT, transport: httpx.BaseTransport | None = None,
                 clock: Clock | None = None) -> None:
        self._api = ApiClient("SendGrid", base_url, {"Authorization": f"Bearer {api_key}"},
                              secret=api_key, timeout=timeout, transport=transport, clock=clock)

    def __repr__(self) -> str:  # never shows the key
        return f"SendGridTransport({self._api.base_url})"

    def send(self, email: OutboundEmail) -> SendResult:
        """Send one message; see ``sequencer.delivery.model`` for what each error means.

        The request body is built, and every header checked, before any connection.
        """
        payload = mail_send_body(email)
        response = self._api.post_json(SEND_PATH, payload)
        if response.is_success:  # 202 documented; 200 in sandbox mode
            return SendResult(provider_id=response.headers.get("X-Message-Id"))
        raise self._api.refused(response, _reason(response),
                                retry_after=self._rate_limit_wait(response))

    def close(self) -> None:
        """Close the connections; the next send opens new ones."""
        self._api.close()

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds until ``X-RateLimit-Reset`` when a 429 has no ``Retry-After``."""
        reset = response.headers.get("X-RateLimit-Reset", "").strip()
        if (response.status_code != 429 or "Retry-After" in response.headers
                or not _EPOCH.fullmatch(reset)):
            return None
        return max(0.0, int(reset) - self._api.clock.now().timestamp())


def mail_send_body(email: OutboundEmail) -> dict[str, Any]:
    """The JSON body of ``POST /v3/mail/send`` for one message.

    Raises:
        HeaderInjectionError: a value with a line break, or a header SendGrid reserves.
        PermanentSendError: a malformed address or message id.
    """
    headers = message_headers(email, provider="SendGrid", reserved=RESERVED_HEADERS)
    content = [{"type": "text/plain", "value": email.text_body}]
    if email.html_body is not None:
        content.append({"type": "text/html", "value": email.html_body})
    body: dict[str, Any] = {
        "personalizations": [{"to": [_party("To", email.to_address, email.to_name)]}],
        "from": _party("From", email.from_address, email.from_name),
        "subject": check_header_value("Subject", email.subject),
        "content": content,
        "headers": dict(headers),
        "custom_args": _custom_args(email),
    }
    reply_to = reply_to_of(email)
    if reply_to is not None:
        body["reply_to"] = _party("Reply-To", *reply_to)
    return body


def _party(header: str, address: str, name: str | None) -> dict[str, str]:
    """``{"email", "name"}``; a name with ``,`` or ``;`` quoted, as SendGrid needs."""
    party = {"email": check_address(header, address)}
    shown = display_name(name)
    if shown is not None:
        if any(mark in shown for mark in ',;"'):
            shown = '"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'
        party["name"] = shown
    return party


def _custom_args(email: OutboundEmail) -> dict[str, str]:
    """What SendGrid's event webhooks echo back: our run key and Message-ID."""
    args = {"message_id": email.message_id}
    key = header_value(email, SEQUENCER_KEY)
    if key is not None:
        args["sequencer_key"] = key
    return args


def _reason(response: httpx.Response) -> str:
    """SendGrid's ``errors[].message`` (with the field), or the body as text."""
    body = json_object(response)
    errors = body.get("errors") if body is not None else None
    if not isinstance(errors, list):
        return response_reason(response)
    reasons = []
    for error in errors:
        if isinstance(error, dict) and error.get("message"):
            field = error.get("field")
            reasons.append(f"{field}: {error['message']}" if field else str(error["message"]))
    return short("; ".join(reasons)) if reasons else response_reason(response)
