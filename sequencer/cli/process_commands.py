"""``sequencer scheduler`` and ``sequencer worker``: the production processes."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

import click
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError

from sequencer.runtime.heap import long_lived
from sequencer.runtime.scheduler import serve
from sequencer.services.app import bootstrap
from sequencer.settings import Settings


@click.command("scheduler")
@click.option("--poll", default=1.0, show_default=True, help="Seconds to rest when idle.")
@click.option("--batch", default=500, show_default=True, help="Steps claimed per pass.")
@click.option("--sweep-every", default=5.0, show_default=True,
              help="Seconds between looks for work a dead worker left behind.")
def scheduler_command(poll: float, batch: int, sweep_every: float) -> None:
    """Claim due steps and enqueue them on Redis (run as many as you like)."""
    settings = Settings.from_env()
    if not settings.redis_url:
        raise click.ClickException("SEQUENCER_REDIS_URL is not set: use 'sequencer run' for "
                                   "the embedded mode, or point it at Redis")
    # One import: workers.main sets the broker up before it declares the actors.
    from workers.main import execute_step

    app = bootstrap(settings)
    long_lived()
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    click.echo(f"scheduler: {settings.database_url} -> {settings.redis_url}", err=True)

    def passing(exc: Exception) -> bool:
        if not isinstance(exc, RedisError | OperationalError):
            return False
        click.echo(f"scheduler: {type(exc).__name__}: {exc}; retrying", err=True)
        return True

    try:
        serve(app, _enqueue(execute_step), stop, poll=poll, limit=batch,
              sweep_every=sweep_every, on_error=passing)
    finally:
        app.close()


def _enqueue(actor: Any) -> Callable[[Sequence[int]], None]:
    from workers.broker import send_each

    def send(run_ids: Sequence[int]) -> None:
        send_each(actor, [(run_id,) for run_id in run_ids])

    return send


@click.command("worker", context_settings={"ignore_unknown_options": True})
@click.option("--processes", "-p", default=2, show_default=True)
@click.option("--threads", "-t", default=256, show_default=True,
              help="Threads per process; the runs under way share batches.")
@click.argument("dramatiq_args", nargs=-1, type=click.UNPROCESSED)
def worker_command(processes: int, threads: int, dramatiq_args: tuple[str, ...]) -> None:
    """Run Dramatiq workers that execute steps (extra arguments go to dramatiq)."""
    if not Settings.from_env().redis_url:
        raise click.ClickException("SEQUENCER_REDIS_URL is not set: use 'sequencer run' for "
                                   "the embedded mode, or point it at Redis")
    from dramatiq.cli import main as dramatiq_main

    sys.argv = ["dramatiq", "workers.main", "--processes", str(processes), "--threads",
                str(threads), "--queues", "steps", *dramatiq_args]
    sys.exit(dramatiq_main())  # type: ignore[no-untyped-call]
