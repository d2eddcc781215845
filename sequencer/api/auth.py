"""Who is calling: a bearer token with a scope (read < write < admin) and a rate limit.

Routes declare what they need with ``ReadDep``, ``WriteDep`` or ``AdminDep``.
A verified token is remembered for ``CACHE_SECONDS`` (by the app's clock), so that a
busy client costs one lookup every few seconds, not one per request: a revoked token
stops working within that time. The check runs on the event loop; only a lookup in
the store goes to a worker thread.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from sequencer.api.errors import ApiError
from sequencer.api.ratelimit import RateLimiter
from sequencer.services.api_tokens import TokenInfo, verify_token
from sequencer.services.app import App

Principal = TokenInfo
CACHE_SECONDS = 5.0


class TokenCache:
    """Tokens verified in the last ``CACHE_SECONDS``, by the SHA-256 of the raw token."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[float, TokenInfo]] = {}
        self._lock = threading.Lock()

    def cached(self, app: App, raw: str) -> TokenInfo | None:
        """The token ``raw`` is, when verified recently enough; else None (look it up)."""
        with self._lock:
            hit = self._seen.get(_key(raw))
        if hit is not None and 0 <= app.clock.now().timestamp() - hit[0] < CACHE_SECONDS:
            return hit[1]
        return None

    def verify(self, app: App, raw: str) -> TokenInfo | None:
        """The live token ``raw`` is (from the cache, else the store), or None."""
        found = self.cached(app, raw)
        if found is not None:
            return found
        now = app.clock.now().timestamp()
        info = verify_token(app, raw)
        with self._lock:
            if info is None:
                self._seen.pop(_key(raw), None)
            else:
                self._seen[_key(raw)] = (now, info)
        return info


def _key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def bearer_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def authenticate(request: Request, raw: str | None) -> Principal:
    """The principal behind ``raw`` (401 when missing or not valid)."""
    if not raw:
        raise ApiError(401, "unauthenticated", "a bearer token is required "
                       "(Authorization: Bearer sqt_...; create one with `sequencer token create`)",
                       headers={"WWW-Authenticate": "Bearer"})
    state = request.app.state
    cache: TokenCache = state.token_cache
    found = cache.cached(state.app, raw) or await run_in_threadpool(cache.verify, state.app, raw)
    if found is None:
        raise ApiError(401, "unauthenticated", "this token is not valid (unknown or revoked)",
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return found


def limit(request: Request, response: Response, principal: Principal) -> None:
    """Spend one request of the principal's budget, or answer 429 with Retry-After."""
    app: App = request.app.state.app
    limiter: RateLimiter = request.app.state.rate_limiter
    verdict = limiter.take(principal.id, principal.rate_per_minute, app.clock.now().timestamp())
    headers = {"X-RateLimit-Limit": str(principal.rate_per_minute),
               "X-RateLimit-Remaining": str(verdict.remaining)}
    if not verdict.allowed:
        raise ApiError(429, "rate_limited",
                       f"this token may make {principal.rate_per_minute} requests a minute; "
                       f"try again in {verdict.retry_after} s",
                       headers={**headers, "Retry-After": str(verdict.retry_after)})
    response.headers.update(headers)


def require(scope: str) -> Callable[[Request, Response], Awaitable[Principal]]:
    async def dependency(request: Request, response: Response) -> Principal:
        principal = await authenticate(request, bearer_of(request))
        if not principal.allows(scope):
            raise ApiError(403, "forbidden", f"this needs the {scope!r} scope; the token "
                           f"{principal.name!r} has {principal.scope!r}")
        limit(request, response, principal)
        return principal
    return dependency


ReadDep = Annotated[Principal, Depends(require("read"))]
WriteDep = Annotated[Principal, Depends(require("write"))]
AdminDep = Annotated[Principal, Depends(require("admin"))]
