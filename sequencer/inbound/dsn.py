"""Structured delivery reports: RFC 3464 fields, wherever a server put them.

A standard report is a ``multipart/report; report-type=delivery-status`` whose
``message/delivery-status`` part holds one block of fields per recipient
(``Final-Recipient``, ``Action``, ``Status``, ``Diagnostic-Code``). Many servers
write the same fields as plain text instead (inside the notice, or in a text part
of a ``multipart/mixed``), and Amazon SES sends them as JSON. All three end up as
:class:`RecipientReport`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from email.message import Message
from typing import Any

from sequencer.inbound.parse import content_param, content_type, header, part_text, walk

_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]{1,40})[ \t]*:[ \t]*(.*)$")
_DSN_FIELDS = frozenset({
    "final-recipient", "original-recipient", "action", "status", "diagnostic-code",
    "remote-mta", "reporting-mta", "last-attempt-date", "will-retry-until",
    "x-actual-recipient", "arrival-date", "received-from-mta", "original-envelope-id",
    "x-postfix-queue-id", "x-postfix-sender", "x-original-message-id",
})
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass(frozen=True, slots=True)
class RecipientReport:
    """What one delivery report says about one recipient."""

    recipient: str | None = None
    action: str | None = None  # failed, delayed, delivered, relayed, expanded
    status: str | None = None  # the RFC 3463 code as reported
    diagnostic: str | None = None  # the remote server's words, type prefix removed
    diagnostic_type: str | None = None  # smtp, x-unix (a local delivery program), x-postfix...
    status_text: str | None = None  # the words some reporters put beside the Status code
    remote_mta: str | None = None  # the host that answered (Remote-MTA), lower-case
    reporting_mta: str | None = None  # the host that wrote the report (Reporting-MTA)


def report_type(message: Message) -> str:
    """The ``report-type`` of a multipart/report (lower-case), or ""."""
    if content_type(message) != "multipart/report":
        return ""
    return content_param(message, "report-type").lower()


def feedback_type(message: Message) -> str | None:
    """The ``Feedback-Type`` of an ARF report (RFC 5965), or None when it is not one."""
    for part in walk(message):
        if content_type(part) == "message/feedback-report":
            fields = _fields_of_part(part)
            for block in fields:
                if "feedback-type" in block:
                    return block["feedback-type"].strip().lower()
            return ""
    if report_type(message) == "feedback-report":
        return ""
    return None


def delivery_reports(message: Message) -> list[RecipientReport]:
    """Per-recipient reports from every ``message/delivery-status`` part of ``message``."""
    reports: list[RecipientReport] = []
    for part in walk(message):
        if content_type(part) in ("message/delivery-status", "message/global-delivery-status"):
            reports.extend(_reports(_fields_of_part(part)))
    return reports


def reports_in_text(text: str) -> list[RecipientReport]:
    """Reports written as plain-text DSN fields (``Action: failed`` ...) inside ``text``."""
    if not re.search(r"(?im)^[ \t]*(action|status|final-recipient)[ \t]*:", text):
        return []
    return _reports(_blocks(text))


def _fields_of_part(part: Message) -> list[dict[str, str]]:
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks = []
        for block in payload:
            if isinstance(block, Message):
                blocks.append({key.lower(): " ".join(str(value).split())
                               for key, value in block.raw_items()})
        if any(blocks):
            return blocks
        return []
    return _blocks(part_text(part))


def _blocks(text: str) -> list[dict[str, str]]:
    """Groups of ``Name: value`` lines separated by blank lines, continuations unfolded."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines()[:2000]:
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, None
            continue
        if line[:1] in (" ", "\t") and last is not None:
            current[last] = f"{current[last]} {line.strip()}"
            continue
        match = _FIELD.match(line.strip())
        if match is None:
            last = None
            continue
        name = match.group(1).lower()
        if name in _DSN_FIELDS:
            current.setdefault(name, match.group(2).strip())
            last = name
        else:
            last = None
    if current:
        blocks.append(current)
    return blocks


def _reports(blocks: list[dict[str, str]]) -> list[RecipientReport]:
    reports = []
    reporting = next((_host(b["reporting-mta"]) for b in blocks if "reporting-mta" in b), None)
    for block in blocks:
        if not ({"action", "status", "final-recipient", "diagnostic-code"} & block.keys()):
            continue
        if not ({"action", "status", "diagnostic-code"} & block.keys()):
            continue
        recipient = block.get("final-recipient") or block.get("original-recipient")
        status = block.get("status") or ""
        reports.append(RecipientReport(
            recipient=_address(recipient),
            action=(block.get("action") or "").split(" ")[0].lower() or None,
            status=_status(status),
            diagnostic=_diagnostic(block.get("diagnostic-code")),
            diagnostic_type=_diagnostic_type(block.get("diagnostic-code")),
            status_text=_STATUS.sub("", status).strip(" ()") or None,
            remote_mta=_host(block.get("remote-mta")),
            reporting_mta=_host(block.get("reporting-mta")) or reporting,
        ))
    return reports


def _address(value: str | None) -> str | None:
    if not value:
        return None
    _type, _, address = value.partition(";")
    address = (address or value).strip().strip("<>").strip()
    return address or None


def _host(value: str | None) -> str | None:
    """The host name in an MTA field (``dns; mx.example.net. (192.0.2.1)``), lower-case."""
    _type, sep, rest = (value or "").partition(";")
    words = (rest if sep else _type).split()
    name = words[0].strip("[]().").lower() if words else ""
    return name if "." in name and not name.replace(".", "").isdigit() else None


def _status(value: str | None) -> str | None:
    match = _STATUS.search(value or "")
    return ".".join(match.groups()) if match else None


def _diagnostic_type(value: str | None) -> str | None:
    kind, sep, _rest = (value or "").partition(";")
    return kind.strip().lower() if sep and re.fullmatch(r"\s*[A-Za-z][\w.-]*\s*", kind) else None


def _diagnostic(value: str | None) -> str | None:
    if not value:
        return None
    kind, sep, rest = value.partition(";")
    text = rest if sep and re.fullmatch(r"\s*[A-Za-z][\w.-]*\s*", kind) else value
    text = " ".join(text.split())
    return text or None


# Amazon SES event notifications (JSON, possibly wrapped in an SNS envelope) ---------------

@dataclass(frozen=True, slots=True)
class ProviderNotification:
    """An email provider's event about a message we sent: bounce, complaint or delivery."""

    event: str  # bounce, complaint, delivery
    permanent: bool
    reports: tuple[RecipientReport, ...]


def ses_notification(message: Message) -> ProviderNotification | None:
    """An Amazon SES bounce/complaint/delivery notification carried in the body, or None."""
    if content_type(message) != "text/plain" or "amazon" not in _sender_domain(message):
        return None
    # Sendmail breaks lines longer than its limit with "!", a newline and a space.
    body = re.sub(r"!\r?\n ", "", part_text(message)).strip()
    data = _json_object(body[: body.rfind("}") + 1] if "}" in body else body)
    if data is not None and isinstance(data.get("Message"), str):
        data = _json_object(data["Message"])
    if data is None:
        return None
    event = str(data.get("notificationType") or data.get("eventType") or "").lower()
    if event == "bounce":
        bounce = data.get("bounce") or {}
        recipients = bounce.get("bouncedRecipients") or []
        return ProviderNotification("bounce", bounce.get("bounceType") == "Permanent",
                                    tuple(_ses_report(r) for r in recipients
                                          if isinstance(r, dict)))
    if event in ("complaint", "delivery"):
        return ProviderNotification(event, False, ())
    return None


def _ses_report(item: dict[str, Any]) -> RecipientReport:
    return RecipientReport(
        recipient=str(item.get("emailAddress") or "") or None,
        action=str(item.get("action") or "failed").lower(),
        status=_status(str(item.get("status") or "")),
        diagnostic=_diagnostic(str(item.get("diagnosticCode") or "")),
    )


def _json_object(text: str) -> dict[str, Any] | None:
    if not text.startswith("{") or len(text) > 512 * 1024:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _sender_domain(message: Message) -> str:
    return header(message, "From").lower().rpartition("@")[2]
