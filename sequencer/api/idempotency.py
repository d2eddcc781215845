"""Idempotency keys on the writes that create things (``Idempotency-Key`` header).

The first request with a key reserves it, runs, and keeps its answer; a retry with
the same key and the same body gets that answer again (``Idempotent-Replayed: true``)
and creates nothing; the same key with a different body is refused (422), and a
retry while the first is still running is told so (409). A request that fails
releases its key, so the client may fix it and retry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic_core import to_jsonable_python
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from sequencer.api.auth import Principal, WriteDep
from sequencer.api.errors import ApiError
from sequencer.services.app import App
from sequencer.store.api_models import IdempotentRequest

MAX_KEY_LENGTH = 200


class Idempotency:
    def __init__(self, app: App, principal: Principal, key: str | None, route: str) -> None:
        self.app, self.principal, self.key, self.route = app, principal, key, route

    def run(self, request_body: Any, status_code: int, produce: Callable[[], Any]) -> JSONResponse:
        """Answer with ``produce()`` (as JSON, ``status_code``), at most once per key."""
        if self.key is None:
            return JSONResponse(to_jsonable_python(produce()), status_code=status_code)
        digest = hashlib.sha256(json.dumps(to_jsonable_python(request_body), sort_keys=True,
                                           default=str).encode()).hexdigest()
        replay = self._reserve(digest)
        if replay is not None:
            return replay
        try:
            body = to_jsonable_python(produce())
        except BaseException:
            self._release()
            raise
        with self.app.sessions.begin() as session:
            session.execute(update(IdempotentRequest).where(*self._this())
                            .values(status_code=status_code, response_body=json.dumps(body)))
        return JSONResponse(body, status_code=status_code)

    def _reserve(self, digest: str) -> JSONResponse | None:
        try:
            with self.app.sessions.begin() as session:
                session.add(IdempotentRequest(token_id=self.principal.id, key=self.key,
                                              route=self.route, request_hash=digest,
                                              created_at=self.app.clock.now()))
            return None
        except IntegrityError:
            pass
        with self.app.sessions() as session:
            kept = session.scalars(select(IdempotentRequest).where(*self._this())).one_or_none()
        if kept is None:  # released between our insert and our read: the client retries
            raise ApiError(409, "idempotency_key_in_use", "a request with this "
                           "Idempotency-Key just failed or is finishing; retry it")
        if kept.route != self.route or kept.request_hash != digest:
            raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used "
                           f"for a different request ({kept.route}); use a new key")
        if kept.status_code is None or kept.response_body is None:
            raise ApiError(409, "idempotency_key_in_use", "the first request with this "
                           "Idempotency-Key is still running; retry in a moment",
                           headers={"Retry-After": "1"})
        return JSONResponse(json.loads(kept.response_body), status_code=kept.status_code,
                            headers={"Idempotent-Replayed": "true"})

    def _release(self) -> None:
        with self.app.sessions.begin() as session:
            session.execute(delete(IdempotentRequest).where(
                *self._this(), IdempotentRequest.status_code.is_(None)))

    def _this(self) -> tuple[Any, ...]:
        return (IdempotentRequest.token_id == self.principal.id,
                IdempotentRequest.key == self.key)


async def idempotency(request: Request, principal: WriteDep,
                      idempotency_key: Annotated[str | None, Header(
                          max_length=MAX_KEY_LENGTH,
                          description="any unique string (a UUID): a retry with the same "
                                      "key creates nothing new and gets the first answer")
                      ] = None) -> Idempotency:
    route = f"{request.method} {request.url.path}"
    key = idempotency_key.strip() if idempotency_key and idempotency_key.strip() else None
    return Idempotency(request.app.state.app, principal, key, route)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
