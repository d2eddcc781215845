"""VERP: the sequencer key carried in the return path, so that a bounce finds its step.

A bounce is sent to the envelope sender. When that sender is
``local+s-<token>@domain`` the bounce names, in its own To / Delivered-To headers,
the step that sent the mail, even when the remote server quotes nothing of the
original. The token is lower-case base32 (mail servers may change the case of a
local part) with a short checksum, so that any step id survives and a stranger's
``+s-`` address is not taken for ours.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib

MARKER = "+s-"
_TOKEN = re.compile(r"^([a-z2-7]+)-([a-z2-7]{4})$")


def verp_address(sender: str, key: str) -> str:
    """The return path for mail from ``sender`` that carries ``key`` (e.g. ``12:intro:0``).

    Raises:
        ValueError: when ``sender`` is not a plain ``local@domain`` address or ``key``
            is empty.
    """
    local, at, domain = sender.strip().rpartition("@")
    if not at or not local or not domain or any(c in sender for c in "<> \t\r\n"):
        raise ValueError(f"verp_address: sender {sender!r} is not a plain local@domain address")
    if not key:
        raise ValueError("verp_address: the key is empty")
    data = key.encode("utf-8")
    return f"{local}{MARKER}{_b32(data)}-{_checksum(data)}@{domain}"


def verp_key(address: str) -> str | None:
    """The key carried by a VERP ``address`` (any case, with or without a display name).

    Returns None when the address is not one of ours.
    """
    bare = address.strip()
    if "<" in bare:
        bare = bare[bare.rfind("<") + 1:].split(">", 1)[0]
    local, at, _domain = bare.strip().lower().rpartition("@")
    if not at:
        return None
    _sender, marker, token = local.rpartition(MARKER)
    match = _TOKEN.match(token) if marker else None
    if match is None:
        return None
    encoded, checksum = match.groups()
    try:
        data = base64.b32decode(encoded.upper() + "=" * (-len(encoded) % 8))
        key = data.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return key if key and _checksum(data) == checksum else None


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def _checksum(data: bytes) -> str:
    return _b32(zlib.crc32(data).to_bytes(4, "big"))[:4]
