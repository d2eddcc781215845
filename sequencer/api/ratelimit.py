"""Per-token rate limits: a token bucket of ``rate_per_minute`` requests, refilled evenly.

The buckets live in the API process: with N API processes behind a balancer a
token may make up to N times its rate. Time comes from the app's clock.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    remaining: int
    retry_after: int  # seconds until one request is allowed again (0 when allowed)


class RateLimiter:
    def __init__(self) -> None:
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: int, per_minute: int, now: float) -> Verdict:
        """Spend one request of ``key``'s budget at ``now`` (seconds), if there is one."""
        refill = per_minute / 60.0
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(per_minute), now)
            bucket.tokens = min(float(per_minute),
                                bucket.tokens + max(0.0, now - bucket.at) * refill)
            bucket.at = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return Verdict(True, int(bucket.tokens), 0)
            return Verdict(False, 0, max(1, math.ceil((1.0 - bucket.tokens) / refill)))
