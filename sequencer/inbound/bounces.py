"""Reports written by mail systems: bounces, delay warnings, delivery receipts, feedback.

:func:`read_report` says whether a message is such a report and, for a bounce, what
failed and why: the recipient, the enhanced status code, the remote server's words,
a reason and the kind the engine acts on (hard, soft, blocked). Structured fields
(RFC 3464, Amazon SES) are preferred; the notice written for people fills what they
lack (:mod:`sequencer.inbound.notice`), and :mod:`sequencer.inbound.diagnosis`
weighs the evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

from sequencer.inbound.diagnosis import (
    Evidence,
    best_status,
    is_delay_warning,
    notice_diagnostic,
    reason_for,
    remote_words,
)
from sequencer.inbound.dsn import (
    RecipientReport,
    delivery_reports,
    feedback_type,
    report_type,
    reports_in_text,
    ses_notification,
)
from sequencer.inbound.model import Kind
from sequencer.inbound.notice import (
    addresses,
    bounce_phrases,
    bounce_subject,
    is_daemon,
    split_notice,
)
from sequencer.inbound.original import OriginalHeaders, attached_original, quoted_original
from sequencer.inbound.parse import (
    address_of,
    all_text,
    content_type,
    deep_text,
    header,
    parse_message,
    raw_header,
    walk,
)
from sequencer.inbound.providers import Hosts
from sequencer.inbound.reasons import kind_of

_FINAL_ACTIONS = frozenset({"failed", "failure", "expired", "bounced", "permanent"})
_SUCCESS_ACTIONS = frozenset({"delivered", "relayed", "expanded", "deliverable"})
_OPT_OUT_FEEDBACK = frozenset({"opt-out", "unsubscribe", "optout"})
_REPLY_PREFIX = ("re:", "aw:", "sv:", "antw:", "odp:", "rif:", "res:")
_FORWARD_PREFIX = re.compile(r"(?i)^\s*(fwd?|wg|tr|rv|enc)\s*:\s*")
_MBOX_FROM = re.compile(r"(?m)^From \S+ +\w{3} \w{3} +\d+ [\d:]+ \d{4}\s*$")
_NULL_MX = re.compile(r"(?i)\bnull mx\b|rfc ?7505")
# Where a notice names the server that answered: Sendmail's "while talking to mx.x.",
# Postfix's "host mx.x[192.0.2.1] said", Oracle's "Remote system: dns;mx.x".
_NAMED_HOST = re.compile(
    r"(?i)(?:while talking to|\bhost|remote system:[ \t]*dns;)[ \t]*"
    r"([a-z0-9-]+(?:\.[a-z0-9-]+)+\.?)(?=[\s:\[(]|$)")
_RECIPIENT_LINE = re.compile(
    r"(?im)^[ \t>]*(?:recipient:|to:|rcpt to:|original-recipient:)?[ \t]*"
    r"<?([^\s<>@]+@[^\s<>@]+?)>?(?::|[ \t]*$|[ \t]+\[|[ \t]+on |[ \t]+delivery failed)")


@dataclass(frozen=True, slots=True)
class Report:
    """What a mail system's report says. ``kind`` is UNKNOWN for receipts and feedback."""

    kind: Kind
    reason: str
    status: str | None = None
    diagnostic: str | None = None
    recipient: str | None = None
    delayed: bool = False  # a delay warning: the remote system is still trying
    original: OriginalHeaders = field(default_factory=OriginalHeaders)


def read_report(message: Message, *, nested: bool = False) -> Report | None:
    """The report ``message`` carries, or None when it is not one (a person wrote it).

    ``nested`` is set when reading a report found inside another (followed once only).
    """
    feedback = feedback_type(message)
    if feedback is not None:
        # An ARF report: a complaint ("abuse") or an opt-out. The type is kept for the
        # operator; only an opt-out is an unsubscribe.
        kind = Kind.UNSUBSCRIBE if feedback in _OPT_OUT_FEEDBACK else Kind.UNKNOWN
        return Report(kind, "feedback", diagnostic=f"Feedback-Type: {feedback or 'unknown'}",
                      original=attached_original(message))
    provider = ses_notification(message)
    if provider is not None:
        if provider.event != "bounce":
            return Report(Kind.UNKNOWN, "delivered" if provider.event == "delivery" else "feedback")
        return _bounce(message, list(provider.reports), "", final=True)
    reports = delivery_reports(message)
    text = all_text(message)
    standard = bool(reports) or report_type(message) == "delivery-status"
    if not standard and not _looks_like_bounce(message, text):
        return None
    notice, _original = split_notice(text)
    return _bounce(message, reports or reports_in_text(notice), text, final=nested)


def _looks_like_bounce(message: Message, text: str) -> bool:
    """A notice from a mail system, or one a person forwarded; not a person's answer."""
    if raw_header(message, "X-Failed-Recipients"):
        return True
    sender = header(message, "From")
    subject = header(message, "Subject")
    notice, _ = split_notice(text)
    daemon = is_daemon(address_of(sender), sender) or raw_header(message, "Return-Path") == "<>"
    if daemon or _list_manager(address_of(sender)):
        return bounce_subject(subject) or bounce_phrases(notice)
    if subject.lower().startswith(_REPLY_PREFIX):
        return False  # a person answering, whatever they quote
    return bounce_subject(_FORWARD_PREFIX.sub("", subject)) and bounce_phrases(notice)


def _list_manager(address: str | None) -> bool:
    """Mailing-list software answers from ``list-owner``/``-admin``/``-request``/``-bounces``."""
    local = (address or "").partition("@")[0].lower()
    return local.endswith(("-owner", "-admin", "-request", "-bounces", "-errors"))


def _bounce(message: Message, reports: list[RecipientReport], text: str, *,
            final: bool) -> Report:
    """Read a bounce (or a receipt). ``final``: do not look for another report inside."""
    notice, original_text = split_notice(text)
    if _is_receipt(reports):
        status = next((r.status for r in reports if r.status), None)
        return Report(Kind.UNKNOWN, "delivered", status=status, recipient=reports[0].recipient,
                      original=_original(message, text))
    chosen = _chosen(reports)
    diagnostic = (chosen.diagnostic if chosen else None) or notice_diagnostic(notice)
    if diagnostic is None and not final:
        inner = _attached_report(message) or _pasted_report(text)
        if inner is not None:
            return inner
    remote = remote_words(diagnostic or "")
    original = _original(message, original_text or text)
    recipient = _recipient(message, chosen, notice, diagnostic or "", original.to)
    evidence = Evidence(remote, notice, best_status(chosen.status if chosen else None, remote,
                                                    notice), chosen, len(reports),
                        _hosts(message, chosen, notice, recipient))
    delayed = is_delay_warning(chosen, any(r.action in _FINAL_ACTIONS for r in reports), notice)
    reason = reason_for(evidence)
    kind = kind_of(reason)
    if kind is Kind.HARD_BOUNCE and (delayed or (evidence.status or "").startswith("4.")) and (
            delayed or not _null_mx(reason, f"{diagnostic or ''}\n{notice}")):
        kind = Kind.SOFT_BOUNCE  # temporary by definition, or still being tried: never suppress
    return Report(
        kind=kind,
        reason=reason,
        status=evidence.status,
        diagnostic=diagnostic,
        recipient=recipient,
        delayed=delayed,
        original=original,
    )


def _null_mx(reason: str, words: str) -> bool:
    """A null MX (RFC 7505: ``MX 0 .``) is the domain's own, lasting statement that it
    takes no mail, and RFC 7505 asks senders to fail at once: a reporter that gave up
    on it under a 4.x code (Gmail says 4.0.0) has still failed for good."""
    return reason == "notaccept" and bool(_NULL_MX.search(words))


def _hosts(message: Message, chosen: RecipientReport | None, notice: str,
           recipient: str | None) -> Hosts:
    """The hosts the bounce names: who wrote it, who answered, the recipient's domain."""
    sender = (address_of(header(message, "From")) or "").rpartition("@")[2].lower()
    reporter = [sender, (chosen.reporting_mta if chosen else None) or ""]
    answering = [(chosen.remote_mta if chosen else None) or ""]
    answering += [m.group(1).lower().rstrip(".") for m in _NAMED_HOST.finditer(notice[:20000])]
    return Hosts(reporter=tuple(h for h in reporter if h),
                 remote=tuple(dict.fromkeys(h for h in answering if h)),
                 recipient=(recipient or "").rpartition("@")[2].lower())


def _is_receipt(reports: list[RecipientReport]) -> bool:
    """A delivery receipt: every recipient delivered, relayed or expanded (or 2.x.x)."""
    actions = {report.action for report in reports if report.action}
    codes = {report.status[0] for report in reports if report.status}
    return bool(reports) and ((bool(actions) and actions <= _SUCCESS_ACTIONS) or codes == {"2"})


def _chosen(reports: list[RecipientReport]) -> RecipientReport | None:
    """The first recipient that failed, else the first delayed, else the first."""
    for wanted in (_FINAL_ACTIONS, {"delayed"}):
        for report in reports:
            if report.action in wanted:
                return report
    return reports[0] if reports else None


def _attached_report(message: Message) -> Report | None:
    """A relay that forwards the bounce it received as an attachment: read that one."""
    for part in walk(message):
        if part is message or content_type(part) != "message/rfc822":
            continue
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(inner, Message) and content_type(inner) == "multipart/report":
            return read_report(inner, nested=True)
    return None


def _pasted_report(text: str) -> Report | None:
    """A relay that pastes the bounce it received, mbox ``From`` line and all, as text."""
    start = _MBOX_FROM.search(text)
    if start is None:
        return None
    inner = parse_message(text[start.end():].lstrip("\r\n").encode("utf-8", "replace"))
    return read_report(inner, nested=True)


def _recipient(message: Message, chosen: RecipientReport | None, notice: str,
               diagnostic: str, original_to: str | None) -> str | None:
    """The address that failed: as reported, else as the notice lists it, else the
    original's To (our mail has one recipient)."""
    if chosen is not None and chosen.recipient:
        return chosen.recipient.lower()
    failed = raw_header(message, "X-Failed-Recipients")
    if failed:
        return failed.split(",")[0].strip().lower()
    ours = {address_of(header(message, name)) for name in ("From", "To")}
    candidates = [m.group(1) for m in _RECIPIENT_LINE.finditer(notice)] + addresses(diagnostic)
    if original_to:
        candidates.append(address_of(original_to) or "")
    candidates += addresses(notice)
    for address in candidates:
        lowered = address.strip(".<>:").lower()
        if "@" in lowered and lowered not in ours and not is_daemon(lowered):
            return lowered
    return None


def _original(message: Message, text: str) -> OriginalHeaders:
    """The returned original's headers: attached, else pasted after the notice, else
    anywhere below the bounce's own headers (a broken MIME structure hides parts)."""
    for found in (attached_original(message), quoted_original(text),
                  quoted_original(deep_text(message))):
        if found.message_id or found.sequencer_key:
            return found
    return OriginalHeaders()
