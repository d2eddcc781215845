"""Raw MIME in over HTTP: for mail systems that forward rather than wait to be polled."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Header, HTTPException, Request

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


@router.post("/inbound/mime")
async def inbound_mime(request: Request, app: AppDep,
                       authorization: str | None = Header(default=None)) -> dict[str, object]:
    """Take one raw RFC 5322 message (the body, as is); the same message twice is a no-op."""
    _authorised(app, authorization)
    raw = await bounded_body(request, MAX_MESSAGE_BYTES, "message")
    if not raw.strip():
        raise HTTPException(status_code=400, detail="empty body: send the raw message")
    taken = ingest(app, raw, source="http")
    return {"kind": taken.kind, "duplicate": taken.duplicate, "in_reply_to": taken.matched,
            "prospect": taken.prospect, "suppressed": taken.suppressed,
            "enrollments": [{"id": i, "status": s} for i, s in taken.enrollments]}
