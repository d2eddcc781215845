"""A single worker process: Dramatiq's ``Worker`` with threads, stopped cleanly on SIGTERM.

``sequencer worker`` runs Dramatiq's multi-process CLI; this entry point is one
process that can be killed and restarted on its own (the fault tests do), and on
SIGTERM lets the steps in hand finish and hands prefetched messages back.

    python -m workers.run --threads 8
"""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

import dramatiq

from sequencer.runtime.transports import close_all


def wait_for(stop: threading.Event, tick: float = 0.5) -> None:
    """Block until ``stop`` is set, waking every ``tick`` seconds.

    The kernel may deliver SIGTERM to any of the worker's hundreds of threads (it
    does whenever the main thread is briefly unable to take it). Python then runs
    the handler only when the main thread next executes bytecode, which a plain
    ``Event.wait()`` never does: the worker ignored the signal and ran on.
    """
    while not stop.wait(tick):
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=256)
    args = parser.parse_args()
    from workers.main import broker

    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker = dramatiq.Worker(broker, worker_threads=args.threads, worker_timeout=200)
    worker.start()
    print("worker ready", flush=True)
    wait_for(stop)
    # Prefetched messages go back to Redis; the runs taken in finish (FinishPipeline).
    worker.stop(timeout=30_000)
    close_all()
    broker.close()


if __name__ == "__main__":
    main()
