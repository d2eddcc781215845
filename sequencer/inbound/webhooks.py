"""What the email providers' webhook events mean: bounces, complaints, opens...

Pure: payload mapping only, no store and no network. Run it on a request that
``webhook_auth`` has verified. Each event becomes a :class:`ProviderEvent`: for the
inbound service (``INBOUND``: a :class:`Classification` recorded once under its
``key``, RELIABILITY rule 10), for the tracking service (``OPEN`` / ``CLICK``), or
``IGNORED``. Keys: ``sendgrid:<sg_event_id>``, ``postmark:<RecordType>:<ID>`` (or
the email and the time, for records without an ID), ``mailgun:<id>``.

Bounces are read as the mail classifier reads them (``reasons``): a provider's
"permanent" is not enough to suppress an address; the remote server's words must
blame the address. A delay the provider is still retrying (SendGrid ``deferred``,
Mailgun's temporary failures, Postmark ``Transient``) is recorded and changes
nothing: acting on it could send the email twice. Spam complaints and unsubscribes
become ``unsubscribe`` (the address is suppressed, its enrollments exit). Opens and
clicks are keyed like our own tracking links' (``open:<run>``, ``click:<run>:<url
digest>``) so that one open seen by the provider and by our pixel counts once;
opens by an image proxy (SendGrid's ``sg_machine_open``) are not opens.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sequencer.inbound.model import Classification, Kind
from sequencer.inbound.parse import message_ids
from sequencer.inbound.reasons import enhanced_codes, kind_of, reason_of_status, rule_in_text
from sequencer.inbound.webhook_auth import MailgunRequest, MalformedPayload, json_body

# SendGrid's sg_message_id is the X-Message-Id it answered the send with, plus parts.
_SENDGRID_SUFFIX = re.compile(r"\.(?:filter|recvd|ismtpd)")


class Effect(StrEnum):
    INBOUND = "inbound"  # bounce, block, complaint, unsubscribe, delivery: take it in
    OPEN = "open"
    CLICK = "click"
    IGNORED = "ignored"  # nothing for us: processed, a machine open, unknown or malformed


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """One provider event, ready for the inbound service (``INBOUND``) or the tracking
    service (``OPEN`` / ``CLICK``, about the email of ``run_key``)."""

    effect: Effect
    key: str = ""  # idempotency key: "sendgrid:<sg_event_id>", "open:<run_key>"...
    source: str = ""  # "sendgrid", "postmark", "mailgun"
    found: Classification | None = None
    provider_id: str | None = None  # the provider's id of our email, as its send answered
    run_key: str | None = None  # the X-Sequencer-Key of our email
    url: str | None = None  # a click's destination


IGNORED = ProviderEvent(Effect.IGNORED)


@dataclass(frozen=True, slots=True)
class _About:
    """What every event of one provider says about our email."""

    source: str
    key: str
    recipient: str | None
    ids: tuple[str, ...]
    run_key: str | None
    provider_id: str | None

    def take(self, kind: Kind, **fields: Any) -> ProviderEvent:
        # For an unsubscribe the recipient of our email is the person who asked.
        sender = self.recipient if kind is Kind.UNSUBSCRIBE else None
        found = Classification(kind, recipient=self.recipient, message_ids=self.ids,
                               sequencer_key=self.run_key, sender=sender, **fields)
        return ProviderEvent(Effect.INBOUND, self.key, self.source, found, self.provider_id)

    def opened(self) -> ProviderEvent:
        if not self.run_key:
            return IGNORED  # not one of ours, or sent without our run key
        return ProviderEvent(Effect.OPEN, f"open:{self.run_key}", self.source,
                             run_key=self.run_key)

    def clicked(self, url: object) -> ProviderEvent:
        link = _text(url, 2000)
        if not self.run_key or not link:
            return IGNORED
        digest = hashlib.sha256(link.encode()).hexdigest()[:16]
        return ProviderEvent(Effect.CLICK, f"click:{self.run_key}:{digest}", self.source,
                             run_key=self.run_key, url=link)


# -- SendGrid --------------------------------------------------------------------------
_SENDGRID_DROPPED = {  # dropped: SendGrid did not even try, and says why
    "bounced address": (Kind.HARD_BOUNCE, "userunknown"),  # bounced hard before
    "invalid": (Kind.HARD_BOUNCE, "userunknown"),
    "unsubscribed address": (Kind.UNSUBSCRIBE, "unsubscribe"),
    "spam reporting address": (Kind.UNSUBSCRIBE, "complaint"),
    "spam content (if spam checker app is enabled)": (Kind.BLOCKED, "spamdetected"),
}
# SendGrid's own reading of a bounce, as the classifier's reason; used as a tie-breaker.
_SENDGRID_CLASSIFICATION = {
    "invalid address": "userunknown", "reputation": "badreputation",
    "content": "contenterror", "frequency or volume too high": "speeding",
    "mailbox unavailable": "suspend", "technical": "systemerror",
}


def sendgrid_events(body: bytes) -> list[ProviderEvent]:
    """Every event of a SendGrid batch; one it cannot read becomes ``IGNORED``.

    Raises:
        MalformedPayload: the body is not a JSON array.
    """
    items = json_body(body, "SendGrid")
    if not isinstance(items, list):
        raise MalformedPayload("SendGrid: expected a JSON array of events")
    return [_sendgrid_event(item) for item in items]


def _sendgrid_event(item: object) -> ProviderEvent:
    event_id = _text(item.get("sg_event_id"), 200) if isinstance(item, dict) else None
    if not isinstance(item, dict) or not event_id:
        return IGNORED
    about = _About("sendgrid", f"sendgrid:{event_id}", _address(item.get("email")),
                   _ids(item.get("message_id")), _text(item.get("sequencer_key"), 200),
                   _sendgrid_queue_id(item.get("sg_message_id")))
    match item.get("event"):
        case "bounce":
            if item.get("type") == "blocked":
                return about.take(Kind.BLOCKED, reason="blocked", status=_status(item),
                                  diagnostic=_text(item.get("reason")))
            hint = _SENDGRID_CLASSIFICATION.get(str(item.get("bounce_classification")).lower())
            return _failure(about, _text(item.get("reason")) or "", _status(item), hint=hint)
        case "dropped":
            why = _text(item.get("reason")) or ""
            kind, reason = _SENDGRID_DROPPED.get(why.lower(), (Kind.UNKNOWN, "dropped"))
            return about.take(kind, reason=reason, diagnostic=why or None)
        case "deferred":
            return about.take(Kind.UNKNOWN, reason="deferred", delayed=True,
                              diagnostic=_text(item.get("response")))
        case "spamreport":
            return about.take(Kind.UNSUBSCRIBE, reason="complaint")
        case "unsubscribe" | "group_unsubscribe":
            return about.take(Kind.UNSUBSCRIBE, reason="unsubscribe")
        case "delivered":
            return about.take(Kind.UNKNOWN, reason="delivered",
                              diagnostic=_text(item.get("response")))
        case "open":  # an image proxy (Apple Mail Privacy Protection) is not a reader
            return IGNORED if item.get("sg_machine_open") is True else about.opened()
        case "click":
            return about.clicked(item.get("url"))
        case _:
            return IGNORED  # processed, group_resubscribe, account events...


def _sendgrid_queue_id(value: object) -> str | None:
    text = _text(value, 500)
    return _SENDGRID_SUFFIX.split(text, maxsplit=1)[0] if text else None


def _status(item: Mapping[str, Any]) -> str | None:
    codes = enhanced_codes(_text(item.get("status"), 40) or "")
    return codes[0] if codes else None


# -- Postmark --------------------------------------------------------------------------
_POSTMARK_BOUNCES: dict[str, tuple[Kind, str]] = {
    "HardBounce": (Kind.HARD_BOUNCE, "userunknown"),
    "BadEmailAddress": (Kind.HARD_BOUNCE, "userunknown"),
    "ManuallyDeactivated": (Kind.HARD_BOUNCE, "suppressed"),
    "SoftBounce": (Kind.SOFT_BOUNCE, "mailboxfull"),
    "DnsError": (Kind.SOFT_BOUNCE, "networkerror"),
    "AutoResponder": (Kind.AUTO_REPLY, "auto_reply"),
    "AddressChange": (Kind.AUTO_REPLY, "addresschange"),  # a notice, not a dead address
    "Blocked": (Kind.BLOCKED, "blocked"),
    "SpamNotification": (Kind.BLOCKED, "spamdetected"),
    "ChallengeVerification": (Kind.BLOCKED, "challenge"),
    "VirusNotification": (Kind.BLOCKED, "virusdetected"),
    "DMARCPolicy": (Kind.BLOCKED, "authfailure"),
    "Unsubscribe": (Kind.UNSUBSCRIBE, "unsubscribe"),
    "SpamComplaint": (Kind.UNSUBSCRIBE, "complaint"),
}  # Transient is a delay; Subscribe, OpenRelayTest, Unknown, Unconfirmed... are unknown
_POSTMARK_SUPPRESSIONS = {"HardBounce": (Kind.HARD_BOUNCE, "userunknown"),
                          "SpamComplaint": (Kind.UNSUBSCRIBE, "complaint"),
                          "ManualSuppression": (Kind.UNSUBSCRIBE, "unsubscribe")}


def postmark_events(body: bytes) -> list[ProviderEvent]:
    """The one event of a Postmark webhook request, as a list like the others'.

    Raises:
        MalformedPayload: the body is not a JSON object.
    """
    record = json_body(body, "Postmark")
    if not isinstance(record, dict):
        raise MalformedPayload("Postmark: expected a JSON object")
    return [_postmark_event(record)]


def _postmark_event(record: Mapping[str, Any]) -> ProviderEvent:
    kind = _text(record.get("RecordType"), 40)
    postmark_id = _text(record.get("MessageID"), 200)
    metadata = _object(record.get("Metadata"))
    own_id = _text(record.get("ID"), 40)
    if kind in ("Bounce", "SpamComplaint"):
        key = f"postmark:{kind}:{own_id}" if own_id else ""
    else:  # no ID of their own: the email (or the address) and the time say which
        ref = postmark_id or _text(record.get("Recipient"), 320)
        when = _text(record.get("ChangedAt") or record.get("DeliveredAt"), 60)
        key = f"postmark:{kind}:{ref}:{when}" if ref else ""
    about = _About("postmark", key, _address(record.get("Email") or record.get("Recipient")),
                   _ids(metadata.get("message_id")), _text(metadata.get("sequencer_key"), 200),
                   postmark_id)
    match kind:
        case "Open":
            return about.opened()
        case "Click":
            return about.clicked(record.get("OriginalLink"))
        case _ if not key:
            return IGNORED
        case "Bounce" | "SpamComplaint":
            return _postmark_bounce(about, record)
        case "SubscriptionChange" if record.get("SuppressSending") is True:
            why = str(record.get("SuppressionReason"))
            found, reason = _POSTMARK_SUPPRESSIONS.get(why, (Kind.UNSUBSCRIBE, "unsubscribe"))
            return about.take(found, reason=reason, diagnostic=f"Postmark suppression: {why}")
        case "Delivery":
            return about.take(Kind.UNKNOWN, reason="delivered",
                              diagnostic=_text(record.get("Details")))
        case _:
            return IGNORED  # reactivations, inbound, unknown record types


def _postmark_bounce(about: _About, record: Mapping[str, Any]) -> ProviderEvent:
    bounce_type = str(record.get("Type"))
    words = " ".join(filter(None, (_text(record.get("Details")),
                                   _text(record.get("Description")))))
    codes = enhanced_codes(words)
    if bounce_type == "Transient":  # Postmark's "message delayed": it is still trying
        return about.take(Kind.UNKNOWN, reason="delayed", delayed=True, diagnostic=words)
    kind, reason = _POSTMARK_BOUNCES.get(bounce_type, (Kind.UNKNOWN, bounce_type.lower()))
    return about.take(kind, reason=reason, status=codes[0] if codes else None,
                      diagnostic=words or None)


# -- Mailgun ---------------------------------------------------------------------------
_MAILGUN_REASONS = {  # event "failed", severity permanent, by Mailgun's reason
    "suppress-bounce": (Kind.HARD_BOUNCE, "userunknown"),  # on its bounce list already
    "suppress-unsubscribe": (Kind.UNSUBSCRIBE, "unsubscribe"),
    "suppress-complaint": (Kind.UNSUBSCRIBE, "complaint"),
    "espblock": (Kind.BLOCKED, "blocked"),
    "old": (Kind.SOFT_BOUNCE, "expired"),  # retried until it gave up
}


def mailgun_events(request: MailgunRequest) -> list[ProviderEvent]:
    """The one event of a (verified) Mailgun webhook request, as a list."""
    data = request.event
    event_id = _text(data.get("id"), 200)
    headers = _object(_object(data.get("message")).get("headers"))
    variables = _object(data.get("user-variables"))
    own = _ids(headers.get("message-id"))
    about = _About("mailgun", f"mailgun:{event_id}", _address(data.get("recipient")),
                   tuple(dict.fromkeys(own + _ids(variables.get("message_id")))),
                   _text(variables.get("sequencer_key"), 200), own[0] if own else None)
    match data.get("event"):
        case _ if not event_id:
            return [IGNORED]
        case "failed":
            return [_mailgun_failure(about, data)]
        case "complained":
            return [about.take(Kind.UNSUBSCRIBE, reason="complaint")]
        case "unsubscribed":
            return [about.take(Kind.UNSUBSCRIBE, reason="unsubscribe")]
        case "delivered":
            return [about.take(Kind.UNKNOWN, reason="delivered")]
        case "opened":
            return [about.opened()]
        case "clicked":
            return [about.clicked(data.get("url"))]
        case _:
            return [IGNORED]  # accepted, stored, list events...


def _mailgun_failure(about: _About, data: Mapping[str, Any]) -> ProviderEvent:
    status = _object(data.get("delivery-status"))
    words = " ".join(filter(None, (str(status.get("code") or ""), _text(status.get("message")),
                                   _text(status.get("description")))))
    codes = enhanced_codes(_text(status.get("enhanced-code"), 40) or "")
    if data.get("severity") != "permanent":  # Mailgun retries temporary failures itself
        return about.take(Kind.UNKNOWN, reason="delayed", delayed=True,
                          diagnostic=words or None, status=codes[0] if codes else None)
    known = _MAILGUN_REASONS.get(str(data.get("reason")))
    if known is not None:
        return about.take(known[0], reason=known[1], diagnostic=words or None)
    return _failure(about, words, codes[0] if codes else None)


# -- shared ----------------------------------------------------------------------------
def _failure(about: _About, words: str, status: str | None, *,
             hint: str | None = None) -> ProviderEvent:
    """A failure the provider calls permanent, read as the classifier reads a bounce.

    The words decide first, then the status code, then the provider's ``hint``. An
    address is only called dead when no signal says otherwise: a 4.x.x code, a
    5.7.x code (policy: the refusal is of us), or a provider hint that is not "dead".
    """
    status = status or next(iter(enhanced_codes(words)), None)
    rule = rule_in_text([words])
    reason = (rule.partition(".")[0] if rule else None) or reason_of_status(status) \
        or hint or "undefined"
    if kind_of(reason) is Kind.HARD_BOUNCE:
        if hint is not None and kind_of(hint) is not Kind.HARD_BOUNCE:
            reason = hint  # the provider reads it otherwise: keep the address
        elif (status or "").startswith(("4.", "5.7.")):
            reason = "filtered"  # temporary, or a policy refusal worded as "no such user"
    return about.take(kind_of(reason), reason=reason, status=status,
                      diagnostic=words[:1000] or None)


def _object(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object, limit: int = 1000) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:limit]


def _address(value: object) -> str | None:
    text = _text(value, 320)
    return text if text and "@" in text else None


def _ids(value: object) -> tuple[str, ...]:
    text = _text(value, 1000)
    return tuple(message_ids(text)) if text else ()
