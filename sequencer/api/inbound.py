"""Raw MIME in over HTTP: for mail systems that forward rather than wait to be polled."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import BaseModel, Field

from sequencer.api.auth import WriteDep
from sequencer.api.deps import AppDep, bounded_body
from sequencer.services.app import App
from sequencer.services.inbound import ingest

router = APIRouter(tags=["inbound"])
MAX_MESSAGE_BYTES = 25 * 1024 * 1024  # what the big mail providers accept, and no more


def _authorised(app: App, authorization: str | None) -> None:
    expected = app.settings.inbound_token
    if not expected:
        raise HTTPException(status_code=403, detail="inbound over HTTP is off: set "
                            "SEQUENCER_INBOUND_TOKEN to turn it on")
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(status_code=401, detail="a valid bearer token is required",
                            headers={"WWW-Authenticate": "Bearer"})


class EnrollmentAfter(BaseModel):
    id: int
    status: str


class InboundOut(BaseModel):
    kind: str = Field(description="reply, auto_reply, hard_bounce, soft_bounce, blocked, "
                                  "unsubscribe or unknown")
    duplicate: bool = Field(description="this message was taken in before: nothing changed")
    in_reply_to: str | None = Field(description="the Message-ID of our email it answers")
    prospect: str | None
    suppressed: str | None = Field(description="the address or domain suppressed, if any")
    enrollments: list[EnrollmentAfter]


async def take_mime(request: Request, app: App) -> InboundOut:
    """Read the raw message from the body and take it in (both routes share this)."""
    raw = await bounded_body(request, MAX_MESSAGE_BYTES, "message")
    if not raw.strip():
        raise HTTPException(status_code=400, detail="empty body: send the raw message")
    taken = ingest(app, raw, source="http")
    return InboundOut(kind=taken.kind, duplicate=taken.duplicate, in_reply_to=taken.matched,
                      prospect=taken.prospect, suppressed=taken.suppressed,
                      enrollments=[EnrollmentAfter(id=i, status=s) for i, s in taken.enrollments])


RAW_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
    "description": "the raw RFC 5322 message, as received (at most 25 MB)"}}


@router.post("/inbound/mime", response_model=InboundOut, openapi_extra=RAW_BODY,
             summary="Take in a raw message (SEQUENCER_INBOUND_TOKEN)")
async def inbound_mime(request: Request, app: AppDep,
                       authorization: str | None = Header(default=None)) -> InboundOut:
    """Take one raw RFC 5322 message (the body, as is); the same message twice is a no-op."""
    _authorised(app, authorization)
    return await take_mime(request, app)


@router.post("/v1/inbound/mime", response_model=InboundOut, openapi_extra=RAW_BODY,
             tags=["inbound"], summary="Take in a raw message",
             responses={400: {"description": "an empty body"},
                        401: {"description": "no token, or not a valid one"},
                        403: {"description": "the token's scope is too small (write)"},
                        413: {"description": "larger than 25 MB"}})
async def inbound_mime_v1(request: Request, app: AppDep, principal: WriteDep) -> InboundOut:
    """Take one raw RFC 5322 message (the body, as is), as IMAP polling would: classified,
    matched to the email it answers and acted on once; the same message twice is a no-op
    (`duplicate`)."""
    return await take_mime(request, app)
