"""Signatures of CRM webhooks: ours (generic, Salesforce, and what we send) and HubSpot's
v3: good ones pass; wrong, tampered, stale or missing ones are refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from sequencer.crm.signatures import BadSignature, hubspot_signature, sign, verify, verify_hubspot

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SECRET = "shared-secret-0123"
BODY = b'{"id":"evt_1","type":"meeting_booked","email":"ann@acme.example"}'
URL = "https://seq.example.com/v1/crm/hubspot/events"


def test_our_signature_is_the_hex_hmac_of_time_dot_body() -> None:
    header = sign(SECRET, BODY, now=NOW)
    t = int(NOW.timestamp())
    expected = hmac.new(SECRET.encode(), f"{t}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={t},v1={expected}"
    verify(SECRET, BODY, header, now=NOW + timedelta(minutes=4))


@pytest.mark.parametrize(("case", "header_of"), [
    ("wrong secret", lambda: sign("another-secret-99", BODY, now=NOW)),
    ("tampered body", lambda: sign(SECRET, BODY + b" ", now=NOW)),
    ("expired", lambda: sign(SECRET, BODY, now=NOW - timedelta(minutes=6))),
    ("from the future", lambda: sign(SECRET, BODY, now=NOW + timedelta(minutes=6))),
    ("missing", lambda: None),
    ("malformed", lambda: "sha256=abc"),
    ("no v1", lambda: f"t={int(NOW.timestamp())}"),
])
def test_our_signature_refuses(case: str, header_of: object) -> None:
    assert callable(header_of)
    with pytest.raises(BadSignature):
        verify(SECRET, BODY, header_of(), now=NOW, who="Salesforce")


def test_any_of_several_v1_values_may_match_during_a_secret_rotation() -> None:
    good = sign(SECRET, BODY, now=NOW).split(",v1=")[1]
    verify(SECRET, BODY, f"t={int(NOW.timestamp())},v1={'0' * 64},v1={good}", now=NOW)


def test_hubspot_v3_signs_method_uri_body_and_timestamp() -> None:
    stamp = str(int(NOW.timestamp() * 1000))
    digest = hmac.new(SECRET.encode(), b"POST" + URL.encode() + BODY + stamp.encode(),
                      hashlib.sha256).digest()
    signature = hubspot_signature(SECRET, "post", URL, BODY, stamp)
    assert signature == base64.b64encode(digest).decode()
    verify_hubspot(SECRET, "POST", ["http://10.0.0.5:8000/v1/crm/hubspot/events", URL], BODY,
                   signature=signature, timestamp=stamp, now=NOW + timedelta(minutes=4))


@pytest.mark.parametrize("case", ["wrong secret", "tampered", "expired", "other url", "missing"])
def test_hubspot_v3_refuses(case: str) -> None:
    stamp = NOW - timedelta(minutes=6) if case == "expired" else NOW
    ts = str(int(stamp.timestamp() * 1000))
    secret = "not-the-secret-00" if case == "wrong secret" else SECRET
    signature = hubspot_signature(secret, "POST", URL, BODY, ts)
    body = BODY.replace(b"ann", b"bob") if case == "tampered" else BODY
    uri = "https://elsewhere.example/hook" if case == "other url" else URL
    with pytest.raises(BadSignature):
        verify_hubspot(SECRET, "POST", [uri], body, now=NOW,
                       signature=None if case == "missing" else signature, timestamp=ts)
