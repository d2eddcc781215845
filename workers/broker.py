"""The broker: Redis in production (``SEQUENCER_REDIS_URL``), a stub in tests.

Nothing is built at import time; ``setup_broker`` is called by the entry
module (``workers.main``) before the actors are declared, as Dramatiq requires.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import ConnectionClosed
from dramatiq.message import Message
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


class _PerThreadPipeline:
    """The broker's ``dispatch`` script, sent through the calling thread's pipeline when
    it has one open (``pipelined``) and straight to Redis otherwise."""

    def __init__(self, script: Any) -> None:
        self.script = script
        self.local = threading.local()

    def __call__(self, keys: Any = (), args: Any = (), client: Any = None) -> Any:
        return self.script(keys=keys, args=args,
                           client=client or getattr(self.local, "pipeline", None))

    def __getattr__(self, name: str) -> Any:  # registered_client, sha...
        return getattr(self.script, name)


@contextmanager
def pipelined(broker: dramatiq.Broker) -> Iterator[None]:
    """Within: this thread's enqueues and acknowledgements on a ``SequencerRedisBroker``
    are queued and go to Redis together on leaving; other threads keep talking to Redis
    directly, and a broker of another kind sends each one as it comes.

    Dramatiq sends each of them as a call of its ``dispatch`` script and waits for the
    answer: one round trip, and redis-py's per-call work, per message.
    """
    if not isinstance(broker, SequencerRedisBroker):
        yield
        return
    dispatch = broker.dispatch
    with dispatch.registered_client.pipeline(transaction=False) as pipeline:
        dispatch.local.pipeline = pipeline
        try:
            yield
        finally:
            dispatch.local.pipeline = None
        pipeline.execute()


def send_each(actor: dramatiq.Actor[Any, Any], arguments: Iterable[tuple[Any, ...]]) -> None:
    """One message per argument tuple; on Redis all of them in one round trip (for a
    scheduler enqueueing hundreds of runs a pass, the round trips were most of its CPU)."""
    with pipelined(actor.broker):
        for args in arguments:
            actor.send(*args)


class _AcksInBatches(_RedisConsumer):
    """A consumer that acknowledges messages together, between two fetches.

    Dramatiq acknowledges each message from the worker thread that ran it, with a
    round trip to Redis of its own: a fifth of a busy worker's interpreter time.
    Here the worker thread queues the acknowledgement and the consumer thread sends
    what has queued up each time it goes for messages (at least every
    ``worker_timeout`` when idle), and when it closes. An acknowledgement lost with
    a killed worker only means that Redis delivers the message again, and a step's
    message is idempotent (its step run says whether it was done).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
        self._acks: list[str] = []
        self._acks_lock = threading.Lock()

    def ack(self, message: Any) -> None:
        with self._acks_lock:
            self._acks.append(message.options["redis_message_id"])
        self.queued_message_ids.discard(message.message_id)

    def __next__(self) -> Any:
        self.send_acks()
        return super().__next__()  # type: ignore[no-untyped-call]

    def close(self) -> None:
        self.send_acks()
        self.hand_back_fetched()
        super().close()

    def hand_back_fetched(self) -> None:
        """Put back on the queue what was fetched but never given to a worker thread.

        Dramatiq's shutdown requeues the messages its threads had queued, not those still
        in the consumer's fetch cache (a worker with 256 threads fetches up to 512 at a
        time): they stayed in this worker's unacknowledged set, where Redis gives them
        back only once the worker is declared dead, and the scheduler's sweeper
        re-enqueued their runs only after ``stuck_claim_seconds``.
        """
        cached, self.message_cache = self.message_cache, []
        with _connection_closed_on_redis_errors():
            self.requeue([Message.decode(data) for data in cached if data])  # type: ignore[no-untyped-call]

    def send_acks(self) -> None:
        if not self._acks:  # the usual case between two fetches
            return
        with self._acks_lock:
            acks, self._acks = self._acks, []
        if not acks:
            return
        with _connection_closed_on_redis_errors(), pipelined(self.broker):
            for redis_id in acks:
                self.broker.do_ack(self.queue_name, redis_id)


@contextmanager
def _connection_closed_on_redis_errors() -> Iterator[None]:
    """Redis's connection errors as the one Dramatiq's worker expects from a consumer."""
    try:
        yield
    except redis.ConnectionError as exc:
        raise ConnectionClosed(exc) from None  # type: ignore[no-untyped-call]


class SequencerRedisBroker(RedisBroker):
    """Dramatiq's Redis broker, acknowledging in batches (``_AcksInBatches``) and sending
    a thread's messages together when it asks (``pipelined``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
        self.dispatch = _PerThreadPipeline(self.scripts["dispatch"])
        self.scripts["dispatch"] = self.dispatch  # what Dramatiq calls to enqueue and ack

    @property
    def consumer_class(self) -> type[_RedisConsumer]:
        return _AcksInBatches


def setup_broker(settings: Settings) -> dramatiq.Broker:
    broker: dramatiq.Broker = (
        SequencerRedisBroker(client=redis_client(settings.redis_url))
        if settings.redis_url else StubBroker())
    broker.add_middleware(FinishPipeline())
    dramatiq.set_broker(broker)
    return broker
