"""The broker: Redis in production (``SEQUENCER_REDIS_URL``), a stub in tests.

Nothing is built at import time; ``setup_broker`` is called by the entry
module (``workers.main``) before the actors are declared, as Dramatiq requires.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware

from sequencer.settings import Settings


class FinishPipeline(Middleware):
    """When Dramatiq's worker stops (SIGTERM), finish the runs already taken in."""

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        from workers.process import close_pipeline

        close_pipeline()


# Connections to Redis per process. Every worker thread acknowledges its own messages,
# and redis-py's default pool refuses a 101st connection ("Too many connections"):
# Dramatiq then puts the thread to sleep for 5 s before it acknowledges again. A
# blocking pool makes a thread wait its turn for one of these instead.
REDIS_CONNECTIONS = 64
REDIS_WAIT_SECONDS = 30  # for a free connection, before the ack counts as failed


def redis_client(url: str) -> redis.Redis:
    """A client whose pool makes threads wait for a connection rather than fail."""
    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=REDIS_CONNECTIONS, timeout=REDIS_WAIT_SECONDS)
    return redis.Redis(connection_pool=pool)


def send_each(actor: dramatiq.Actor[Any, Any], arguments: Iterable[tuple[Any, ...]]) -> None:
    """One message per argument tuple; on Redis all of them in one round trip.

    Dramatiq enqueues a message by calling its ``dispatch`` script on Redis and
    waiting for the answer. For a scheduler enqueueing hundreds of runs a pass,
    those round trips were most of its CPU: here the script's calls are queued on a
    pipeline for the time of the loop and sent together. Only where no other thread
    uses the broker at the same time (the scheduler; a worker's acknowledgements go
    through the same script), and a broker of another kind sends one by one.
    """
    broker = actor.broker
    scripts = getattr(broker, "scripts", None) if isinstance(broker, RedisBroker) else None
    dispatch = scripts.get("dispatch") if isinstance(scripts, dict) else None
    if dispatch is None:
        for args in arguments:
            actor.send(*args)
        return
    own = dispatch.registered_client
    with own.pipeline(transaction=False) as pipeline:
        dispatch.registered_client = pipeline
        try:
            for args in arguments:
                actor.send(*args)
        finally:
            dispatch.registered_client = own
        pipeline.execute()


def setup_broker(settings: Settings) -> dramatiq.Broker:
    broker: dramatiq.Broker = (
        RedisBroker(client=redis_client(settings.redis_url))  # type: ignore[no-untyped-call]
        if settings.redis_url else StubBroker())
    broker.add_middleware(FinishPipeline())
    dramatiq.set_broker(broker)
    return broker
