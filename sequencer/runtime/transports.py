"""Transports by URL, one per worker thread, reused across sends (SMTP connection reuse)."""

from __future__ import annotations

import threading

from sequencer.delivery import Transport, transport_from_url

_local = threading.local()


def transport_for(url: str) -> Transport:
    cache: dict[str, Transport] | None = getattr(_local, "transports", None)
    if cache is None:
        cache = _local.transports = {}
    found = cache.get(url)
    if found is None:
        found = cache[url] = transport_from_url(url)
    return found


def close_all() -> None:
    """Close this thread's transports (at shutdown)."""
    cache: dict[str, Transport] = getattr(_local, "transports", {})
    for transport in cache.values():
        transport.close()
    cache.clear()
