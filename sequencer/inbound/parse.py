"""Raw bytes to a parsed message, with bounded work, and the few things we read from it.

Inbound mail is hostile input: a 50 MB attachment, a charset nobody knows, a thousand
nested multiparts, a ``References`` header with ten thousand ids. Every function here
bounds its work (bytes read, header length, parts visited, depth) and never raises on
malformed mail: the worst case is less text, not an exception.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import Compat32, EmailPolicy
from html.parser import HTMLParser

MAX_INPUT_BYTES = 4 * 1024 * 1024  # classification needs the notice, not the attachments
MAX_HEADER_CHARS = 16 * 1024  # one header value; longer ones are cut (References bombs)
MAX_MULTIPARTS = 64  # more multipart declarations than this: read headers and body as text
MAX_PARTS = 200  # parts visited by any walk
MAX_DEPTH = 12  # nesting followed by any walk
MAX_IDS = 50  # Message-IDs kept from one References header (the newest)

_MULTIPART_DECLARATION = re.compile(rb"(?im)^content-type:[ \t]*multipart/")
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,500})>")
_BARE_ID = re.compile(r"[^\s<>@]{1,250}@[^\s<>@]{1,250}")


def _bounded(value: str) -> str:
    if len(value) <= MAX_HEADER_CHARS:
        return value
    # Keep both ends: the oldest References entry is the thread's root, the newest is
    # the message answered.
    quarter = MAX_HEADER_CHARS // 4
    return value[:quarter] + " " + value[-3 * quarter:]


class _BoundedPolicy(EmailPolicy):
    """``policy.default`` with every header value cut to a bounded length before parsing."""

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        return name, _bounded(value)


class _BoundedSourcePolicy(Compat32):
    """The parser's side: headers kept as raw strings (bounded), parsed only when read.

    ``policy.default`` parses Content-Type again each time the parser looks at it; with
    this policy the parse is several times faster, and the message is handed over with
    :data:`BOUNDED` (``policy.default`` semantics) once built.
    """

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        return name, _bounded(value)


BOUNDED = _BoundedPolicy()
_SOURCE = _BoundedSourcePolicy()


def parse_message(raw: bytes) -> EmailMessage:
    """Parse ``raw`` (RFC 5322 bytes) into an :class:`EmailMessage`, bounded in time and memory.

    Input beyond ``MAX_INPUT_BYTES`` is ignored. A message declaring more than
    ``MAX_MULTIPARTS`` multiparts is read as headers plus one plain body, because the
    standard parser's work grows with the nesting depth.
    """
    data = raw[:MAX_INPUT_BYTES]
    if len(_MULTIPART_DECLARATION.findall(data, 0, len(data))) > MAX_MULTIPARTS:
        return _flat_message(data)
    try:
        message = BytesParser(_class=EmailMessage, policy=_SOURCE).parsebytes(data)
    except (RecursionError, ValueError, LookupError, IndexError, TypeError):
        return _flat_message(data)
    assert isinstance(message, EmailMessage)
    for part in walk(message, into_messages=True, limit=None):
        part.policy = BOUNDED
    return message


def _flat_message(data: bytes) -> EmailMessage:
    """Headers as parsed, the whole body as one text/plain payload."""
    head, _, body = data.replace(b"\r\n", b"\n").partition(b"\n\n")
    message = BytesParser(policy=BOUNDED).parsebytes(head + b"\n\n", headersonly=True)
    assert isinstance(message, EmailMessage)
    for name in ("Content-Type", "Content-Transfer-Encoding"):
        del message[name]
    message["Content-Type"] = "text/plain; charset=utf-8"
    message.set_payload(body.decode("utf-8", "replace"))
    return message


def header(message: Message, name: str) -> str:
    """The value of the first ``name`` header with RFC 2047 words decoded, or "" (never raises).

    Decoded directly rather than through the policy's header objects: address
    parsing there is slow and strict, and we only need the text.
    """
    raw = _raw_8bit(raw_header(message, name))
    if "=?" not in raw:
        return raw
    try:
        return " ".join(str(make_header(decode_header(raw))).split())
    except (ValueError, LookupError, UnicodeError, HeaderParseError):
        return raw


def _raw_8bit(value: str) -> str:
    """Undeclared 8-bit bytes in a header (kept as surrogates by the parser), as UTF-8."""
    if not any("\udc80" <= char <= "\udcff" for char in value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def raw_header(message: Message, name: str) -> str:
    """The undecoded value of the first ``name`` header, unfolded, or ""."""
    lowered = name.lower()
    for key, value in message.raw_items():
        if key.lower() == lowered:
            return " ".join(str(value).split())
    return ""


def header_names(message: Message) -> set[str]:
    return {key.lower() for key, _ in message.raw_items()}


def message_ids(value: str) -> list[str]:
    """The ``<id>`` tokens of a Message-ID-like header value, in order, without repeats."""
    found = [f"<{match}>" for match in _MESSAGE_ID.findall(value)]
    if not found:
        found = [f"<{match}>" for match in _BARE_ID.findall(value)]
    return list(dict.fromkeys(found))


def own_message_id(message: Message) -> str | None:
    ids = message_ids(raw_header(message, "Message-ID"))
    return ids[0] if ids else None


def in_reply_to(message: Message) -> str | None:
    ids = message_ids(raw_header(message, "In-Reply-To"))
    return ids[0] if ids else None


def references(message: Message) -> list[str]:
    """The References of ``message``, newest first, at most ``MAX_IDS``."""
    ids = message_ids(raw_header(message, "References"))
    return list(reversed(ids[-MAX_IDS:]))


def walk(message: Message, *, into_messages: bool = False,
         limit: int | None = MAX_PARTS) -> Iterator[Message]:
    """Every part of ``message``, depth first, bounded in count and depth.

    Attached messages (``message/rfc822`` and the like) are entered only when
    ``into_messages`` is true: their text is the original mail, not this one's.
    """
    stack: list[tuple[Message, int]] = [(message, 0)]
    visited = 0
    while stack and (limit is None or visited < limit):
        part, depth = stack.pop()
        visited += 1
        yield part
        if depth >= MAX_DEPTH and limit is not None:
            continue
        if (not into_messages and part is not message
                and content_type(part).startswith("message/")):
            continue
        children = part.get_payload() if part.is_multipart() else None
        if isinstance(children, list):
            stack.extend((child, depth + 1) for child in reversed(children)
                         if isinstance(child, Message))


_PARAM = re.compile(r"""(?i);\s*([\w.*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))""")


def content_type(part: Message) -> str:
    """The part's MIME type, lower-case, with the standard defaults (never raises).

    Read from the raw header: ``EmailMessage.get_content_type`` parses the header
    again on each call, which dominates the cost of classifying a message.
    """
    value = raw_header(part, "Content-Type").split(";", 1)[0].strip().lower()
    if not value:
        return part.get_default_type()
    if value.count("/") != 1:
        return "text/plain"
    return value


def content_param(part: Message, name: str) -> str:
    """A parameter of the part's Content-Type (``boundary``, ``report-type``...), or ""."""
    for match in _PARAM.finditer(raw_header(part, "Content-Type")):
        if match.group(1).lower() == name.lower():
            return (match.group(2) if match.group(2) is not None else match.group(3)).strip()
    return ""


def part_text(part: Message) -> str:
    """The decoded text of one leaf part, whatever its declared charset (never raises)."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # an undecodable transfer encoding: nothing to read
        return ""
    if isinstance(payload, str):
        return payload
    if not isinstance(payload, bytes):
        return ""
    return decode_bytes(payload, content_param(part, "charset").lower() or None)


def decode_bytes(payload: bytes, charset: str | None) -> str:
    """``payload`` decoded as ``charset``; unknown charsets fall back to UTF-8, then Latin-1."""
    if charset:
        try:
            codecs.lookup(charset)
        except (LookupError, UnicodeError, ValueError):  # unknown, or not even text
            charset = None
    if charset:
        try:
            return payload.decode(charset, "replace")
        except (UnicodeError, LookupError, ValueError):
            pass
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("latin-1")


def _is_attachment(part: Message) -> bool:
    return raw_header(part, "Content-Disposition").split(";", 1)[0].strip().lower() == "attachment"


def best_text(message: Message) -> str:
    """The message's own readable text: its first inline text/plain that says something,
    else its HTML as text. Parts inside attached messages are not this message's text."""
    html: str | None = None
    for part in walk(message):
        if part.is_multipart() or _is_attachment(part):
            continue
        kind = content_type(part)
        if kind == "text/plain" or (part is not message and _broken_multipart(part)):
            text = part_text(part)
            if text.strip():
                return text
        if kind == "text/html" and html is None:
            html = part_text(part)
    if html is not None:
        return html_to_text(html)
    return _undeclared_text(message)


def _broken_multipart(part: Message) -> bool:
    """A part declared multipart whose boundary was lost: its payload is plain text."""
    return content_type(part).startswith("multipart/") and isinstance(part.get_payload(), str)


def _undeclared_text(message: Message) -> str:
    """The body of a message whose structure is broken (a multipart without its
    boundaries, say): read as text, since that is what it turned out to be."""
    if message.is_multipart():
        return ""
    if content_type(message).startswith(("text/", "multipart/")):
        return part_text(message)
    return ""


def all_text(message: Message, *, limit: int = 256 * 1024) -> str:
    """Every inline text part of the message itself (not attached mail), joined, bounded."""
    chunks: list[str] = []
    size = 0
    for part in walk(message):
        kind = content_type(part)
        if part.is_multipart() or "rfc822" in kind or (
                not kind.startswith("text/") and not _broken_multipart(part)):
            continue
        text = part_text(part)
        if kind == "text/html":
            text = html_to_text(text)
        chunks.append(text)
        size += len(text)
        if size >= limit:
            break
    if not chunks:
        return _undeclared_text(message)[:limit]
    return "\n".join(chunks)[:limit]


def deep_text(message: Message, *, limit: int = 512 * 1024) -> str:
    """Everything readable below the top-level headers: every leaf's text and the headers
    of every nested message, attached ones included (bounded). For digging out a
    returned original when the MIME structure around it is broken."""
    chunks: list[str] = []
    size = 0
    for part in walk(message, into_messages=True):
        if part is not message:
            lines = [f"{name}: {value}" for name, value in part.raw_items()]
            chunks.append("\n".join(lines))
        if not part.is_multipart():
            chunks.append(part_text(part))
        size += len(chunks[-1]) if chunks else 0
        if size >= limit:
            break
    return "\n".join(chunks)[:limit]


_BLOCK_TAGS = frozenset({
    "p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "hr", "section", "article", "header", "footer",
})
_SKIPPED_TAGS = frozenset({"script", "style", "head", "title"})


class _TextExtractor(HTMLParser):
    """HTML to plain text: blocks become lines, blockquotes become ``>`` quotes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote_depth = 0
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self._break()
            if tag == "blockquote":
                self.quote_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self._break()
            if tag == "blockquote":
                self.quote_depth = max(0, self.quote_depth - 1)

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.current.append(data)

    def _break(self) -> None:
        line = " ".join("".join(self.current).split())
        self.current = []
        if line or (self.lines and self.lines[-1]):
            self.lines.append(("> " * self.quote_depth) + line if line else "")

    def text(self) -> str:
        self._break()
        return "\n".join(self.lines).strip()


def html_to_text(html: str) -> str:
    """Readable text of an HTML body (tags dropped, blocks on their own lines)."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html[:MAX_INPUT_BYTES])
        extractor.close()
    except (AssertionError, ValueError):  # pragma: no cover - HTMLParser is lenient
        pass
    return extractor.text()


def address_of(value: str) -> str | None:
    """The bare address in a From/To-like header value, lower-cased, or None."""
    match = re.search(r"<\s*([^<>\s]+@[^<>\s]+)\s*>", value) or re.search(
        r"([^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+)", value)
    return match.group(1).strip(".").lower() if match else None
