"""The FastAPI application, built around one ``App``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI

from sequencer import __version__
from sequencer.api import crm as crm_webhooks
from sequencer.api import enrollments as enrollment_routes
from sequencer.api import errors, inbound, links, me, webhooks
from sequencer.api import events as event_routes
from sequencer.api import prospects as prospect_routes
from sequencer.api import reports as report_routes
from sequencer.api import sequences as sequence_routes
from sequencer.api import tasks as task_routes
from sequencer.api.auth import TokenCache
from sequencer.api.guards import RefuseNul
from sequencer.api.ratelimit import RateLimiter
from sequencer.services.app import App
from sequencer.store.db import POOL_SIZE
from sequencer.web import router as web_router

DESCRIPTION = """\
Outreach sequences as code, sent exactly once, in each prospect's best hours.

**Authentication.** Every `/v1` route takes `Authorization: Bearer sqt_...`, a token
made with `sequencer token create NAME --scope read|write|admin`. `write` includes
`read`; `admin` includes both. Each token has a rate limit (requests a minute):
`X-RateLimit-Remaining` counts down, and a 429 carries `Retry-After`.

**Errors** always answer `{"error": {"code", "message", "details"?}}`: `code` is stable.

**Lists** are paginated: `?limit=` (1-500) and `?cursor=` from the previous page's
`next_cursor`.

**Creates** take an `Idempotency-Key` header: a retry with the same key returns the
first answer and creates nothing new.
"""


@asynccontextmanager
async def _lifespan(_api: FastAPI) -> AsyncIterator[None]:
    """Routes that touch the store run in worker threads, one connection each: no more
    threads than the pool keeps connections, so none is opened and closed per request
    (the threads beyond that only waited for a connection, or made one)."""
    to_thread.current_default_thread_limiter().total_tokens = POOL_SIZE
    yield


def create_app(app: App) -> FastAPI:
    """The ASGI app: the /v1 API, one-click unsubscribe, tracking links, inbound mail."""
    api = FastAPI(title="sequencer", version=__version__, description=DESCRIPTION,
                  lifespan=_lifespan)
    api.state.app = app
    api.state.token_cache = TokenCache()
    api.state.rate_limiter = RateLimiter()
    errors.install(api)
    api.add_middleware(RefuseNul)
    api.include_router(me.router)
    api.include_router(links.router)
    api.include_router(inbound.router)
    api.include_router(webhooks.router)
    api.include_router(crm_webhooks.router)
    api.include_router(task_routes.router)
    api.include_router(event_routes.router)
    api.include_router(report_routes.router)
    api.include_router(prospect_routes.router)
    api.include_router(sequence_routes.router)
    api.include_router(enrollment_routes.router)
    api.include_router(web_router)  # the web app at /app
    return api
