"""One App and one step pipeline per worker process, built on first use (not at import)."""

from __future__ import annotations

import threading

from sequencer.runtime.heap import long_lived
from sequencer.runtime.pipeline import Pipeline
from sequencer.services.app import App, bootstrap

_app: App | None = None
_pipeline: Pipeline | None = None
_lock = threading.Lock()


def process_app() -> App:
    global _app
    with _lock:
        if _app is None:
            _app = bootstrap()
        return _app


def process_pipeline() -> Pipeline:
    """The process's prepare/send/advance pipeline the actor feeds."""
    global _pipeline
    app = process_app()
    with _lock:
        if _pipeline is None:
            _pipeline = Pipeline(app)
            long_lived()
        return _pipeline


def close_pipeline(timeout: float = 60.0) -> None:
    """Stop the pipeline's stages (on SIGTERM, once the actors have returned)."""
    with _lock:
        pipeline = _pipeline
    if pipeline is not None:
        pipeline.close(timeout)
