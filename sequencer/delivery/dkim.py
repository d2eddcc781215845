"""DKIM signing of outbound messages (dkimpy; rsa-sha256, relaxed/relaxed).

A key belongs to a transport (``smtp://…?dkim_key=/path/key.pem&dkim_selector=s1``)
and signs after ``build_mime``, with ``d=`` the domain of the From address, so the
signature is aligned with From (DMARC). The signed header list is given explicitly:
dkimpy's default leaves ``List-Unsubscribe-Post`` out, and RFC 8058 wants both list
headers covered (RELIABILITY.md §2). Headers listed but absent (``In-Reply-To`` of a
first message) are signed as absent, so nobody can add them later.

Cost: dkimpy does RSA in pure Python (≈ 8.5 ms per signature with a 2048-bit key
on this kind of machine, inside the send lock). So the signature is computed here:
RFC 6376 relaxed canonicalization (a few lines of the RFC) and RSASSA-PKCS1-v1_5 through
``cryptography`` (OpenSSL), ≈ 0.9 ms; dkimpy still checks the key and verifies in the tests.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from dkim.crypto import UnparsableKeyError, parse_pem_private_key

from sequencer.errors import PermanentSendError

SIGNED_HEADERS = (
    "From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
    "MIME-Version", "Content-Type", "List-Unsubscribe", "List-Unsubscribe-Post",
)
_SIGNED = tuple(name.lower().encode("ascii") for name in SIGNED_HEADERS)
_WSP_RUN = re.compile(rb"[ \t]+")
_TRAILING_WSP = re.compile(rb"[ \t]+\r\n")
_SELECTOR_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?"
                          r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)*")
MIN_KEY_BITS = 1024  # what verifiers accept (dkimpy's own minimum); use 2048


@dataclass(frozen=True)
class DkimKey:
    """A private key and its selector, read and checked once.

    Build it with ``DkimKey.load``; the key material never appears in ``repr``.
    """

    selector: str
    private_key: bytes = field(repr=False)
    path: str = ""

    @classmethod
    def load(cls, path: str, selector: str) -> DkimKey:
        """Read and check a PEM RSA private key (PKCS#1 or PKCS#8).

        Raises:
            ValueError: the path is not absolute, cannot be read, holds no usable RSA
                key (or one under 1024 bits), or the selector is not a DNS label list.
                The message names the path and never shows the key.
        """
        if not _SELECTOR_RE.fullmatch(selector) or len(selector) > 200:
            raise ValueError(f"dkim_selector {selector!r} is not a usable DNS selector")
        if not Path(path).is_absolute():
            raise ValueError(f"dkim_key {path!r} must be an absolute path")
        try:
            pem = Path(path).read_bytes()
        except OSError as exc:
            raise ValueError(f"dkim_key {path!r} cannot be read: {exc.strerror or exc}") \
                from exc
        try:
            key = parse_pem_private_key(pem.replace(b"\r\n", b"\n"))
        except (UnparsableKeyError, ValueError, TypeError, IndexError, KeyError):
            raise ValueError(f"dkim_key {path!r} is not a PEM RSA private key "
                             "(unencrypted PKCS#1 or PKCS#8)") from None
        bits = int(key["modulus"]).bit_length()
        if bits < MIN_KEY_BITS:
            raise ValueError(f"dkim_key {path!r} is a {bits}-bit key; verifiers need at "
                             f"least {MIN_KEY_BITS} (use 2048)")
        return cls(selector, pem.replace(b"\r\n", b"\n"), path)

    @cached_property
    def _rsa(self) -> rsa.RSAPrivateKey:
        key: Any = serialization.load_pem_private_key(self.private_key, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise PermanentSendError(f"dkim_key {self.path!r} is not an RSA key")
        return key

    def sign(self, message: bytes, from_address: str) -> bytes:
        """``message`` with a ``DKIM-Signature`` header in front.

        Parameters:
            message: the output of ``build_mime`` (CRLF line ends).
            from_address: the From address; its domain becomes ``d=``.

        Raises:
            PermanentSendError: the message cannot be signed (no header block, a domain
                that is not ASCII); nothing was sent.
        """
        domain = from_address.rpartition("@")[2].lower()
        head, separator, body = message.partition(b"\r\n\r\n")
        if not separator or not head or not domain.isascii():
            raise PermanentSendError(f"DKIM signing for {domain} failed: no header block "
                                     "or a domain that is not ASCII")
        body_hash = base64.b64encode(hashlib.sha256(_relaxed_body(body)).digest()).decode()
        names = [name.decode("ascii") for name in _SIGNED]
        tags = (f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s={self.selector};\r\n"
                f"\th={':'.join(names)};\r\n\tbh={body_hash};\r\n\tb=")
        signed = _relaxed_headers(head + b"\r\n", _SIGNED)
        signed += _relaxed_header(b"DKIM-Signature: " + tags.encode("ascii"))
        signature = self._rsa.sign(signed, padding.PKCS1v15(), hashes.SHA256())
        b64 = base64.b64encode(signature).decode("ascii")
        folded = "\r\n\t".join(b64[i:i + 72] for i in range(0, len(b64), 72))
        return f"DKIM-Signature: {tags}{folded}\r\n".encode("ascii") + message


def _relaxed_body(body: bytes) -> bytes:
    """RFC 6376 3.4.4: white space runs to one space, none at line ends, no empty
    lines at the end, and a final CRLF when anything is left."""
    body = _TRAILING_WSP.sub(b"\r\n", _WSP_RUN.sub(b" ", body))
    body = body.rstrip(b"\r\n")
    return body + b"\r\n" if body else b""


def _relaxed_header(field_: bytes) -> bytes:
    """RFC 6376 3.4.2: lower-case name, unfolded value with single spaces, trimmed."""
    name, _, value = field_.partition(b":")
    value = _WSP_RUN.sub(b" ", value.replace(b"\r\n", b"")).strip(b" ")
    return name.strip(b" \t").lower() + b":" + value


def _relaxed_headers(head: bytes, wanted: tuple[bytes, ...]) -> bytes:
    """The signed headers, canonical, each with CRLF: for each name, its last instance
    not yet used (RFC 6376 5.4.2); a name with none left contributes nothing."""
    fields: list[bytes] = []
    for line in head.split(b"\r\n")[:-1]:
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    by_name: dict[bytes, list[bytes]] = {}
    for entry in fields:
        by_name.setdefault(entry.partition(b":")[0].strip().lower(), []).append(entry)
    out = b""
    for name in wanted:
        found = by_name.get(name)
        if found:
            out += _relaxed_header(found.pop()) + b"\r\n"
    return out
