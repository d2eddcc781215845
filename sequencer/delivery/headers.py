"""Header hygiene: our own refusal of header injection, and safe identifiers.

CPython 3.11.7 predates the fix for CVE-2024-6923 (line breaks in headers survive
folding), so every header value is checked here, by our code, before any MIME is
built (RELIABILITY.md, rule 9). Imports only the standard library and our errors.
"""

from __future__ import annotations

import binascii
import codecs
import re
import secrets
from collections.abc import Iterator

from sequencer.errors import HeaderInjectionError, PermanentSendError

#: Every character ``str.splitlines`` treats as a line boundary, plus NUL. The email
#: package (``policy.default``) splits header values with ``splitlines``, so \v, \f
#: and \x1c-\x1e are breaks too, not only CR, LF, NEL, LS and PS.
FORBIDDEN_CHARACTERS = frozenset("\r\n\0\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")

_FORBIDDEN_RE = re.compile("[" + re.escape("".join(sorted(FORBIDDEN_CHARACTERS))) + "]")
# Deliberately looser than RFC 2047 (no whitespace or length rules): lenient decoders
# accept more than the RFC allows, and we must refuse whatever any of them would decode.
_ENCODED_WORD_RE = re.compile(r"=\?([^?]*)\?([qQbB])\?(.*?)\?=")
_BASE64_JUNK_RE = re.compile(rb"[^A-Za-z0-9+/]")
_FIELD_NAME_RE = re.compile(r"[!-9;-~]+")  # RFC 5322 ftext: printable ASCII except ':'
_ADDRESS_RE = re.compile(r"[^\s@<>()\[\],;:\"\\]+@[^\s@<>()\[\],;:\"\\]+")
_MESSAGE_ID_RE = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")  # printable ASCII, no '<' or '>'
_DOMAIN_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


def check_header_value(name: str, value: str) -> str:
    """Refuse a header value that could start a new header line; return it unchanged.

    Parameters:
        name: the header's name, used in the error message.
        value: the unencoded value.

    Raises:
        HeaderInjectionError: ``value`` holds CR, LF, NUL, another line boundary, or
            an RFC 2047 encoded word whose decoded text holds one.

    Returns:
        ``value`` itself.
    """
    found = _FORBIDDEN_RE.search(value)
    if found is not None:
        raise HeaderInjectionError(
            f"header {name}: value contains {found.group()!r} at offset {found.start()}; refused"
        )
    if "=?" in value:
        culprit = _breaking_encoded_word(value)
        if culprit is not None:
            raise HeaderInjectionError(f"header {name}: {culprit} decodes to a line break; refused")
    return value


def _breaking_encoded_word(value: str) -> str | None:
    """Which encoded word (or words, joined) in ``value`` decodes to a break, if any.

    Words are also checked joined per charset, because some decoders concatenate the
    bytes of adjacent words before decoding: a U+2028 split over two words is a break.
    """
    joined: dict[str, bytes] = {}
    for word in _ENCODED_WORD_RE.finditer(value):
        label = _charset_label(word.group(1))
        for raw in _decodings(word.group(2), word.group(3)):
            if _has_break(raw, label):
                return f"encoded word {word.group()!r}"
        ascii_text = word.group(3).encode("ascii", "ignore")
        joined[label] = joined.get(label, b"") + _decode_word(word.group(2), ascii_text)
    for label, raw in joined.items():
        if _has_break(raw, label):
            return f"the {label} encoded words, joined,"
    return None


def _decodings(encoding: str, text: str) -> Iterator[bytes]:
    """The payload decoded; for non-ASCII text (invalid, but seen) every way readers do."""
    for reading in ("ascii", "latin-1", "utf-8") if not text.isascii() else ("ascii",):
        yield _decode_word(encoding, text.encode(reading, "ignore"))


def _charset_label(charset: str) -> str:
    """A codec name for an encoded word's charset; unknown labels are read as UTF-8."""
    label = charset.split("*", 1)[0]  # RFC 2231 allows "charset*language"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return "utf-8"


def _has_break(raw: bytes, label: str) -> bool:
    """Whether decoded bytes hold a forbidden character in ``label`` (or CR/LF/NUL at all)."""
    if any(byte in raw for byte in (0, 10, 13)):
        return True  # a break in every ASCII-compatible charset, whatever the label says
    try:
        text = raw.decode(label, errors="replace")
    except (LookupError, UnicodeError, ValueError):  # binary codecs (base64, zlib) and idna
        text = raw.decode("utf-8", errors="replace")
    return _FORBIDDEN_RE.search(text) is not None


def _decode_word(encoding: str, data: bytes) -> bytes:
    """Decode an encoded word's payload as leniently as forgiving mail readers do."""
    if encoding in "qQ":
        return binascii.a2b_qp(data, header=True)
    data = _BASE64_JUNK_RE.sub(b"", data)
    if len(data) % 4 == 1:
        data = data[:-1]  # a lone trailing sextet carries no whole byte
    try:
        return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
    except binascii.Error:
        return b""


def check_header_name(name: str) -> str:
    """Refuse a header name that is not RFC 5322 ``ftext`` (which would forge lines)."""
    if not _FIELD_NAME_RE.fullmatch(name):
        raise HeaderInjectionError(f"header name {name!r} is not a valid field name; refused")
    return name


def check_address(header: str, address: str) -> str:
    """Refuse an address that is not a plain ASCII ``local@domain``.

    Raises:
        HeaderInjectionError: the address holds a line break.
        PermanentSendError: the address cannot be written into a header or an SMTP
            envelope as is (no SMTPUTF8, no quoted local parts, no lists).
    """
    check_header_value(header, address)
    if not (address.isascii() and _ADDRESS_RE.fullmatch(address)):
        raise PermanentSendError(f"header {header}: {address!r} is not a usable address")
    return address


def check_message_id(header: str, message_id: str) -> str:
    """Refuse a Message-ID that is not ``<left@right>`` in printable ASCII."""
    check_header_value(header, message_id)
    if not _MESSAGE_ID_RE.fullmatch(message_id):
        raise PermanentSendError(f"header {header}: {message_id!r} is not a valid message id")
    return message_id


def new_message_id(domain: str) -> str:
    """A fresh, unguessable Message-ID: ``<32 hex digits@domain>`` (128 random bits).

    Random rather than derived from the step, so that it reveals nothing and cannot be
    forged by a recipient; the runtime stores it before the first send attempt.

    Raises:
        ValueError: ``domain`` is not a plain host name.
    """
    if not _DOMAIN_RE.fullmatch(domain):
        raise ValueError(f"not a usable Message-ID domain: {domain!r}")
    return f"<{secrets.token_hex(16)}@{domain}>"
