"""A worker process stops on SIGTERM whichever of its threads the kernel hands it to."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The signal goes to a thread other than the main one (pthread_kill), once the main
# thread is blocked waiting: the case a plain Event.wait() never noticed.
PROGRAM = textwrap.dedent("""
    import signal, threading, time
    from workers.run import wait_for

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def elsewhere():
        time.sleep(0.3)
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    threading.Thread(target=elsewhere).start()
    wait_for(stop, tick=0.1)
    print("stopped", flush=True)
""")


def test_sigterm_taken_by_another_thread_still_stops_the_worker() -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True,
                          text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stopped"
