"""What the classifier says about one inbound message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Kind(StrEnum):
    REPLY = "reply"  # a person answered: the sequence stops
    AUTO_REPLY = "auto_reply"  # out of office and the like: pause, not a reply
    HARD_BOUNCE = "hard_bounce"  # the address is dead: suppress it
    SOFT_BOUNCE = "soft_bounce"  # temporary or recoverable: retry later
    BLOCKED = "blocked"  # refused because of the sender or content: the mailbox's problem
    UNSUBSCRIBE = "unsubscribe"  # a person asked to be removed
    UNKNOWN = "unknown"  # none of the above (delivery receipts, feedback reports...)


@dataclass(frozen=True, slots=True)
class Classification:
    """The verdict on one message, with what the engine and the reports need.

    ``message_ids`` are every Message-ID this mail may answer, best first: the
    In-Reply-To, the References from newest, the original's Message-ID quoted in a
    bounce. ``in_reply_to`` is the first of them. ``sequencer_key`` is the
    X-Sequencer-Key of the original (quoted in a bounce) or the VERP token of the
    address it came back to, when found.
    """

    kind: Kind
    status: str | None = None  # RFC 3463 enhanced status code, e.g. "5.1.1" (bounces)
    reason: str | None = None  # a short reason: userunknown, mailboxfull, vacation...
    diagnostic: str | None = None  # the remote server's own words, for the operator
    recipient: str | None = None  # the address that bounced
    return_date: date | None = None  # auto-replies that say when the person is back
    message_ids: tuple[str, ...] = ()
    sequencer_key: str | None = None
    reply_text: str | None = None  # replies: the new text, without quotes or signature
    message_id: str | None = None  # this message's own Message-ID (for de-duplication)
    sender: str | None = None  # the From address
    delayed: bool = False  # a delay warning (DSN ``Action: delayed``): the remote still tries

    @property
    def in_reply_to(self) -> str | None:
        return self.message_ids[0] if self.message_ids else None
