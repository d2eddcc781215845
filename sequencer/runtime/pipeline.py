"""A worker process's step pipeline: prepare, send and advance as stages.

Each stage is a thread that takes whatever has queued up since its last pass
(up to ``max_batch``), so batches grow with the load: while one batch is being
sent the next one is being prepared and the previous one advanced (ARCHITECTURE
§8). Preparing runs at most one batch ahead of sending: it waits until the send
stage has taken what it prepared before it takes more, and it builds each message
as its transport will send it (MIME, DKIM): the send lane is the slowest stage (one
message in flight at a time) and is left only the talking. Under load the runs gather
in the intake meanwhile and the next batch is prepared in one transaction, not
in many small ones that each pay the batch's fixed queries.

``run`` is what the Dramatiq actor calls: it returns when the run is done (or
raises what went wrong, so Dramatiq retries the message), so a broker message
is acknowledged only once its run is settled, and a killed worker's messages
go back to Redis. Runs the batch path declines go through the per-run path in
a stage of their own. ``close`` stops the stages once they are idle.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sequencer.render import Renderer
from sequencer.runtime.compose import Prepared
from sequencer.runtime.executor import advance_sent, execute_one, send_prepared
from sequencer.runtime.fastpath import prepare_batch
from sequencer.runtime.handover import built_ahead
from sequencer.runtime.transports import close_all
from sequencer.services.app import App

log = logging.getLogger(__name__)

_STOP: Any = object()


def _locked_lock() -> Any:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass(eq=False)
class Ticket:
    """One run on its way through the stages, and the caller waiting for it.

    The caller waits on a lock that ``finish`` releases: a worker has hundreds of
    callers waiting at once, and a ``threading.Event`` (a condition, a lock and a
    fresh waiter lock each time) cost several times more to wait on and to wake.
    """

    run_id: int
    prepared: Prepared | None = None
    outcome: str | None = None
    error: BaseException | None = None
    finished: bool = False
    _waiting: Any = field(default_factory=_locked_lock)

    def finish(self, outcome: str | None = None, error: BaseException | None = None) -> None:
        self.outcome, self.error, self.finished = outcome, error, True
        self._waiting.release()

    def wait(self) -> None:
        self._waiting.acquire()


Stage = Callable[[list[Ticket]], list[Ticket]]


class Pipeline:
    def __init__(self, app: App, renderer: Renderer | None = None, *,
                 max_batch: int = 500) -> None:
        self._app = app
        self._renderer = renderer or Renderer(app.templates)
        self._max_batch = max_batch
        self._intake: queue.Queue[Ticket] = queue.Queue()
        self._to_send: queue.Queue[Ticket] = queue.Queue()
        self._to_advance: queue.Queue[Ticket] = queue.Queue()
        self._one_by_one: queue.Queue[Ticket] = queue.Queue()  # declined by the batch path
        # The latest prepared batch sizes, for figures (bounded: a worker runs for months).
        self.batches: deque[int] = deque(maxlen=1000)
        stages: list[tuple[str, queue.Queue[Ticket], Stage, tuple[queue.Queue[Ticket], ...],
                           Callable[[], None] | None]] = [
            ("prepare", self._intake, self._prepare, (self._to_send, self._one_by_one),
             self._to_send.join),  # one batch ahead of the send lane at most
            ("send", self._to_send, self._send, (self._to_advance,), None),
            ("advance", self._to_advance, self._advance, (), None),
            ("one-by-one", self._one_by_one, self._execute_each, (), None)]
        self._threads = [threading.Thread(target=self._stage, name=f"steps-{name}",
                                          args=(source, work, sinks, pace), daemon=True)
                         for name, source, work, sinks, pace in stages]
        for thread in self._threads:
            thread.start()

    def run(self, run_id: int) -> str:
        """Execute one claimed run with whatever else is under way; returns what happened."""
        ticket = Ticket(run_id)
        self._intake.put(ticket)
        ticket.wait()
        if ticket.error is not None:
            raise ticket.error
        return ticket.outcome or ""

    def close(self, timeout: float = 60.0) -> None:
        """Let the stages finish what they hold, then stop them."""
        self._intake.put(_STOP)
        for thread in self._threads:
            thread.join(timeout)

    def _stage(self, source: queue.Queue[Any], work: Stage, sinks: tuple[queue.Queue[Any], ...],
               pace: Callable[[], None] | None) -> None:
        while True:
            if pace is not None:
                pace()
            items = self._take(source)
            tickets = [item for item in items if item is not _STOP]
            if tickets:
                try:
                    passed = work(tickets)
                except Exception as exc:  # the callers raise it and Dramatiq retries them
                    log.exception("a batch of %d step runs failed", len(tickets))
                    for ticket in tickets:
                        if not ticket.finished:
                            ticket.finish(error=exc)
                    passed = []
                for ticket in passed:
                    sinks[0].put(ticket)
            if len(tickets) < len(items):
                for sink in sinks:
                    sink.put(_STOP)
                close_all()  # this stage's own transports: a QUIT, not a dropped line
                return

    def _take(self, source: queue.Queue[Any]) -> list[Any]:
        """Whatever has queued up (at least one item, waiting for it; at most a batch)."""
        items = [source.get()]
        while len(items) < self._max_batch:
            try:
                items.append(source.get_nowait())
            except queue.Empty:
                break
        for _ in items:  # taken: what a ``pace`` of ``Queue.join`` waits for
            source.task_done()
        return items

    def _prepare(self, tickets: list[Ticket]) -> list[Ticket]:
        """One transaction for the batch: all of it is prepared, or none."""
        with self._app.sessions.begin() as session:
            batch = prepare_batch(session, self._app, [t.run_id for t in tickets],
                                  self._renderer)
        self.batches.append(len(tickets))
        prepared = {p.run_id: built_ahead(p) for p in batch.prepared}
        declined = set(batch.declined)
        passed = []
        for ticket in tickets:
            if ticket.run_id in prepared:
                ticket.prepared = prepared[ticket.run_id]
                passed.append(ticket)
            elif ticket.run_id in declined:
                self._one_by_one.put(ticket)
            else:
                ticket.finish(batch.done.get(ticket.run_id, "unknown run"))
        return passed

    def _send(self, tickets: list[Ticket]) -> list[Ticket]:
        outcomes: dict[int, str] = {}
        send_prepared(self._app, [t.prepared for t in tickets if t.prepared], outcomes)
        passed = []
        for ticket in tickets:
            outcome = outcomes.get(ticket.run_id, "unknown run")
            if outcome == "sent":
                passed.append(ticket)
            else:
                ticket.finish(outcome)
        return passed

    def _advance(self, tickets: list[Ticket]) -> list[Ticket]:
        """The emails left: their runs are done whether or not the engine hears of it now
        (the sweeper replays an advance that failed; a retry of the message could not)."""
        try:
            advance_sent(self._app, [t.prepared for t in tickets if t.prepared])
        except Exception:
            log.exception("advancing %d sent step runs failed; the sweeper will", len(tickets))
        for ticket in tickets:
            ticket.finish("sent")
        return []

    def _execute_each(self, tickets: list[Ticket]) -> list[Ticket]:
        for ticket in tickets:
            try:
                ticket.finish(execute_one(self._app, ticket.run_id, self._renderer))
            except Exception as exc:
                ticket.finish(error=exc)
        return []
