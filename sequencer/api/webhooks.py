"""The email providers' event webhooks: ``POST /webhooks/sendgrid``, ``/postmark``, ``/mailgun``.

Each request is authenticated before anything reaches the store: a missing, wrong or
stale signature (or Basic credentials) is a 401 that changes nothing, a Mailgun token
seen before is a 409, a body that is not the documented JSON a 400. The body is read
once, bounded; every event is mapped before any is taken in, and one unreadable event
of a SendGrid batch is counted as ignored without losing the others. Each event is
then recorded once under its idempotency key, so a provider's retry changes nothing.

The answer counts what happened: ``taken``, ``duplicates`` (seen before, or an open
or click of an email we no longer know) and ``ignored``. A provider whose secret is
not configured answers 403 and names the variable to set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from sequencer.api.deps import AppDep, bounded_body
from sequencer.inbound.webhook_auth import (
    SENDGRID_SIGNATURE,
    SENDGRID_TIMESTAMP,
    BadSignature,
    ReplayCache,
    ReplayedRequest,
    WebhookRejected,
    mailgun_request,
    sendgrid_public_key,
    verify_basic,
    verify_mailgun,
    verify_sendgrid,
)
from sequencer.inbound.webhooks import (
    Effect,
    ProviderEvent,
    mailgun_events,
    postmark_events,
    sendgrid_events,
)
from sequencer.services.app import App
from sequencer.services.inbound import take_in
from sequencer.services.tracking import record_engagement

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
MAX_BODY_BYTES = 10 * 1024 * 1024  # SendGrid batches stay far below; Postmark may add a dump
Counts = dict[str, int]
T = TypeVar("T")


@router.post("/sendgrid")
async def sendgrid(request: Request, app: AppDep) -> Counts:
    """SendGrid's Signed Event Webhook: a JSON array of events."""
    configured = _configured(app.settings.sendgrid_webhook_public_key,
                             "SEQUENCER_SENDGRID_WEBHOOK_PUBLIC_KEY")
    try:
        key = sendgrid_public_key(configured)
    except ValueError as exc:
        raise HTTPException(status_code=500, detail="SEQUENCER_SENDGRID_WEBHOOK_PUBLIC_KEY: "
                            f"{exc}") from exc
    body = await _body(request)
    _checked(lambda: verify_sendgrid(key, body, now=app.clock.now(),
                                     signature=request.headers.get(SENDGRID_SIGNATURE),
                                     timestamp=request.headers.get(SENDGRID_TIMESTAMP)))
    events = _checked(lambda: sendgrid_events(body))
    return await run_in_threadpool(_take_all, app, events)


@router.post("/postmark")
async def postmark(request: Request, app: AppDep) -> Counts:
    """Postmark's webhooks, with the HTTP Basic credentials set in the webhook's URL."""
    user = _configured(app.settings.postmark_webhook_user, "SEQUENCER_POSTMARK_WEBHOOK_USER")
    password = _configured(app.settings.postmark_webhook_password,
                           "SEQUENCER_POSTMARK_WEBHOOK_PASSWORD")
    _checked(lambda: verify_basic(user, password, request.headers.get("authorization")),
             challenge='Basic realm="webhooks"')
    body = await _body(request)
    events = _checked(lambda: postmark_events(body))
    return await run_in_threadpool(_take_all, app, events)


@router.post("/mailgun")
async def mailgun(request: Request, app: AppDep) -> Counts:
    """Mailgun's webhooks: the signature in the JSON body; each token is good once.

    A replayed token is refused with 409 rather than taken as a no-op, so that only
    first-seen requests are accepted. The token is claimed only after the signature
    checks out (a forger cannot burn real ones) and released when taking the events
    in fails, so that Mailgun's retry of the same request is not refused.
    """
    signing_key = _configured(app.settings.mailgun_webhook_signing_key,
                              "SEQUENCER_MAILGUN_WEBHOOK_SIGNING_KEY")
    body = await _body(request)
    now = app.clock.now()
    signed = _checked(lambda: mailgun_request(body))
    _checked(lambda: verify_mailgun(signing_key, signed, now=now))
    events = mailgun_events(signed)
    replays = _replay_cache(request)
    if not replays.claim(signed.token, expires_at=signed.expires_at, now=now):
        raise _refusal(ReplayedRequest("Mailgun: this signed request was seen before: "
                                       "refused as a replay"))
    try:
        return await run_in_threadpool(_take_all, app, events)
    except BaseException:
        replays.release(signed.token)
        raise


def _take_all(app: App, events: list[ProviderEvent]) -> Counts:
    counts = {"taken": 0, "duplicates": 0, "ignored": 0}
    for event in events:
        counts[_take(app, event)] += 1
    return counts


def _take(app: App, event: ProviderEvent) -> str:
    """Hand one event to its service; which count it adds to."""
    if event.effect is Effect.INBOUND and event.found is not None:
        taken = take_in(app, event.found, key=event.key, source=event.source,
                        provider_id=event.provider_id)
        return "duplicates" if taken.duplicate else "taken"
    if event.effect in (Effect.OPEN, Effect.CLICK) and event.run_key:
        detail: dict[str, object] = {"source": event.source}
        if event.url:
            detail["url"] = event.url
        new = record_engagement(app, event.run_key, event.effect.value, source_key=event.key,
                                detail=detail)
        return "taken" if new else "duplicates"
    return "ignored"


def _configured(value: str | None, variable: str) -> str:
    if not value:
        raise HTTPException(status_code=403, detail=f"this webhook is off: set {variable} "
                            "to turn it on")
    return value


def _checked(step: Callable[[], T], *, challenge: str | None = None) -> T:
    """Run a check or a mapping; a refusal becomes its HTTP answer (``challenge``: the
    ``WWW-Authenticate`` of a 401)."""
    try:
        return step()
    except WebhookRejected as exc:
        raise _refusal(exc, challenge) from exc


def _refusal(exc: WebhookRejected, challenge: str | None = None) -> HTTPException:
    if isinstance(exc, BadSignature):
        return HTTPException(status_code=401, detail=str(exc),
                             headers={"WWW-Authenticate": challenge} if challenge else None)
    if isinstance(exc, ReplayedRequest):
        return HTTPException(status_code=409, detail=str(exc))
    return HTTPException(status_code=400, detail=str(exc))


async def _body(request: Request) -> bytes:
    return await bounded_body(request, MAX_BODY_BYTES, "webhook body")


def _replay_cache(request: Request) -> ReplayCache:
    """This process's Mailgun tokens (made on first use, on the event loop's thread)."""
    found: ReplayCache | None = getattr(request.app.state, "mailgun_replays", None)
    if found is None:
        found = request.app.state.mailgun_replays = ReplayCache()
    return found
