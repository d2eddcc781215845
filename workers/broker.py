"""The broker: Redis in production (``SEQUENCER_REDIS_URL``), a stub in tests.

Nothing is built at import time; ``setup_broker`` is called by the entry
module (``workers.main``) before the actors are declared, as Dramatiq requires.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from sequencer.settings import Settings


def setup_broker(settings: Settings) -> dramatiq.Broker:
    broker: dramatiq.Broker = (
        RedisBroker(url=settings.redis_url)  # type: ignore[no-untyped-call]
        if settings.redis_url else StubBroker())
    dramatiq.set_broker(broker)
    return broker
