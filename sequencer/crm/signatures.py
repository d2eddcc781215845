"""Signing and checking CRM webhooks: ours (generic and Salesforce) and HubSpot's v3.

Pure: no store, no network. A check raises :class:`BadSignature` (answered 401) or
returns quietly.

- **Ours** (``X-Sequencer-Signature: t=<unix seconds>,v1=<hex>``): the hex
  HMAC-SHA256, under the shared secret, of ``f"{t}.{body}"``. The same scheme signs
  what we send out and checks what the generic and Salesforce endpoints receive
  (each with its own secret). Several ``v1=`` values may be given (a secret being
  rotated); one match is enough.
- **HubSpot v3** (``X-HubSpot-Signature-v3``, ``X-HubSpot-Request-Timestamp`` in
  milliseconds): the base64 HMAC-SHA256, under the app's client secret, of
  ``method + uri + body + timestamp``.

A timestamp more than :data:`TOLERANCE` from now, either way, is refused like a bad
signature so that a captured request cannot be played again later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from sequencer.inbound.webhook_auth import BadSignature

TOLERANCE = timedelta(minutes=5)
SIGNATURE_HEADER = "X-Sequencer-Signature"
HUBSPOT_SIGNATURE = "X-HubSpot-Signature-v3"
HUBSPOT_TIMESTAMP = "X-HubSpot-Request-Timestamp"
_DIGITS = re.compile(r"\d{1,15}")

__all__ = ["HUBSPOT_SIGNATURE", "HUBSPOT_TIMESTAMP", "SIGNATURE_HEADER", "TOLERANCE",
           "BadSignature", "hubspot_signature", "sign", "verify", "verify_hubspot"]


def sign(secret: str, body: bytes, *, now: datetime) -> str:
    """The ``X-Sequencer-Signature`` value for ``body`` sent at ``now``."""
    t = int(now.timestamp())
    return f"t={t},v1={_hex(secret, t, body)}"


def verify(secret: str, body: bytes, header: str | None, *, now: datetime,
           who: str = "the webhook") -> None:
    """Check a ``t=...,v1=...`` signature: well formed, fresh, and matching.

    Raises:
        BadSignature: missing, malformed, stale, or not made with ``secret``.
    """
    if not header:
        raise BadSignature(f"{who}: the {SIGNATURE_HEADER} header is required "
                           "(t=<unix seconds>,v1=<hex HMAC-SHA256 of 't.body'>)")
    parts = [p.strip().partition("=") for p in header.split(",")]
    stamps = [value for key, _, value in parts if key == "t"]
    given = [value.lower() for key, _, value in parts if key == "v1"]
    if len(stamps) != 1 or not _DIGITS.fullmatch(stamps[0]) or not given:
        raise BadSignature(f"{who}: {SIGNATURE_HEADER} must read t=<unix seconds>,v1=<hex>")
    _check_fresh(who, int(stamps[0]), now)
    expected = _hex(secret, int(stamps[0]), body)
    if not _any_equal(expected, given):
        raise BadSignature(f"{who}: the signature does not match the body")


def hubspot_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """HubSpot's v3 signature of a request (what its ``X-HubSpot-Signature-v3`` holds)."""
    message = method.upper().encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def verify_hubspot(secret: str, method: str, uris: Iterable[str], body: bytes, *,
                   signature: str | None, timestamp: str | None, now: datetime) -> None:
    """Check a HubSpot v3 request against each URL it may have been sent to.

    ``uris``: the full URLs HubSpot may have signed (the public URL of the route, and
    the URL as this server saw it); HubSpot decodes a few percent-escapes before
    signing, so the decoded form of each is tried too.

    Raises:
        BadSignature: a header missing, a stale timestamp, or no URL that matches.
    """
    if not signature or not timestamp:
        raise BadSignature(f"HubSpot: {HUBSPOT_SIGNATURE} and {HUBSPOT_TIMESTAMP} are required")
    if not _DIGITS.fullmatch(timestamp.strip()):
        raise BadSignature(f"HubSpot: {HUBSPOT_TIMESTAMP} must be epoch milliseconds")
    _check_fresh("HubSpot", int(timestamp.strip()) // 1000, now)
    candidates = {u for uri in uris for u in (uri, unquote(uri))}
    for uri in sorted(candidates):
        expected = hubspot_signature(secret, method, uri, body, timestamp.strip())
        if hmac.compare_digest(expected.encode(), signature.strip().encode()):
            return
    raise BadSignature("HubSpot: the signature does not match the request (is "
                       "SEQUENCER_PUBLIC_URL the URL HubSpot calls?)")


def _hex(secret: str, t: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def _any_equal(expected: str, given: list[str]) -> bool:
    found = False
    for value in given:  # compare against every candidate: no early exit to time
        found |= hmac.compare_digest(expected.encode(), value.encode())
    return found


def _check_fresh(who: str, seconds: int, now: datetime) -> None:
    try:
        signed = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise BadSignature(f"{who}: the timestamp {seconds} is not a time") from exc
    if abs(now - signed) > TOLERANCE:
        raise BadSignature(f"{who}: signed at {signed.isoformat()}, more than "
                           f"{TOLERANCE.seconds // 60} minutes from now: refused as a replay")
