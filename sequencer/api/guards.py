"""Input no route can take: a NUL character in the path or the query string.

No column can store NUL (PostgreSQL refuses it outright), and no name, address or
id contains one, so such a request is refused before any route reads it.
"""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send


class RefuseNul:
    """ASGI middleware: 422 ``invalid_request`` for a NUL in the path or query."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            where = _nul_in(scope)
            if where is not None:
                body = json.dumps({"error": {
                    "code": "invalid_request",
                    "message": f"{where}: contains a NUL character",
                    "details": [{"field": where, "message": "contains a NUL character"}]}})
                await send({"type": "http.response.start", "status": 422,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": body.encode()})
                return
        await self.app(scope, receive, send)


def _nul_in(scope: Scope) -> str | None:
    if "\x00" in scope.get("path", ""):
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"\x00" in unquote_to_bytes(query):  # %00, or a raw NUL
        return "query"
    return None
