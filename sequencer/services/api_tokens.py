"""API tokens: created once and shown once, kept only as a hash, checked on each request.

A token reads ``sqt_<prefix>_<secret>``: the prefix finds the row without a scan,
the SHA-256 of the whole token is compared in constant time. Scopes nest:
``admin`` can do what ``write`` can, and ``write`` what ``read`` can.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from sequencer.errors import InputError
from sequencer.services.app import App
from sequencer.store.api_models import ApiToken

SCOPES = ("read", "write", "admin")  # each includes the ones before it
TOKEN_PREFIX = "sqt_"
DEFAULT_RATE_PER_MINUTE = 600
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most this often


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    name: str
    scope: str
    owner: str | None
    rate_per_minute: int
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def allows(self, scope: str) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(scope)


def create_token(app: App, name: str, *, scope: str = "read", owner: str | None = None,
                 rate_per_minute: int = DEFAULT_RATE_PER_MINUTE) -> tuple[TokenInfo, str]:
    """A new token and its secret: the only time the secret is ever shown."""
    if scope not in SCOPES:
        raise InputError(f"scope {scope!r}: expected one of {', '.join(SCOPES)}")
    if not name.strip():
        raise InputError("a token needs a name (who or what uses it)")
    if rate_per_minute < 1:
        raise InputError(f"rate {rate_per_minute}: expected at least 1 request per minute")
    prefix = secrets.token_hex(6)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(24)}"
    with app.sessions.begin() as session:
        row = ApiToken(name=name.strip(), prefix=prefix, secret_hash=_digest(raw), scopes=scope,
                       owner=owner, rate_per_minute=rate_per_minute, created_at=app.clock.now())
        session.add(row)
        session.flush()
        return _info(row), raw


def verify_token(app: App, raw: str) -> TokenInfo | None:
    """The live token ``raw`` is, or None (unknown, malformed, wrong secret or revoked)."""
    prefix = _prefix_of(raw)
    if prefix is None:
        return None
    now = app.clock.now()
    with app.sessions() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.prefix == prefix)).one_or_none()
        if row is None or row.revoked_at is not None \
                or not hmac.compare_digest(row.secret_hash, _digest(raw)):
            return None
        info = _info(row)
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            session.execute(update(ApiToken).where(ApiToken.id == row.id)
                            .values(last_used_at=now))
            session.commit()
        return info


def list_tokens(app: App) -> list[TokenInfo]:
    with app.sessions() as session:
        return [_info(row) for row in session.scalars(select(ApiToken).order_by(ApiToken.id))]


def revoke_token(app: App, token_id: int) -> TokenInfo:
    with app.sessions.begin() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise InputError(f"no token #{token_id} (see `sequencer token list`)")
        if row.revoked_at is None:
            row.revoked_at = app.clock.now()
        return _info(row)


def _prefix_of(raw: str) -> str | None:
    if not raw.startswith(TOKEN_PREFIX):
        return None
    prefix, _, secret = raw[len(TOKEN_PREFIX):].partition("_")
    return prefix if len(prefix) == 12 and secret else None


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.id, row.name, row.scopes, row.owner, row.rate_per_minute,
                     row.created_at, row.last_used_at, row.revoked_at)
