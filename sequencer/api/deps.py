"""What routes share: the ``App`` behind the request, and the link signer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from sequencer.delivery.tokens import TokenSigner
from sequencer.services.app import App
from sequencer.settings import signing_keys


async def current_app(request: Request) -> App:
    app: App = request.app.state.app
    return app


async def signer(request: Request) -> TokenSigner:
    app: App = request.app.state.app
    found: TokenSigner | None = getattr(request.app.state, "signer", None)
    if found is None:
        found = request.app.state.signer = TokenSigner(signing_keys(app.settings))
    return found


AppDep = Annotated[App, Depends(current_app)]
SignerDep = Annotated[TokenSigner, Depends(signer)]


async def bounded_body(request: Request, limit: int, what: str) -> bytes:
    """The raw body, read once, refused with 413 past ``limit`` bytes (declared or sent)."""
    too_big = HTTPException(status_code=413, detail=f"{what} larger than {limit // 2**20} MB")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_big
    return bytes(body)
