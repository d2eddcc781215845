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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("SEQUENCER_DATABASE_URL") or DEFAULT_DATABASE_URL,
            redis_url=env.get("SEQUENCER_REDIS_URL") or None,
        )
