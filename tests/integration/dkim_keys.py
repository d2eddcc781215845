"""Throw-away DKIM keys for the tests, and an in-process stand-in for their DNS record."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True)
class ThrowawayKey:
    pkcs8: bytes  # "BEGIN PRIVATE KEY", what OpenSSL 3 writes
    pkcs1: bytes  # "BEGIN RSA PRIVATE KEY"
    txt: bytes  # the selector's TXT record: v=DKIM1; k=rsa; p=...

    def write(self, folder: Path, name: str = "dkim.pem") -> Path:
        path = folder / name
        path.write_bytes(self.pkcs8)
        return path

    def dns(self, selector: str, domain: str) -> Callable[..., bytes | None]:
        """A ``dnsfunc`` for ``dkim.verify`` that knows this one record."""
        wanted = f"{selector}._domainkey.{domain}.".encode()

        def lookup(name: bytes, timeout: float = 5) -> bytes | None:
            return self.txt if name == wanted else None

        return lookup


@lru_cache(maxsize=4)
def throwaway_key(bits: int = 2048, number: int = 0) -> ThrowawayKey:
    """A key generated once per test session (``number`` tells keys apart)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return ThrowawayKey(
        pkcs8=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()),
        pkcs1=key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()),
        txt=b"v=DKIM1; k=rsa; p=" + base64.b64encode(public),
    )
