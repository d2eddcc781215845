"""One error body for every failure the API answers:

    {"error": {"code": "not_found", "message": "no prospect #12", "details": [...]}}

``code`` is stable (clients branch on it), ``message`` is for people, ``details``
(optional) names the fields or items at fault.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sequencer.errors import DefinitionError, EngineError, InputError

log = logging.getLogger(__name__)

CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
         413: "too_large", 415: "unsupported_media_type", 422: "invalid_request",
         429: "rate_limited", 500: "internal_error", 503: "unavailable"}


class ApiError(Exception):
    """Raise from a route to answer ``status`` with a stable ``code`` and a human message."""

    def __init__(self, status: int, code: str, message: str, *,
                 details: Sequence[Mapping[str, Any]] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = list(details or [])
        self.headers = dict(headers or {})


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"no {what}")


def error_response(status: int, code: str, message: str, *,
                   details: Sequence[Mapping[str, Any]] = (),
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = list(details)
    return JSONResponse({"error": body}, status_code=status, headers=dict(headers or {}))


def install(api: FastAPI) -> None:
    """Route every failure, ours or the framework's, through the one body."""

    @api.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, details=exc.details,
                              headers=exc.headers)

    @api.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code < 400:  # a redirect raised by a page (sign in first): no body
            return Response(status_code=exc.status_code, headers=exc.headers)
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return error_response(exc.status_code, CODES.get(exc.status_code, "error"), message,
                              headers=exc.headers)

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"field": ".".join(str(p) for p in problem.get("loc", ())),
                    "message": problem.get("msg", "invalid")} for problem in exc.errors()]
        first = details[0] if details else {"field": "", "message": "invalid request"}
        return error_response(422, "invalid_request",
                              f"{first['field']}: {first['message']}", details=details)

    @api.exception_handler(DefinitionError)
    async def _definition(request: Request, exc: DefinitionError) -> JSONResponse:
        details = [{"line": p.line, "message": p.message, "severity": str(p.severity),
                    **({"rule": p.code} if p.code else {})} for p in exc.problems]
        return error_response(422, "invalid_sequence",
                              f"the sequence has {len(details)} problem(s)", details=details)

    @api.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        return error_response(400, "invalid_input", str(exc))

    @api.exception_handler(EngineError)
    async def _engine(request: Request, exc: EngineError) -> JSONResponse:
        return error_response(409, "conflict", str(exc))

    @api.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> JSONResponse:
        # The last line of defence: a value the database refused (out of range, too
        # long, a NUL). Routes validate first; this keeps such a miss a 4xx, not a 500.
        log.warning("the store refused a value on %s %s: %s", request.method,
                    request.url.path, exc.orig)
        reason = str(exc.orig).splitlines()[0] if exc.orig else "a value cannot be stored"
        return error_response(422, "invalid_request", f"a value cannot be stored: {reason}")

    @api.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error",
                              "the server failed on this request; it has been logged")
