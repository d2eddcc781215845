"""Who is signed in to the web app, and the CSRF value their forms carry.

Sign-in takes an API token (``sequencer token create NAME --owner REP``). The
session cookie holds the token and a random session nonce, signed with an HMAC
under a key derived from the deployment's secret keys (``signing_keys``, newest
first, every one verifies): the cookie cannot be forged or altered, and the token
in it is checked again on each request (cached 5 s, as the API does), so a revoked
token ends its sessions. Sessions last ``SESSION_HOURS``.

The CSRF value of a session is an HMAC of its nonce: a form carries it in a hidden
field and a POST without the right one is refused. The sign-in form itself gets a
short-lived pre-session nonce in its own cookie, so a foreign page cannot sign a
browser in under someone else's token either.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import Request

from sequencer.services.api_tokens import TokenInfo
from sequencer.services.app import App
from sequencer.settings import signing_keys

if TYPE_CHECKING:  # sequencer.api imports this package: no cycle at run time
    from sequencer.api.auth import TokenCache

SESSION_COOKIE = "sequencer_session"
LOGIN_COOKIE = "sequencer_login"
SESSION_HOURS = 12
LOGIN_MINUTES = 30
_DERIVATION = b"sequencer web session v1"
_MAX_COOKIE = 4096


@dataclass(frozen=True, slots=True)
class WebUser:
    """The signed-in token: who (``owner``, the rep), what it may do, its CSRF value."""

    token: TokenInfo
    csrf: str

    @property
    def owner(self) -> str | None:
        return self.token.owner

    @property
    def can_act(self) -> bool:
        return self.token.allows("write")

    @property
    def label(self) -> str:
        return self.token.owner or self.token.name


class SessionSigner:
    """Signs and reads the web app's cookies; holds no state but the derived keys."""

    __slots__ = ("_keys",)

    def __init__(self, keys: Sequence[str]) -> None:
        self._keys = tuple(hmac.digest(k.encode("utf-8"), _DERIVATION, hashlib.sha256)
                           for k in keys)

    def seal(self, fields: list[str | int]) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=")
        return f"{payload.decode()}.{self._mac(self._keys[0], payload)}"

    def open(self, value: str | None) -> list[object] | None:
        """The signed fields, or None for anything malformed, altered or foreign."""
        if not value or len(value) > _MAX_COOKIE or value.count(".") != 1:
            return None
        payload_text, mac = value.split(".")
        payload = payload_text.encode("ascii", "replace")
        if not any(hmac.compare_digest(self._mac(k, payload), mac) for k in self._keys):
            return None
        try:
            fields = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
        except (binascii.Error, ValueError):
            return None
        return fields if isinstance(fields, list) else None

    def csrf(self, nonce: str) -> str:
        return self._mac(self._keys[0], b"csrf:" + nonce.encode())

    def csrf_ok(self, nonce: str, offered: str | None) -> bool:
        return bool(offered) and any(
            hmac.compare_digest(self._mac(k, b"csrf:" + nonce.encode()), offered or "")
            for k in self._keys)

    @staticmethod
    def _mac(key: bytes, data: bytes) -> str:
        return hmac.new(key, data, hashlib.sha256).hexdigest()[:43]


def session_signer(request: Request) -> SessionSigner:
    """The process's signer, made on first use from the App's secret keys."""
    state = request.app.state
    found: SessionSigner | None = getattr(state, "web_signer", None)
    if found is None:
        app: App = state.app
        found = state.web_signer = SessionSigner(signing_keys(app.settings))
    return found


def new_session(request: Request, raw_token: str) -> str:
    """The cookie value of a fresh session for ``raw_token``."""
    now = _now(request)
    return session_signer(request).seal([raw_token, secrets.token_urlsafe(16),
                                         int(now.timestamp())])


def current_user(request: Request) -> WebUser | None:
    """The signed-in user, or None (no cookie, a bad one, expired, or a revoked token)."""
    signer = session_signer(request)
    fields = signer.open(request.cookies.get(SESSION_COOKIE))
    if fields is None or len(fields) != 3:
        return None
    raw, nonce, issued = fields
    if not (isinstance(raw, str) and isinstance(nonce, str) and isinstance(issued, int)):
        return None
    age = _now(request).timestamp() - issued
    if not 0 <= age <= SESSION_HOURS * 3600:
        return None
    cache: TokenCache = request.app.state.token_cache
    info = cache.verify(request.app.state.app, raw)
    return WebUser(info, signer.csrf(nonce)) if info is not None else None


def login_nonce(request: Request) -> tuple[str, str]:
    """(cookie value, form value) guarding the sign-in form."""
    nonce = secrets.token_urlsafe(16)
    signer = session_signer(request)
    return signer.seal([nonce, int(_now(request).timestamp())]), signer.csrf(nonce)


def login_csrf_ok(request: Request, offered: str | None) -> bool:
    signer = session_signer(request)
    fields = signer.open(request.cookies.get(LOGIN_COOKIE))
    if fields is None or len(fields) != 2 or not isinstance(fields[0], str) \
            or not isinstance(fields[1], int):
        return False
    age = _now(request).timestamp() - fields[1]
    return 0 <= age <= LOGIN_MINUTES * 60 and signer.csrf_ok(fields[0], offered)


def csrf_ok(request: Request, user: WebUser, offered: str | None) -> bool:
    return bool(offered) and hmac.compare_digest(user.csrf, offered or "")


def secure_cookies(request: Request) -> bool:
    """Cookies are Secure when the deployment's public URL is https."""
    app: App = request.app.state.app
    return app.settings.public_url.startswith("https://")


def _now(request: Request) -> datetime:
    app: App = request.app.state.app
    return app.clock.now()
