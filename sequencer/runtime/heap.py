"""Keeping a long-running command's start-up heap out of the garbage collector's way.

Every full collection walks every object alive: 58 ms each time in the middle of a
worker's sends, and 23 full collections (2.3 s, ~100 ms each) in a 100,000-row
enrollment, against 0.25 s with the start-up heap frozen (bench/throughput.py's
enrollment, timed with ``gc.callbacks``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


def long_lived() -> None:
    """Take what exists now (modules, the app, its caches) out of the garbage collector's
    sight, for a process that keeps it to its end: a worker or the scheduler."""
    gc.freeze()


@contextmanager
def frozen_heap() -> Iterator[None]:
    """``long_lived`` for a piece of bulk work, given back to the collector afterwards (a
    cycle that dies while frozen is not collected until then). Not for a process that
    called ``long_lived``: leaving the block unfreezes everything."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
