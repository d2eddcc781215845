"""The HTTP API's own tables: the tokens that sign in, and the answers kept for
idempotency keys so that a retried create never creates twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sequencer.store.models import Base


class ApiToken(Base):
    """A bearer token: only a hash of its secret is kept; ``prefix`` finds the row."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of the whole token
    scopes: Mapped[str] = mapped_column(String(60))  # space-separated: read write admin
    owner: Mapped[str | None] = mapped_column(String(120))  # the rep it signs in as
    rate_per_minute: Mapped[int] = mapped_column(Integer, default=600)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class IdempotentRequest(Base):
    """A write that carried an ``Idempotency-Key``: what it asked and what it answered.

    ``status_code`` is NULL while the first request is still running."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_idempotent_requests_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"))
    key: Mapped[str] = mapped_column(String(200))
    route: Mapped[str] = mapped_column(String(300))  # "POST /v1/prospects"
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)  # the JSON answered, as sent
    created_at: Mapped[datetime]
