"""HTTP email APIs through httpx: the part every provider adapter shares.

Owns a transport's one ``httpx.Client`` (opened on first use, reused across sends,
opened afresh after ``close``) and the translation of what happened on the wire into
the error contract of ``sequencer.delivery.model``:

::

    what happened                                        raised
    no connection, or the request not wholly written     TransientSendError
      (connect error or timeout, TLS, pool timeout,
       write error or timeout)
    the request went out, no usable answer came back     UncertainSendError
      (read timeout, dropped connection, broken reply)
    HTTP 408, 429 or 5xx                                 TransientSendError, retry_after
    HTTP 3xx or any other 4xx                            PermanentSendError, the reason

Which 2xx, with which body, counts as acceptance is each provider's own business
(``sendgrid.py``, ``postmark.py``). Nothing is retried here: the runtime decides.
The secret travels in a header and is scrubbed from every message this module writes.
"""

from __future__ import annotations

import ipaddress
import math
import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from email.header import Header
from email.utils import parseaddr, parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from sequencer.clock import Clock, SystemClock
from sequencer.delivery.headers import (
    check_address,
    check_header_name,
    check_header_value,
    check_message_id,
)
from sequencer.delivery.model import OutboundEmail, UncertainSendError
from sequencer.errors import (
    DeliveryError,
    HeaderInjectionError,
    MailboxRefusedError,
    PermanentSendError,
    TransientSendError,
)

DEFAULT_TIMEOUT = 30.0  # seconds for connecting, and for each read and write
REASON_LIMIT = 300  # characters of a provider's reason kept in an error message
SEQUENCER_KEY = "X-Sequencer-Key"

#: Headers the APIs take as fields of their own (or that describe the MIME they build).
API_FIELDS = frozenset({
    "from", "to", "cc", "bcc", "subject", "date", "message-id", "in-reply-to",
    "references", "mime-version", "content-type", "content-transfer-encoding",
})

# Failures while connecting or writing: the provider never saw a whole request.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError,
             httpx.WriteTimeout, httpx.ProxyError, httpx.UnsupportedProtocol)
_DELAY_SECONDS = re.compile(r"\d+(?:\.\d+)?")
_LOOPBACK_NAMES = frozenset({"localhost"})
_SECRET_RE = re.compile(r"[!-~]+")  # printable ASCII, no space: fits an HTTP header


class ApiClient:
    """One provider's endpoint: a reused ``httpx.Client`` and honest errors.

    Parameters:
        provider: the name used in error messages ("SendGrid").
        base_url: ``https://...`` (plain ``http`` only to a loopback address, for tests).
        headers: sent with every request; the authentication header among them.
        secret: the API key or token, never written into any message.
        timeout: seconds for connecting and for each read and write.
        transport: an ``httpx`` transport to use instead of the network (tests).
        clock: to turn an HTTP-date ``Retry-After`` into seconds.
    """

    def __init__(self, provider: str, base_url: str, headers: Mapping[str, str], *,
                 secret: str, timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.BaseTransport | None = None,
                 clock: Clock | None = None) -> None:
        if not _SECRET_RE.fullmatch(secret):
            raise ValueError(f"{provider}: the API secret is empty or holds spaces or "
                             "non-ASCII characters")
        if not (math.isfinite(timeout) and timeout > 0):
            raise ValueError(f"{provider}: timeout must be a positive number of seconds")
        self.provider, self.base_url = provider, check_base_url(base_url)
        self.clock: Clock = clock or SystemClock()
        self._headers = {"Accept": "application/json", "User-Agent": "sequencer", **headers}
        self._secret, self._timeout, self._transport = secret, timeout, transport
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never shows the secret
        return f"ApiClient({self.provider}, {self.base_url})"

    def post_json(self, path: str, payload: Mapping[str, Any]) -> httpx.Response:
        """POST ``payload`` as JSON and read the whole answer, whatever its status.

        Raises:
            TransientSendError: the request did not wholly leave (nothing was accepted).
            UncertainSendError: it left and no answer came back: it may have been accepted.
            PermanentSendError: httpx refused to form the request (a bad header value).
        """
        client = self._open()
        try:
            return client.post(path, json=payload)
        except _NOT_SENT as exc:
            raise TransientSendError(self.say(f"request not sent: {_describe(exc)}")) from exc
        except httpx.LocalProtocolError as exc:
            raise PermanentSendError(self.say(f"cannot form the request: {_describe(exc)}")
                                     ) from exc
        except httpx.HTTPError as exc:  # read timeout, dropped connection, broken reply
            raise UncertainSendError(self.say(
                f"no answer after the request was sent ({_describe(exc)}); the provider "
                "may have accepted the message: do not resend")) from exc

    def refused(self, response: httpx.Response, reason: str, *,
                retry_after: float | None = None) -> DeliveryError:
        """The error for a response that is not an acceptance.

        408, 429 and 5xx are worth another try later (``retry_after`` from the response
        unless given); anything else was refused for good, with ``reason`` as the why.
        """
        status = response.status_code
        message = self.say(f"HTTP {status}: {reason}")
        if status in (408, 429) or status >= 500:
            if retry_after is None:
                retry_after = retry_after_seconds(response.headers, now=self.clock.now())
            return TransientSendError(message, retry_after=retry_after)
        if status in (401, 403):  # the key or the account, whatever the message
            return MailboxRefusedError(message)
        return PermanentSendError(message)

    def say(self, text: str) -> str:
        """``text`` prefixed with the provider, with the secret scrubbed out."""
        return f"{self.provider}: {text}".replace(self._secret, "***")

    def close(self) -> None:
        """Close the connections; the next send opens a new client."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _open(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    base_url=self.base_url, headers=self._headers,
                    timeout=httpx.Timeout(self._timeout), transport=self._transport,
                    follow_redirects=False)  # a redirect would resend the key elsewhere
            return self._client


def check_base_url(url: str) -> str:
    """An API base URL: https, or plain http to a loopback address (a test server).

    Raises:
        ValueError: another scheme, no host, credentials, a query, or http elsewhere.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"base URL {url!r}: expected https://host[/path]")
    if parts.username is not None or parts.query or parts.fragment:
        raise ValueError("base URL: no credentials, query or fragment allowed")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(f"base URL {url!r}: plain http only to a loopback address; "
                         "the API key would cross the network in clear")
    return url.rstrip("/")


def retry_after_seconds(headers: httpx.Headers, *, now: datetime) -> float | None:
    """Seconds to wait from ``Retry-After`` (delay-seconds or an HTTP-date), if given.

    A date in the past means "now" (0); a value that is neither form is ignored.
    """
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if _DELAY_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": a time in UTC (RFC 5322 3.3)
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def response_reason(response: httpx.Response) -> str:
    """The body as one short line of text, or the status phrase when there is none."""
    return short(response.text) or response.reason_phrase or "no reason given"


def short(text: str) -> str:
    """One line, at most ``REASON_LIMIT`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= REASON_LIMIT else text[:REASON_LIMIT] + "…"


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one."""
    try:
        body = response.json()
    except ValueError:  # not JSON, or not text at all
        return None
    return body if isinstance(body, dict) else None


def display_name(name: str | None) -> str | None:
    """A display name as readers show it: checked, white space collapsed, None if empty."""
    if name is None:
        return None
    check_header_value("display name", name)
    return " ".join(name.split()) or None


def message_headers(email: OutboundEmail, *, provider: str,
                    reserved: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """The headers an API is asked to write: threading first, then the extras.

    ``Reply-To`` is left out (every API takes it as a field: ``reply_to_of``).
    Non-ASCII values are RFC 2047 encoded, as the APIs expect.

    Raises:
        HeaderInjectionError: a value with a line break, a bad name, an extra header
            that the API writes from a field, or one the provider reserves.
        PermanentSendError: a malformed message id.
    """
    found = [("Message-ID", check_message_id("Message-ID", email.message_id))]
    if email.in_reply_to:
        found.append(("In-Reply-To", check_message_id("In-Reply-To", email.in_reply_to)))
    if email.references:
        ids = [check_message_id("References", ref) for ref in email.references]
        found.append(("References", " ".join(ids)))
    for name, value in email.headers.items():
        check_header_name(name)
        check_header_value(name, value)
        lowered = name.lower()
        if lowered == "reply-to":
            continue
        if lowered in API_FIELDS or lowered.startswith("content-") or lowered in reserved:
            raise HeaderInjectionError(
                f"header {name}: {provider} writes or reserves it; refused as extra")
        found.append((name, _ascii(name, value)))
    return found


def reply_to_of(email: OutboundEmail) -> tuple[str, str | None] | None:
    """The (address, name) of an extra ``Reply-To`` header, if there is one."""
    value = header_value(email, "Reply-To")
    if value is None:
        return None
    check_header_value("Reply-To", value)
    name, address = parseaddr(value)
    return check_address("Reply-To", address), name or None


def header_value(email: OutboundEmail, name: str) -> str | None:
    """An extra header's value, its name matched without regard to case."""
    wanted = name.lower()
    return next((value for key, value in email.headers.items() if key.lower() == wanted), None)


def _ascii(name: str, value: str) -> str:
    """``value`` as is when ASCII, else RFC 2047 encoded words on one line."""
    if value.isascii():
        return value
    return Header(value, "utf-8", header_name=name).encode(linesep="")


def _describe(exc: Exception) -> str:
    text = str(exc) or "no details"
    return f"{type(exc).__name__}: {text}"


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
