"""Settings, read from the environment once, at the entry point."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///sequencer.db"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    stuck_claim_seconds: int = 300  # a claimed run whose broker message was lost is re-enqueued
    stuck_sending_seconds: int = 600  # a send that never reported back becomes uncertain

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("SEQUENCER_DATABASE_URL") or DEFAULT_DATABASE_URL,
            redis_url=env.get("SEQUENCER_REDIS_URL") or None,
            stuck_claim_seconds=int(env.get("SEQUENCER_STUCK_CLAIM_SECONDS") or 300),
            stuck_sending_seconds=int(env.get("SEQUENCER_STUCK_SENDING_SECONDS") or 600),
        )
