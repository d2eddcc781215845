"""The links in our emails: one-click unsubscribe (RFC 8058), clicks and opens.

A bad or tampered token is a 404 that changes nothing. The unsubscribe POST answers
200 with no redirect and no cookie, whatever the form encoding; a GET only shows a
page with a button (corporate link scanners follow every link: a GET must never
unsubscribe). A click redirects only to the exact URL signed into its token.
"""

from __future__ import annotations

import base64
import hashlib
import html

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sequencer.api.deps import AppDep, SignerDep
from sequencer.delivery.tokens import InvalidToken
from sequencer.services.inbound import unsubscribe_address
from sequencer.services.tracking import record_engagement

router = APIRouter(tags=["links"])
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store, max-age=0"}


def _not_found() -> HTTPException:
    return HTTPException(status_code=404, detail="unknown or invalid link")


@router.get("/u/{token}", response_class=HTMLResponse)
def unsubscribe_page(token: str, links: SignerDep) -> HTMLResponse:
    """A confirmation page; the button POSTs, so a link scanner changes nothing."""
    try:
        found = links.read_unsubscribe(token)
    except InvalidToken as exc:
        raise _not_found() from exc
    address = html.escape(found.address)
    return HTMLResponse(
        "<!doctype html><html lang=en><meta charset=utf-8><title>Unsubscribe</title>"
        "<body style='font-family:sans-serif;max-width:32em;margin:3em auto'>"
        f"<h1>Unsubscribe {address}?</h1><p>You will get no more emails from us.</p>"
        "<form method=post><input type=hidden name=List-Unsubscribe value=One-Click>"
        "<button type=submit>Unsubscribe</button></form></body></html>", headers=NO_STORE)


@router.post("/u/{token}")
async def unsubscribe_one_click(token: str, request: Request,
                                links: SignerDep,
                                app: AppDep) -> Response:
    """RFC 8058 one-click: 200, never a redirect; the same POST twice changes nothing."""
    try:
        found = links.read_unsubscribe(token)
    except InvalidToken as exc:
        raise _not_found() from exc
    await request.body()  # either form encoding is accepted; the token says it all
    unsubscribe_address(app, found.address, source_key=f"one-click:{found.address.lower()}",
                        reason="unsubscribed with the link in our email")
    return HTMLResponse("<!doctype html><title>Unsubscribed</title><p>You are unsubscribed."
                        " You will get no more emails from us.</p>", headers=NO_STORE)


@router.get("/c/{token}")
def click(token: str, links: SignerDep,
          app: AppDep) -> Response:
    try:
        found = links.read_click(token)
    except InvalidToken as exc:
        raise _not_found() from exc
    digest = hashlib.sha256(found.url.encode()).hexdigest()[:16]
    record_engagement(app, found.run_key, "click", source_key=f"click:{found.run_key}:{digest}",
                      detail={"url": found.url})
    return RedirectResponse(found.url, status_code=302, headers=NO_STORE)


@router.get("/o/{token}")
def opened(token: str, links: SignerDep,
           app: AppDep) -> Response:
    try:
        found = links.read_open(token)
    except InvalidToken as exc:
        raise _not_found() from exc
    record_engagement(app, found.run_key, "open", source_key=f"open:{found.run_key}")
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)
