"""One inbound message in, one verdict out: :func:`classify`.

The order of decisions is fixed here:

1. reports written by mail systems (bounces, delay warnings, delivery receipts,
   feedback reports): a bounce often says ``Auto-Submitted`` too, and must never be
   read as an out-of-office;
2. an unsubscribe sent by a mail client (Apple Mail's one-tap unsubscribe, a mail to
   a ``List-Unsubscribe`` mailto address): these say ``Auto-Submitted`` as well;
3. auto-replies, from their headers then their words
   (:mod:`sequencer.inbound.autoreply`);
4. a person asking to be removed, read in the new text of their reply;
5. a reply: a person (a From address, not a mail system's) wrote something;
6. anything else is unknown.

Every verdict carries what the message answers (``message_ids``, best first), the
sequencer key (quoted from the original, or the VERP token it came back to), its own
Message-ID and its sender.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

from sequencer.inbound.autoreply import auto_reply_headers, looks_like_auto_reply, return_date
from sequencer.inbound.bounces import Report, read_report
from sequencer.inbound.model import Classification, Kind
from sequencer.inbound.notice import is_daemon
from sequencer.inbound.original import SEQUENCER_KEY_HEADER
from sequencer.inbound.parse import (
    address_of,
    best_text,
    header,
    in_reply_to,
    own_message_id,
    parse_message,
    raw_header,
    references,
)
from sequencer.inbound.replytext import reply_text
from sequencer.inbound.unsubscribe import asks_to_unsubscribe
from sequencer.inbound.verp import verp_key

# Where a bounce names the address it came back to: our VERP return path.
_RETURN_PATH_HEADERS = ("delivered-to", "x-original-to", "envelope-to", "x-envelope-to",
                        "x-original-recipient", "to", "return-path")
# RFC 2369 mailto unsubscribe: a mail client sends a bare command as the subject.
_UNSUBSCRIBE_SUBJECT = re.compile(r"^\s*(unsubscribe|remove|opt[- ]?out)\s*$", re.I)


def classify(raw: bytes, *, received: datetime | None = None) -> Classification:
    """Classify one raw inbound message.

    Parameters:
        raw: the message as received (RFC 5322 bytes), whatever its size or damage.
        received: when it arrived (timezone-aware); the base for relative return
            dates ("back on Monday"). Without it, the message's own Date is used.

    Returns:
        The verdict; malformed mail gives a verdict too, never an exception.
    """
    message = parse_message(raw)
    report = read_report(message)
    if report is not None:
        return _from_report(message, report)
    base = _base(message)
    subject = header(message, "Subject")
    text = best_text(message)
    if _client_unsubscribe(message, subject):
        return replace(base, kind=Kind.UNSUBSCRIBE, reason="unsubscribe")
    if auto_reply_headers(message) or looks_like_auto_reply(subject, text):
        day = _arrival_day(message, received)
        # The subject often repeats the date ("Out of office until 14 March") when the
        # body does not state it.
        back = return_date(text, received=day) or return_date(subject, received=day)
        return replace(base, kind=Kind.AUTO_REPLY, reason="auto_reply", return_date=back)
    new_text = reply_text(text)
    if new_text and asks_to_unsubscribe(new_text):
        return replace(base, kind=Kind.UNSUBSCRIBE, reason="unsubscribe", reply_text=new_text)
    sender = header(message, "From")
    if text.strip() and base.sender and not is_daemon(base.sender, sender):
        return replace(base, kind=Kind.REPLY, reply_text=new_text)
    return base


def _base(message: EmailMessage, *, quoted_id: str | None = None,
          quoted_key: str | None = None) -> Classification:
    """An ``unknown`` verdict with what every verdict carries."""
    answered = [i for i in (in_reply_to(message), *references(message), quoted_id) if i]
    return Classification(
        Kind.UNKNOWN,
        message_ids=tuple(dict.fromkeys(answered)),
        sequencer_key=quoted_key or _verp_key(message),
        message_id=own_message_id(message),
        sender=address_of(header(message, "From")),
    )


def _from_report(message: EmailMessage, report: Report) -> Classification:
    base = _base(message, quoted_id=report.original.message_id,
                 quoted_key=report.original.sequencer_key)
    return replace(base, kind=report.kind, status=report.status, reason=report.reason,
                   diagnostic=report.diagnostic, recipient=report.recipient,
                   delayed=report.delayed)


def _verp_key(message: EmailMessage) -> str | None:
    """The key in the address the message was delivered to, else its own X-Sequencer-Key."""
    for wanted in _RETURN_PATH_HEADERS:
        for name, value in message.raw_items():
            if name.lower() == wanted:
                key = verp_key(str(value))
                if key:
                    return key
    return raw_header(message, SEQUENCER_KEY_HEADER).strip() or None


def _client_unsubscribe(message: EmailMessage, subject: str) -> bool:
    """A mail client's unsubscribe: Apple Mail's header, or a bare "unsubscribe" subject."""
    if raw_header(message, "X-Apple-Unsubscribe").lower() == "true":
        return True
    return bool(_UNSUBSCRIBE_SUBJECT.match(subject))


def _arrival_day(message: EmailMessage, received: datetime | None) -> date | None:
    if received is not None:
        return received.date()
    try:
        sent = parsedate_to_datetime(raw_header(message, "Date"))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return sent.date() if sent is not None else None
