"""The mail a bounce returns: its Message-ID and our X-Sequencer-Key, wherever quoted.

A report may attach the original (``message/rfc822``), only its headers
(``text/rfc822-headers``), or paste them into the notice text. The attached part is
trusted first; pasted headers are read from the text after the notice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

from sequencer.inbound.parse import (
    BOUNDED,
    content_type,
    message_ids,
    part_text,
    raw_header,
    walk,
)

SEQUENCER_KEY_HEADER = "X-Sequencer-Key"

_QUOTED_ID = re.compile(r"(?im)^[ \t>]*(?:x-original-)?message-id[ \t]*:[ \t]*(<[^<>\s]+>)")
_QUOTED_KEY = re.compile(r"(?im)^[ \t>]*x-sequencer-key[ \t]*:[ \t]*([^\s]+)")
_QUOTED_TO = re.compile(r"(?im)^[ \t>]*to[ \t]*:[ \t]*(.+)$")


@dataclass(frozen=True, slots=True)
class OriginalHeaders:
    message_id: str | None = None
    sequencer_key: str | None = None
    to: str | None = None


def attached_original(message: Message) -> OriginalHeaders:
    """The headers of the mail attached to a bounce (message/rfc822 or rfc822-headers)."""
    for part in walk(message, into_messages=False):
        kind = content_type(part)
        headers: Message | None = None
        if kind in ("message/rfc822", "message/global") and part is not message:
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            headers = inner if isinstance(inner, Message) else None
        elif kind in ("text/rfc822-headers", "message/rfc822-headers", "text/rfc822-header"):
            headers = HeaderParser(policy=BOUNDED).parsestr(part_text(part), headersonly=True)
        if headers is None:
            continue
        found = _from_headers(headers)
        if found.message_id or found.sequencer_key:
            return found
    return OriginalHeaders()


def quoted_original(text: str) -> OriginalHeaders:
    """The original's headers as pasted into a notice's text (first of each)."""
    message_id = _QUOTED_ID.search(text)
    key = _QUOTED_KEY.search(text)
    to = _QUOTED_TO.search(text)
    return OriginalHeaders(
        message_id=message_id.group(1) if message_id else None,
        sequencer_key=key.group(1).strip() if key else None,
        to=" ".join(to.group(1).split()) if to else None,
    )


def _from_headers(headers: Message) -> OriginalHeaders:
    ids = message_ids(raw_header(headers, "Message-ID"))
    key = raw_header(headers, SEQUENCER_KEY_HEADER).strip()
    return OriginalHeaders(message_id=ids[0] if ids else None, sequencer_key=key or None,
                           to=raw_header(headers, "To") or None)
