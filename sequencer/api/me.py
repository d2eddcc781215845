"""``GET /v1/me``: which token this is, what it may do, and its rate limit."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from sequencer.api.auth import ReadDep

router = APIRouter(prefix="/v1", tags=["auth"])


class Me(BaseModel):
    token_id: int
    name: str
    scope: str
    owner: str | None
    rate_per_minute: int
    created_at: datetime


@router.get("/me", response_model=Me)
def who_am_i(principal: ReadDep) -> Me:
    return Me(token_id=principal.id, name=principal.name, scope=principal.scope,
              owner=principal.owner, rate_per_minute=principal.rate_per_minute,
              created_at=principal.created_at)
