"""The providers' webhooks, pure: signatures, freshness, replays, and what each event means."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sequencer.inbound.model import Kind
from sequencer.inbound.webhook_auth import (
    BadSignature,
    MalformedPayload,
    ReplayCache,
    mailgun_request,
    sendgrid_public_key,
    verify_basic,
    verify_mailgun,
    verify_sendgrid,
)
from sequencer.inbound.webhooks import (
    Effect,
    ProviderEvent,
    mailgun_events,
    postmark_events,
    sendgrid_events,
)

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
STAMP = str(int(NOW.timestamp()))
OUR_ID = "<0f1e2d3c4b5a69788796a5b4c3d2e1f0@sender.example>"
RUN = "7:intro:1"
MAILGUN_KEY = "key-0123456789abcdef0123456789abcdef"


# -- SendGrid signatures ----------------------------------------------------------------
@pytest.fixture(scope="module")
def private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def shown_key(private: ec.EllipticCurvePrivateKey) -> str:
    """The public key as SendGrid's settings page shows it: base64 of the DER."""
    der = private.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def sign(private: ec.EllipticCurvePrivateKey, timestamp: str, body: bytes) -> str:
    signature = private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()


def test_a_sendgrid_request_signed_with_the_key_passes(
        private_key: ec.EllipticCurvePrivateKey) -> None:
    body = b'[{"event":"delivered","sg_event_id":"e1"}]'
    key = sendgrid_public_key(shown_key(private_key))

    verify_sendgrid(key, body, signature=sign(private_key, STAMP, body), timestamp=STAMP,
                    now=NOW)


def test_a_tampered_body_another_key_or_a_missing_header_fails_the_sendgrid_check(
        private_key: ec.EllipticCurvePrivateKey) -> None:
    body = b'[{"event":"delivered","sg_event_id":"e1"}]'
    key = sendgrid_public_key(shown_key(private_key))
    good = sign(private_key, STAMP, body)
    stranger = sign(ec.generate_private_key(ec.SECP256R1()), STAMP, body)

    for signature, timestamp, sent in [(good, STAMP, body.replace(b"e1", b"e2")),
                                       (good, str(int(STAMP) + 1), body),
                                       (stranger, STAMP, body), (None, STAMP, body),
                                       (good, None, body), ("not base64!", STAMP, body)]:
        with pytest.raises(BadSignature):
            verify_sendgrid(key, sent, signature=signature, timestamp=timestamp, now=NOW)


def test_a_sendgrid_request_signed_more_than_five_minutes_away_is_refused(
        private_key: ec.EllipticCurvePrivateKey) -> None:
    body = b"[]"
    key = sendgrid_public_key(shown_key(private_key))
    for offset in (-301, 301):
        stamp = str(int(STAMP) + offset)
        with pytest.raises(BadSignature, match="replay"):
            verify_sendgrid(key, body, signature=sign(private_key, stamp, body),
                            timestamp=stamp, now=NOW)
    fresh = str(int(STAMP) - 299)
    verify_sendgrid(key, body, signature=sign(private_key, fresh, body), timestamp=fresh,
                    now=NOW)


def test_the_sendgrid_key_is_read_as_base64_der_or_pem_and_nothing_else(
        private_key: ec.EllipticCurvePrivateKey) -> None:
    pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    wrong_curve = ec.generate_private_key(ec.SECP384R1())

    assert sendgrid_public_key(pem).public_numbers() == private_key.public_key().public_numbers()
    for bad in ("not a key", shown_key(wrong_curve), base64.b64encode(b"junk").decode()):
        with pytest.raises(ValueError):
            sendgrid_public_key(bad)


# -- Postmark Basic and Mailgun HMAC ----------------------------------------------------
def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_postmark_basic_credentials_must_be_exactly_the_configured_ones() -> None:
    verify_basic("postmark", "s3cret", basic("postmark", "s3cret"))
    for given in (None, "", basic("postmark", "wrong"), basic("other", "s3cret"),
                  "Bearer s3cret", "Basic !!!", basic("postmark", "s3cret:x")):
        with pytest.raises(BadSignature):
            verify_basic("postmark", "s3cret", given)


def mailgun_body(event: dict[str, Any], *, timestamp: str = STAMP, token: str = "t" * 50,
                 key: str = MAILGUN_KEY) -> bytes:
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256)
    return json.dumps({"signature": {"timestamp": timestamp, "token": token,
                                     "signature": signature.hexdigest()},
                       "event-data": event}).encode()


def test_a_mailgun_signature_made_with_the_signing_key_passes() -> None:
    verify_mailgun(MAILGUN_KEY, mailgun_request(mailgun_body({"event": "delivered"})), now=NOW)


def test_a_mailgun_signature_of_another_key_a_changed_token_or_a_stale_time_fails() -> None:
    good = json.loads(mailgun_body({"event": "delivered"}))
    changed = {**good, "signature": {**good["signature"], "token": "u" * 50}}
    old = str(int(STAMP) - 600)
    for body in (mailgun_body({}, key="key-another"), json.dumps(changed).encode(),
                 mailgun_body({}, timestamp=old)):
        with pytest.raises(BadSignature):
            verify_mailgun(MAILGUN_KEY, mailgun_request(body), now=NOW)


def test_a_mailgun_body_without_signature_is_unsigned_and_one_without_json_is_malformed(
        ) -> None:
    with pytest.raises(BadSignature):
        mailgun_request(json.dumps({"event-data": {"event": "delivered"}}).encode())
    with pytest.raises(MalformedPayload):
        mailgun_request(b"timestamp=1&token=2&signature=3")


def test_the_replay_cache_refuses_a_token_while_it_is_fresh_and_forgets_it_after() -> None:
    cache = ReplayCache()
    expires = NOW + timedelta(minutes=5)

    assert cache.claim("tok", expires_at=expires, now=NOW)
    assert not cache.claim("tok", expires_at=expires, now=NOW + timedelta(minutes=4))
    assert cache.claim("tok", expires_at=expires, now=NOW + timedelta(minutes=6))


def test_a_released_token_may_come_again_and_a_full_cache_forgets_the_oldest() -> None:
    cache = ReplayCache(capacity=2)
    expires = NOW + timedelta(minutes=5)
    cache.claim("a", expires_at=expires, now=NOW)
    cache.release("a")
    assert cache.claim("a", expires_at=expires, now=NOW)

    cache.claim("b", expires_at=expires, now=NOW)
    cache.claim("c", expires_at=expires, now=NOW)

    assert not cache.claim("c", expires_at=expires, now=NOW)
    assert cache.claim("a", expires_at=expires, now=NOW)  # forgotten to make room


# -- SendGrid events ------------------------------------------------------------------------
def sendgrid(**fields: Any) -> ProviderEvent:
    event = {"email": "ann@acme.example", "timestamp": int(STAMP), "sg_event_id": "ev1",
             "sg_message_id": "cJzCzytgTeiyRns9uybNaQ.filter0071p3iad2-27823-5C320D7B-2A.0",
             "message_id": OUR_ID, "sequencer_key": RUN, **fields}
    (mapped,) = sendgrid_events(json.dumps([event]).encode())
    return mapped


def test_a_sendgrid_bounce_for_an_unknown_user_is_hard_and_names_our_email() -> None:
    mapped = sendgrid(event="bounce", type="bounce", status="5.1.1",
                      reason="550 5.1.1 The email account that you tried to reach does not "
                             "exist.", bounce_classification="Invalid Address")

    assert mapped.effect is Effect.INBOUND and mapped.key == "sendgrid:ev1"
    assert mapped.provider_id == "cJzCzytgTeiyRns9uybNaQ"  # X-Message-Id, without .filter...
    assert mapped.found is not None
    assert (mapped.found.kind, mapped.found.status) == (Kind.HARD_BOUNCE, "5.1.1")
    assert mapped.found.message_ids == (OUR_ID,) and mapped.found.sequencer_key == RUN
    assert mapped.found.recipient == "ann@acme.example"


@pytest.mark.parametrize(("fields", "kind"), [
    ({"type": "blocked", "status": "4.0.0", "reason": "421 try again later"},
     Kind.BLOCKED),  # SendGrid's own verdict: refused because of the sender
    ({"type": "bounce", "status": "5.7.1",
      "reason": "550 5.7.1 Service unavailable; client host blocked using Spamhaus"},
     Kind.BLOCKED),
    ({"type": "bounce", "status": "5.7.1", "reason": "550 5.7.1 user unknown"},
     Kind.SOFT_BOUNCE),  # a policy code worded as a dead address: the address is kept
    ({"type": "bounce", "status": "5.1.1", "reason": "550 5.1.1 recipient rejected",
      "bounce_classification": "Reputation"}, Kind.BLOCKED),
    ({"type": "bounce", "status": "5.2.2", "reason": "552 5.2.2 mailbox full"},
     Kind.SOFT_BOUNCE),
])
def test_a_sendgrid_bounce_suppresses_only_when_every_signal_blames_the_address(
        fields: dict[str, str], kind: Kind) -> None:
    mapped = sendgrid(event="bounce", **fields)

    assert mapped.found is not None and mapped.found.kind is kind


@pytest.mark.parametrize(("fields", "kind", "reason"), [
    ({"event": "deferred", "response": "421 try later", "attempt": "2"}, Kind.UNKNOWN,
     "deferred"),
    ({"event": "dropped", "reason": "Bounced Address"}, Kind.HARD_BOUNCE, "userunknown"),
    ({"event": "dropped", "reason": "Unsubscribed Address"}, Kind.UNSUBSCRIBE, "unsubscribe"),
    ({"event": "dropped", "reason": "Spam Reporting Address"}, Kind.UNSUBSCRIBE, "complaint"),
    ({"event": "dropped", "reason": "Recipient List over Package Quota"}, Kind.UNKNOWN,
     "dropped"),
    ({"event": "spamreport"}, Kind.UNSUBSCRIBE, "complaint"),
    ({"event": "unsubscribe"}, Kind.UNSUBSCRIBE, "unsubscribe"),
    ({"event": "group_unsubscribe", "asm_group_id": 1}, Kind.UNSUBSCRIBE, "unsubscribe"),
    ({"event": "delivered", "response": "250 OK"}, Kind.UNKNOWN, "delivered"),
])
def test_each_sendgrid_delivery_event_becomes_the_kind_the_engine_acts_on(
        fields: dict[str, str], kind: Kind, reason: str) -> None:
    mapped = sendgrid(**fields)

    assert mapped.found is not None
    assert (mapped.found.kind, mapped.found.reason) == (kind, reason)
    assert mapped.found.delayed is (fields["event"] == "deferred")


def test_a_sendgrid_complaint_names_the_person_who_complained() -> None:
    mapped = sendgrid(event="spamreport")

    assert mapped.found is not None and mapped.found.sender == "ann@acme.example"


def test_sendgrid_opens_and_clicks_are_keyed_like_our_own_tracking_links() -> None:
    opened = sendgrid(event="open", sg_machine_open=False)
    clicked = sendgrid(event="click", url="https://acme.example/pricing")
    digest = hashlib.sha256(b"https://acme.example/pricing").hexdigest()[:16]

    assert (opened.effect, opened.key, opened.run_key) == (Effect.OPEN, f"open:{RUN}", RUN)
    assert (clicked.effect, clicked.key) == (Effect.CLICK, f"click:{RUN}:{digest}")
    assert clicked.url == "https://acme.example/pricing"


def test_machine_opens_and_events_we_cannot_place_are_ignored() -> None:
    assert sendgrid(event="open", sg_machine_open=True).effect is Effect.IGNORED
    assert sendgrid(event="open", sequencer_key=None).effect is Effect.IGNORED
    assert sendgrid(event="processed").effect is Effect.IGNORED
    assert sendgrid(event="bounce", sg_event_id=None).effect is Effect.IGNORED


def test_one_unreadable_event_does_not_cost_the_batch_its_other_events() -> None:
    body = json.dumps(["junk", {"event": "bounce"}, {"event": "spamreport",
                       "sg_event_id": "ok", "email": "bob@acme.example"}]).encode()

    mapped = sendgrid_events(body)

    assert [m.effect for m in mapped] == [Effect.IGNORED, Effect.IGNORED, Effect.INBOUND]


def test_a_sendgrid_body_that_is_not_a_json_array_is_malformed() -> None:
    for body in (b"{}", b"not json", b"[" * 100_000):
        with pytest.raises(MalformedPayload):
            sendgrid_events(body)


# -- Postmark events ------------------------------------------------------------------------
def postmark(**fields: Any) -> ProviderEvent:
    record = {"ID": 42, "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
              "Email": "ann@acme.example", "Metadata": {"message_id": OUR_ID,
                                                        "sequencer_key": RUN}, **fields}
    (mapped,) = postmark_events(json.dumps(record).encode())
    return mapped


@pytest.mark.parametrize(("bounce_type", "kind"), [
    ("HardBounce", Kind.HARD_BOUNCE), ("BadEmailAddress", Kind.HARD_BOUNCE),
    ("ManuallyDeactivated", Kind.HARD_BOUNCE), ("SoftBounce", Kind.SOFT_BOUNCE),
    ("DnsError", Kind.SOFT_BOUNCE), ("Transient", Kind.UNKNOWN),
    ("AutoResponder", Kind.AUTO_REPLY), ("AddressChange", Kind.AUTO_REPLY),
    ("Blocked", Kind.BLOCKED), ("SpamNotification", Kind.BLOCKED),
    ("ChallengeVerification", Kind.BLOCKED), ("VirusNotification", Kind.BLOCKED),
    ("DMARCPolicy", Kind.BLOCKED), ("Unsubscribe", Kind.UNSUBSCRIBE),
    ("SpamComplaint", Kind.UNSUBSCRIBE), ("Subscribe", Kind.UNKNOWN),
    ("OpenRelayTest", Kind.UNKNOWN), ("Unknown", Kind.UNKNOWN), ("Unconfirmed", Kind.UNKNOWN),
    ("SMTPApiError", Kind.UNKNOWN), ("InboundError", Kind.UNKNOWN),
    ("TemplateRenderingFailed", Kind.UNKNOWN),
])
def test_each_documented_postmark_bounce_type_has_a_kind(bounce_type: str, kind: Kind) -> None:
    mapped = postmark(RecordType="Bounce", Type=bounce_type, Details="smtp;550 5.1.1 no user")

    assert mapped.found is not None and mapped.found.kind is kind
    assert mapped.key == "postmark:Bounce:42"
    assert mapped.provider_id == "883953f4-6105-42a2-a16a-77a8eac79483"
    assert mapped.found.message_ids == (OUR_ID,)


def test_a_postmark_spam_complaint_and_a_suppressing_subscription_change_unsubscribe() -> None:
    complaint = postmark(RecordType="SpamComplaint", Type="SpamComplaint")
    change = postmark(RecordType="SubscriptionChange", ID=None, Email=None,
                      Recipient="ann@acme.example", SuppressSending=True,
                      SuppressionReason="ManualSuppression", ChangedAt="2026-11-24T10:00:00Z")
    reactivated = postmark(RecordType="SubscriptionChange", SuppressSending=False,
                           ChangedAt="2026-11-25T10:00:00Z")

    assert complaint.key == "postmark:SpamComplaint:42"
    assert complaint.found is not None and complaint.found.kind is Kind.UNSUBSCRIBE
    assert change.found is not None and change.found.kind is Kind.UNSUBSCRIBE
    assert change.found.sender == "ann@acme.example"
    assert change.key.startswith("postmark:SubscriptionChange:883953f4")
    assert reactivated.effect is Effect.IGNORED  # opt-outs are kept, never undone here


def test_postmark_deliveries_opens_and_clicks() -> None:
    delivered = postmark(RecordType="Delivery", ID=None, DeliveredAt="2026-11-24T10:00:00Z")
    opened = postmark(RecordType="Open", ID=None, FirstOpen=True)
    clicked = postmark(RecordType="Click", ID=None, OriginalLink="https://acme.example/x")

    assert delivered.found is not None and delivered.found.reason == "delivered"
    assert (opened.effect, opened.key) == (Effect.OPEN, f"open:{RUN}")
    assert clicked.effect is Effect.CLICK and clicked.url == "https://acme.example/x"


def test_a_postmark_body_that_is_not_an_object_is_malformed() -> None:
    with pytest.raises(MalformedPayload):
        postmark_events(b"[]")


# -- Mailgun events -------------------------------------------------------------------------
def mailgun(**fields: Any) -> ProviderEvent:
    event = {"id": "G9Bn5sl1TC6nu79C8C0bwg", "timestamp": float(STAMP),
             "recipient": "ann@acme.example",
             "message": {"headers": {"message-id": OUR_ID.strip("<>")}},
             "user-variables": {"sequencer_key": RUN}, **fields}
    (mapped,) = mailgun_events(mailgun_request(mailgun_body(event)))
    return mapped


def test_a_permanent_mailgun_failure_for_an_unknown_user_is_hard() -> None:
    mapped = mailgun(event="failed", severity="permanent", reason="bounce",
                     **{"delivery-status": {"code": 550, "enhanced-code": "5.1.1",
                                            "message": "5.1.1 No such user here"}})

    assert mapped.key == "mailgun:G9Bn5sl1TC6nu79C8C0bwg" and mapped.provider_id == OUR_ID
    assert mapped.found is not None
    assert (mapped.found.kind, mapped.found.status) == (Kind.HARD_BOUNCE, "5.1.1")
    assert mapped.found.message_ids == (OUR_ID,) and mapped.found.sequencer_key == RUN


@pytest.mark.parametrize(("fields", "kind"), [
    ({"event": "failed", "severity": "temporary", "reason": "generic",
      "delivery-status": {"code": 452, "message": "4.2.2 mailbox full"}}, Kind.UNKNOWN),
    ({"event": "failed", "severity": "permanent", "reason": "suppress-bounce"},
     Kind.HARD_BOUNCE),
    ({"event": "failed", "severity": "permanent", "reason": "espblock"}, Kind.BLOCKED),
    ({"event": "failed", "severity": "permanent", "reason": "old"}, Kind.SOFT_BOUNCE),
    ({"event": "failed", "severity": "permanent", "reason": "generic",
      "delivery-status": {"code": 554, "message": "5.7.1 rejected: listed at Spamhaus"}},
     Kind.BLOCKED),
    ({"event": "complained"}, Kind.UNSUBSCRIBE),
    ({"event": "unsubscribed"}, Kind.UNSUBSCRIBE),
    ({"event": "delivered"}, Kind.UNKNOWN),
])
def test_each_mailgun_event_becomes_the_kind_the_engine_acts_on(
        fields: dict[str, Any], kind: Kind) -> None:
    mapped = mailgun(**fields)

    assert mapped.found is not None and mapped.found.kind is kind


def test_mailgun_opens_and_clicks_and_events_without_an_id() -> None:
    assert mailgun(event="opened").key == f"open:{RUN}"
    assert mailgun(event="clicked", url="https://acme.example/a").effect is Effect.CLICK
    assert mailgun(event="accepted").effect is Effect.IGNORED
    assert mailgun(event="failed", id=None).effect is Effect.IGNORED
