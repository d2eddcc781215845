"""The broker: Redis in production (``SEQUENCER_REDIS_URL``), a stub in tests.

Nothing is built at import time; ``setup_broker`` is called by the entry
module (``workers.main``) before the actors are declared, as Dramatiq requires.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware

from sequencer.settings import Settings


class FinishPipeline(Middleware):
    """When Dramatiq's worker stops (SIGTERM), finish the runs already taken in."""

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        from workers.process import close_pipeline

        close_pipeline()


def setup_broker(settings: Settings) -> dramatiq.Broker:
    broker: dramatiq.Broker = (
        RedisBroker(url=settings.redis_url)  # type: ignore[no-untyped-call]
        if settings.redis_url else StubBroker())
    broker.add_middleware(FinishPipeline())
    dramatiq.set_broker(broker)
    return broker
