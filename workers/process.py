"""One App per worker process, built on first use (not at import)."""

from __future__ import annotations

import threading

from sequencer.services.app import App, bootstrap

_app: App | None = None
_lock = threading.Lock()


def process_app() -> App:
    global _app
    with _lock:
        if _app is None:
            _app = bootstrap()
        return _app
