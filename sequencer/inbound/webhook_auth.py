"""Is a webhook request the email provider's own, and fresh: signatures and replays.

Pure: no store, no network. Each check raises :class:`BadSignature` (answered 401:
nothing changes) or returns quietly; the caller then maps the body with
``sequencer.inbound.webhooks``.

- SendGrid signs ``timestamp + raw body`` with ECDSA P-256 / SHA-256 (the Signed
  Event Webhook), in the ``X-Twilio-Email-Event-Webhook-*`` headers.
- Postmark sends the HTTP Basic credentials written in the webhook's URL.
- Mailgun puts ``{timestamp, token, signature}`` in the JSON body: the HMAC-SHA256 of
  ``timestamp + token`` under the webhook signing key. A token is good once: the
  caller keeps a :class:`ReplayCache`.

A timestamp more than ``FRESHNESS`` away from now, either way, is refused like a bad
signature, so that a captured request cannot be played again later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sequencer.errors import InputError

FRESHNESS = timedelta(minutes=5)
SENDGRID_SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
_EPOCH = re.compile(r"\d{1,12}")


class WebhookRejected(InputError):
    """A webhook request that must change nothing."""


class BadSignature(WebhookRejected):
    """Credentials or signature missing, malformed, wrong, or stale: not the provider."""


class ReplayedRequest(WebhookRejected):
    """A signed request seen before: someone is playing it again."""


class MalformedPayload(WebhookRejected):
    """Authentic, but not the JSON the provider documents."""


def sendgrid_public_key(text: str) -> ec.EllipticCurvePublicKey:
    """SendGrid's verification key as its settings page shows it (base64 DER), or PEM.

    Raises:
        ValueError: not an ECDSA P-256 public key.
    """
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_public_key(text.strip().encode())
        else:
            der = base64.b64decode("".join(text.split()), validate=True)
            key = serialization.load_der_public_key(der)
    except (ValueError, binascii.Error, UnsupportedAlgorithm) as exc:
        raise ValueError("not a public key: expected the base64 verification key "
                         "SendGrid shows for its Signed Event Webhook") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("not an ECDSA P-256 public key, which SendGrid signs with")
    return key


def verify_sendgrid(key: ec.EllipticCurvePublicKey, body: bytes, *, signature: str | None,
                    timestamp: str | None, now: datetime) -> None:
    """Check a Signed Event Webhook request: fresh, and signed over ``timestamp + body``.

    Raises:
        BadSignature: a header missing, a stale timestamp, or a signature that fails.
    """
    if not signature or not timestamp:
        raise BadSignature(f"SendGrid: {SENDGRID_SIGNATURE} and {SENDGRID_TIMESTAMP} "
                           "are required")
    _check_fresh("SendGrid", timestamp.strip(), now)
    try:
        der = base64.b64decode(signature.strip(), validate=True)
        key.verify(der, timestamp.strip().encode() + body, ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, ValueError, InvalidSignature) as exc:
        raise BadSignature("SendGrid: the signature does not match the request") from exc


def verify_basic(user: str, password: str, authorization: str | None) -> None:
    """Check HTTP Basic credentials (Postmark's), comparing in constant time.

    Raises:
        BadSignature: no Basic credentials, or not these.
    """
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    try:
        given = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        given = b""
    if scheme.lower() != "basic" or not given:
        raise BadSignature("Postmark: HTTP Basic credentials are required")
    if not hmac.compare_digest(given, f"{user}:{password}".encode()):
        raise BadSignature("Postmark: wrong credentials")


@dataclass(frozen=True, slots=True)
class MailgunRequest:
    """A Mailgun webhook body: its signature block and its one event."""

    timestamp: str
    token: str
    signature: str
    event: Mapping[str, Any]

    @property
    def expires_at(self) -> datetime:
        """When this token stops being fresh; a replay cache may forget it then."""
        return datetime.fromtimestamp(int(self.timestamp), UTC) + FRESHNESS


def mailgun_request(body: bytes) -> MailgunRequest:
    """Read ``{"signature": {timestamp, token, signature}, "event-data": {...}}``.

    Raises:
        MalformedPayload: not JSON, or no event.
        BadSignature: the signature block is missing or incomplete.
    """
    payload = json_body(body, "Mailgun")
    if not isinstance(payload, dict):
        raise MalformedPayload("Mailgun: expected a JSON object")
    block = payload.get("signature")
    block = block if isinstance(block, dict) else {}
    timestamp, token, signature = (_field(block.get(name))
                                   for name in ("timestamp", "token", "signature"))
    if not (timestamp and token and signature):
        raise BadSignature("Mailgun: the signature {timestamp, token, signature} is required")
    event = payload.get("event-data")
    if not isinstance(event, dict):
        raise MalformedPayload("Mailgun: no event-data")
    return MailgunRequest(timestamp, token, signature, event)


def verify_mailgun(signing_key: str, request: MailgunRequest, *, now: datetime) -> None:
    """Check the HMAC-SHA256 of ``timestamp + token`` and the timestamp's freshness.

    Raises:
        BadSignature: a stale timestamp or a signature that does not match.
    """
    _check_fresh("Mailgun", request.timestamp, now)
    expected = hmac.new(signing_key.encode(), (request.timestamp + request.token).encode(),
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), request.signature.lower().encode()):
        raise BadSignature("Mailgun: the signature does not match the request")


def _check_fresh(provider: str, timestamp: str, now: datetime) -> None:
    if not _EPOCH.fullmatch(timestamp):
        raise BadSignature(f"{provider}: the timestamp {timestamp[:40]!r} is not epoch seconds")
    signed = datetime.fromtimestamp(int(timestamp), UTC)
    if abs(now - signed) > FRESHNESS:
        raise BadSignature(f"{provider}: signed at {signed.isoformat()}, more than "
                           f"{FRESHNESS.seconds // 60} minutes from now: refused as a replay")


class ReplayCache:
    """Signed tokens seen while they are fresh, in this process, at most ``capacity``.

    Limits: each process has its own, so behind several API processes a replay that
    reaches another process passes here; the event's idempotency key still makes it
    a no-op in the store. When full, the oldest tokens are forgotten first.
    """

    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self._expiry: dict[str, datetime] = {}  # token -> when it stops being fresh
        self._lock = threading.Lock()

    def claim(self, token: str, *, expires_at: datetime, now: datetime) -> bool:
        """Remember ``token``; False when it was already seen (a replay)."""
        with self._lock:
            while self._expiry:  # insertion order is roughly expiry order
                oldest = next(iter(self._expiry))
                if self._expiry[oldest] > now and len(self._expiry) < self.capacity:
                    break
                del self._expiry[oldest]
            if token in self._expiry:
                return False
            self._expiry[token] = expires_at
            return True

    def release(self, token: str) -> None:
        """Forget ``token``: its request failed, and the provider may send it again."""
        with self._lock:
            self._expiry.pop(token, None)


def json_body(body: bytes, provider: str) -> Any:
    """The JSON of a webhook body.

    Raises:
        MalformedPayload: not JSON.
    """
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedPayload(f"{provider}: the body is not JSON") from exc


def _field(value: object) -> str:
    """A signature field as text ("" when absent), bounded: tokens are 50 characters."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value.strip()[:200] if isinstance(value, str) else ""
