"""The CRM webhooks in: ``POST /v1/crm/{generic|hubspot|salesforce}/events``.

Authenticated by the request's signature alone (not by API tokens): a CRM holds a
shared secret, not a token. A source whose secret is not configured answers 403
naming the variable to set; a missing, wrong or stale signature 401; a body that is
not JSON 400. Otherwise each item is mapped and applied on its own (see
``sequencer.services.crm_inbound``) and the answer lists ``applied``, ``duplicates``
and ``refused`` items (with index, id, field and reason): 200 when nothing was
refused, 422 when something was, so the CRM sees the failure; its retry is safe
because applied items are kept by event id. docs/webhooks.md has the shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sequencer.api.deps import AppDep, bounded_body
from sequencer.crm.inbound import parse
from sequencer.crm.signatures import (
    HUBSPOT_SIGNATURE,
    HUBSPOT_TIMESTAMP,
    SIGNATURE_HEADER,
    verify,
    verify_hubspot,
)
from sequencer.errors import InputError
from sequencer.inbound.webhook_auth import BadSignature, WebhookRejected
from sequencer.reporting.lifecycle import load_lifecycle
from sequencer.services.app import App
from sequencer.services.crm_inbound import apply_crm_events, load_stage_map

router = APIRouter(prefix="/v1/crm", tags=["crm"])
MAX_BODY_BYTES = 5 * 1024 * 1024
SECRETS = {"generic": ("crm_webhook_secret", "SEQUENCER_CRM_WEBHOOK_SECRET"),
           "hubspot": ("hubspot_app_secret", "SEQUENCER_HUBSPOT_APP_SECRET"),
           "salesforce": ("salesforce_webhook_secret", "SEQUENCER_SALESFORCE_WEBHOOK_SECRET")}
T = TypeVar("T")


@router.post("/{source}/events", responses={
    401: {"description": "missing, wrong or stale signature"},
    403: {"description": "this source's secret is not configured"},
    422: {"description": "some items were refused (the others are applied)"}})
async def crm_events(source: str, request: Request, app: AppDep) -> JSONResponse:
    """Stage changes and meetings booked, from a CRM, verified by their signature."""
    if source not in SECRETS:
        raise HTTPException(status_code=404, detail=f"unknown CRM source {source!r}: "
                            f"use one of {', '.join(SECRETS)}")
    attribute, variable = SECRETS[source]
    secret: str | None = getattr(app.settings, attribute)
    if not secret:
        raise HTTPException(status_code=403, detail=f"the {source} webhook is off: set "
                            f"{variable} to the shared secret to turn it on")
    body = await bounded_body(request, MAX_BODY_BYTES, "webhook body")
    _checked(lambda: _verify(source, secret, request, body, app))
    data = await run_in_threadpool(_take, app, source, body)
    return JSONResponse(data, status_code=422 if data["refused"] else 200)


def _verify(source: str, secret: str, request: Request, body: bytes, app: App) -> None:
    now = app.clock.now()
    if source == "hubspot":
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        verify_hubspot(secret, request.method, (app.settings.public_url + path,
                                                str(request.url)), body,
                       signature=request.headers.get(HUBSPOT_SIGNATURE),
                       timestamp=request.headers.get(HUBSPOT_TIMESTAMP), now=now)
    else:
        verify(secret, body, request.headers.get(SIGNATURE_HEADER), now=now,
               who=source.title())


def _take(app: App, source: str, body: bytes) -> dict[str, Any]:
    try:
        lifecycle, stages = load_lifecycle(), load_stage_map()
    except InputError as exc:
        raise HTTPException(status_code=500, detail=str(exc)) from exc
    parsed = _checked(lambda: parse(source, body, stages=stages, lifecycle=lifecycle))
    return apply_crm_events(app, source, parsed, lifecycle=lifecycle).as_data()


def _checked(step: Callable[[], T]) -> T:
    try:
        return step()
    except BadSignature as exc:
        raise HTTPException(status_code=401, detail=str(exc)) from exc
    except WebhookRejected as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
