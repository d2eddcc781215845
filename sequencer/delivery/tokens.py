"""Signed, URL-safe tokens for the links an e-mail carries: unsubscribe, click and open.

A token is ``base64url(payload) "." base64url(mac)``: the payload is a compact JSON
array whose first element names the purpose (``u``, ``c``, ``o``), the MAC is the first
16 bytes of HMAC-SHA256 over the encoded payload, under a key derived from a configured
secret. The purpose sits inside the signed payload, so a click token can never be
replayed as an unsubscribe token. Tokens do not expire: a link in a two-year-old
e-mail must still unsubscribe (CAN-SPAM, RFC 8058).

Key rotation: ``TokenSigner(keys)`` takes the secrets newest first; it signs with the
first and accepts any of them, so an old key stays in the list for as long as mail
signed with it may still be clicked.

A click token carries the exact destination it was made for; ``read_click`` gives back
only what was signed, and only an absolute ``http(s)`` URL in printable ASCII, so the
redirect endpoint can never become an open redirect nor write a header line break.

Pure: the standard library and our error tree only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sequencer.errors import SequencerError

MIN_KEY_LENGTH = 16  # characters (or bytes) of secret; 32 random bytes are recommended
MAX_TOKEN_LENGTH = 8192  # refuse to even decode anything longer
_MAC_BYTES = 16  # 128 bits: unforgeable, and keeps the links short
_DERIVATION = b"sequencer link tokens v1"
_PURPOSES = {"u": "unsubscribe", "c": "click", "o": "open"}
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_URL_CHARACTERS_RE = re.compile(r"[!-~]+")  # printable ASCII: no space, control or line break
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)  # made once: json.dumps
# with options builds a new encoder on every call


class InvalidToken(SequencerError):
    """A token that is malformed, truncated, tampered with, signed with a key we do not
    hold, or made for another purpose. Endpoints answer 404 and change nothing."""


@dataclass(frozen=True, slots=True)
class UnsubscribeToken:
    """Who asked to stop (the address), and which run's e-mail carried the link."""

    address: str
    run_key: str


@dataclass(frozen=True, slots=True)
class ClickToken:
    """Which run's e-mail was clicked, and the exact destination the link was made for."""

    run_key: str
    url: str


@dataclass(frozen=True, slots=True)
class OpenToken:
    """Which run's e-mail loaded its pixel."""

    run_key: str


class TokenSigner:
    """Makes and reads the tokens of one deployment.

    Parameters:
        keys: the secrets, newest first (at least one, each at least ``MIN_KEY_LENGTH``
            long). The first signs; every one of them verifies.

    Raises:
        ValueError: no key, or a key too short to be a secret.
    """

    __slots__ = ("_keys",)

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if not keys:
            raise ValueError("TokenSigner needs at least one secret key")
        derived = []
        for position, key in enumerate(keys, 1):
            raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
            if len(raw) < MIN_KEY_LENGTH:
                raise ValueError(f"secret key #{position} is shorter than {MIN_KEY_LENGTH} "
                                 "characters; use 32 random bytes (e.g. `openssl rand -hex 32`)")
            derived.append(hmac.digest(raw, _DERIVATION, hashlib.sha256))
        self._keys = tuple(derived)

    def __repr__(self) -> str:  # never shows a key
        return f"TokenSigner({len(self._keys)} key(s))"

    # --- making -------------------------------------------------------------------

    def unsubscribe(self, address: str, run_key: str) -> str:
        """A token for the one-click unsubscribe link of ``address``."""
        return self._sign(["u", address, run_key])

    def click(self, run_key: str, url: str) -> str:
        """A token that redirects to exactly ``url``.

        Raises:
            ValueError: ``url`` is not an absolute http(s) URL in printable ASCII (the
                caller leaves such a link as it is, untracked).
        """
        problem = destination_problem(url)
        if problem is not None:
            raise ValueError(f"cannot track {url!r}: {problem}")
        return self._sign(["c", run_key, url])

    def open(self, run_key: str) -> str:
        """A token for the open-tracking pixel of one run's e-mail."""
        return self._sign(["o", run_key])

    # --- reading ------------------------------------------------------------------

    def read_unsubscribe(self, token: str) -> UnsubscribeToken:
        """The address and run an unsubscribe token was made for.

        Raises:
            InvalidToken: see the class.
        """
        address, run_key = self._verify(token, "u", 2)
        return UnsubscribeToken(address, run_key)

    def read_click(self, token: str) -> ClickToken:
        """The run and the exact destination of a click token.

        Raises:
            InvalidToken: see the class; also when the signed destination is not an
                absolute http(s) URL in printable ASCII (defence in depth: we never
                sign one).
        """
        run_key, url = self._verify(token, "c", 2)
        problem = destination_problem(url)
        if problem is not None:
            raise InvalidToken(f"click token: refusing to redirect to {url!r}: {problem}")
        return ClickToken(run_key, url)

    def read_open(self, token: str) -> OpenToken:
        """The run an open-tracking token was made for.

        Raises:
            InvalidToken: see the class.
        """
        (run_key,) = self._verify(token, "o", 1)
        return OpenToken(run_key)

    # --- the format ---------------------------------------------------------------

    def _sign(self, fields: list[str]) -> str:
        payload = _b64encode(_JSON.encode(fields).encode("utf-8"))
        mac = hmac.digest(self._keys[0], payload, hashlib.sha256)[:_MAC_BYTES]
        return f"{payload.decode('ascii')}.{_b64encode(mac).decode('ascii')}"

    def _verify(self, token: str, purpose: str, arity: int) -> list[str]:
        """The signed fields after the purpose, once the MAC and the purpose match."""
        what = f"{_PURPOSES[purpose]} token"
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH \
                or not _TOKEN_RE.fullmatch(token):
            raise InvalidToken(f"{what}: malformed")
        encoded, mac_text = token.encode("ascii").split(b".")
        mac = _b64decode(mac_text, what)
        if len(mac) != _MAC_BYTES or _b64encode(mac) != mac_text or not any(
                hmac.compare_digest(hmac.digest(key, encoded, hashlib.sha256)[:_MAC_BYTES], mac)
                for key in self._keys):
            raise InvalidToken(f"{what}: bad signature (tampered, truncated or unknown key)")
        try:
            fields = json.loads(_b64decode(encoded, what).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidToken(f"{what}: unreadable payload") from exc
        if not (isinstance(fields, list) and fields and all(isinstance(f, str) for f in fields)):
            raise InvalidToken(f"{what}: unexpected payload")
        if fields[0] != purpose:
            other = _PURPOSES.get(fields[0], "an unknown purpose")
            raise InvalidToken(f"{what}: made for {other}, not for {_PURPOSES[purpose]}")
        if len(fields) != arity + 1:
            raise InvalidToken(f"{what}: unexpected payload")
        return fields[1:]


def destination_problem(url: str) -> str | None:
    """Why ``url`` may not be a click-tracking destination, or None when it may.

    Allowed: an absolute ``http://`` or ``https://`` URL with a host, in printable ASCII
    (no white space, control characters or backslashes). Never ``javascript:``,
    ``data:``, protocol-relative ``//host`` or a bare path.
    """
    if not _URL_CHARACTERS_RE.fullmatch(url):
        return "not printable ASCII without white space"
    if "\\" in url:
        return "holds a backslash (browsers read it as a slash)"
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"unparseable ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return "only http and https links are tracked"
    if not parts.hostname or not url.lower().startswith(f"{parts.scheme.lower()}://"):
        return "no host"
    return None


def _b64encode(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _b64decode(data: bytes, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken(f"{what}: malformed") from exc
