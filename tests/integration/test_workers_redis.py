"""Dramatiq workers on real Redis: a message delivered twice sends once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import func, select

import workers.process
from sequencer.runtime.embedded import next_wake
from sequencer.runtime.scheduler import tick
from sequencer.services.app import App
from sequencer.services.enroll import enroll_csv
from sequencer.services.mailboxes import add_mailbox
from sequencer.store.models import Message, StepRun
from tests.integration.helpers import COLD, make_app, write_csv
from workers.broker import (
    REDIS_CONNECTIONS,
    SequencerRedisBroker,
    pipelined,
    redis_client,
    send_each,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_broker(redis_url: str) -> Iterator[RedisBroker]:
    redis.Redis.from_url(redis_url).flushdb()
    broker = SequencerRedisBroker(client=redis_client(redis_url))
    dramatiq.set_broker(broker)
    from workers.actors import execute_step

    broker.declare_actor(execute_step)
    yield broker
    broker.close()
    redis.Redis.from_url(redis_url).flushdb()


@pytest.fixture
def postgres_app(postgres_database: str, tmp_path: Path) -> Iterator[App]:
    from tests.conftest import _truncate_postgres

    _truncate_postgres(postgres_database)
    app, clock = make_app(postgres_database)
    add_mailbox(app, "ana@sender.example", transport=f"file://{tmp_path}/out", daily_cap=500)
    rows = [f"p{i}@x{i}.example,America/New_York" for i in range(40)]
    enroll_csv(app, COLD, write_csv(tmp_path / "p.csv", "email,timezone", *rows),
               mailbox="ana@sender.example")
    wake = next_wake(app)
    assert wake is not None
    clock.set(wake + timedelta(minutes=30))
    workers.process._app = app  # the actors use this process's app
    yield app
    workers.process._app = None
    app.close()


def test_each_message_sent_twice_to_the_workers_sends_one_email(
    redis_broker: RedisBroker, postgres_app: App, tmp_path: Path
) -> None:
    from workers.actors import execute_step

    claimed: list[int] = []
    tick(postgres_app, claimed.extend)
    assert len(claimed) == 40
    for run_id in claimed + claimed:  # every message delivered twice
        execute_step.send(run_id)
    worker = dramatiq.Worker(redis_broker, worker_threads=8)
    worker.start()
    redis_broker.join(execute_step.queue_name, timeout=60_000)
    worker.join()
    worker.stop()
    with postgres_app.sessions() as session:
        sent = session.scalar(select(func.count()).select_from(Message).where(
            Message.status == "sent"))
        states = dict(session.execute(select(StepRun.state, func.count())
                                      .group_by(StepRun.state)).all())
    assert sent == 40 and states == {"sent": 40}
    assert len(list((tmp_path / "out").glob("*.eml"))) == 40


def test_more_threads_than_redis_connections_wait_their_turn_instead_of_failing(
    redis_url: str,
) -> None:
    """A worker's 256 threads each acknowledge their own messages. redis-py's default
    pool refuses its 101st connection, and Dramatiq then parks the thread for 5 s;
    the broker's pool makes the extra threads wait for a free connection instead."""
    from concurrent.futures import ThreadPoolExecutor

    client = redis_client(redis_url)
    feeder = redis.Redis.from_url(redis_url)
    keys = [f"pool-test:{i}" for i in range(REDIS_CONNECTIONS * 3)]
    feeder.delete(*keys)
    try:
        with ThreadPoolExecutor(len(keys)) as threads:
            # Each BLPOP holds its connection until its key gets a value: far more
            # commands at once than the pool has connections.
            answers = [threads.submit(client.blpop, [key], 60) for key in keys]
            for key in keys:
                feeder.rpush(key, "done")
            results = [answer.result(timeout=60) for answer in answers]
    finally:
        feeder.delete(*keys)
    assert all(result is not None and result[1] == b"done" for result in results)


@contextmanager
def pipeline_round_trips() -> Iterator[list[int]]:
    """Counts the pipelines sent to Redis meanwhile (``[n]``): one round trip each."""
    sent = [0]
    real_execute = redis.client.Pipeline.execute

    def counting_execute(self: redis.client.Pipeline, *args: Any, **kwargs: Any) -> Any:
        sent[0] += 1
        return real_execute(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(redis.client.Pipeline, "execute", counting_execute)
        yield sent


def test_a_scheduler_pass_enqueues_its_runs_together_and_each_is_delivered_once(
        redis_broker: RedisBroker) -> None:
    seen: list[int] = []
    lock = threading.Lock()

    @dramatiq.actor(queue_name="batch-test", broker=redis_broker)
    def record(number: int) -> None:
        with lock:
            seen.append(number)

    with pipeline_round_trips() as round_trips:
        send_each(record, [(n,) for n in range(300)])
    assert round_trips == [1]
    worker = dramatiq.Worker(redis_broker, worker_threads=4)
    worker.start()
    try:
        redis_broker.join("batch-test", timeout=60_000)
    finally:
        worker.stop()
    assert sorted(seen) == list(range(300))
    # Every message was acknowledged (batched acknowledgements included) by the time
    # the worker stopped: none is left for Redis to deliver again.
    assert redis_broker.client.hlen("dramatiq:batch-test.msgs") == 0


def test_a_pipeline_holds_only_its_own_threads_messages(redis_broker: RedisBroker) -> None:
    @dramatiq.actor(queue_name="own-thread", broker=redis_broker)
    def noted(number: int) -> None:
        pass

    with pipelined(redis_broker):
        noted.send(1)  # queued on this thread's pipeline
        other = threading.Thread(target=noted.send, args=(2,))  # straight to Redis
        other.start()
        other.join()
        assert redis_broker.client.hlen("dramatiq:own-thread.msgs") == 1
    assert redis_broker.client.hlen("dramatiq:own-thread.msgs") == 2


def test_acknowledgements_go_to_redis_together_when_the_consumer_next_fetches(
        redis_broker: RedisBroker) -> None:
    @dramatiq.actor(queue_name="acks", broker=redis_broker)
    def noted(number: int) -> None:
        pass

    send_each(noted, [(n,) for n in range(50)])
    consumer = redis_broker.consume("acks", prefetch=100, timeout=100)
    messages = [next(consumer) for _ in range(50)]
    for message in messages:
        consumer.ack(message)
    assert redis_broker.client.hlen("dramatiq:acks.msgs") == 50  # not yet sent

    with pipeline_round_trips() as round_trips:
        assert next(consumer) is None  # the queue is empty: the consumer went for more
    assert round_trips == [1]
    assert redis_broker.client.hlen("dramatiq:acks.msgs") == 0
    consumer.ack(messages[0])  # acknowledged twice: harmless
    consumer.close()  # sends what is left
    assert redis_broker.client.hlen("dramatiq:acks.msgs") == 0


def test_a_closing_consumer_hands_back_the_messages_it_fetched_but_never_gave_out(
        redis_broker: RedisBroker) -> None:
    """Dramatiq's shutdown requeues the messages its worker threads had queued, not those
    still in the consumer's fetch cache: those sat in the stopped worker's unacknowledged
    set until the scheduler's sweeper re-enqueued their runs, 5 minutes later."""
    @dramatiq.actor(queue_name="handback", broker=redis_broker)
    def noted(number: int) -> None:
        pass

    send_each(noted, [(n,) for n in range(50)])
    consumer = redis_broker.consume("handback", prefetch=50, timeout=100)
    given = next(consumer)  # one fetch takes all 50 from the queue, and gives out one
    assert redis_broker.client.llen("dramatiq:handback") == 0
    consumer.close()
    client = redis_broker.client
    held = [member.decode() for key in client.scan_iter("dramatiq:__acks__.*")
            for member in client.smembers(key)]
    assert held == [given.options["redis_message_id"]]  # the one under way: Dramatiq's
    assert client.llen("dramatiq:handback") == 49
    assert client.hlen("dramatiq:handback.msgs") == 50  # all 50 still to be done
