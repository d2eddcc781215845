"""Real scheduler and worker processes for the integration tests: started with their
output in a log file of their own, stopped the way an operator stops them."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path


def log_of(args: list[str], cwd: Path) -> Path:
    """Where ``spawn`` writes a command's output: named after its module and subcommand."""
    return cwd / f"{'-'.join(a for a in args[1:3] if not a.startswith('-'))}.log"


def spawn(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """Start ``python ARGS``; its output goes to ``log_of(args, cwd)``, appended."""
    with log_of(args, cwd).open("ab") as log:  # the child keeps its own copy
        return subprocess.Popen([sys.executable, *args], env=env, cwd=cwd, stdout=log,
                                stderr=log)


def stop_gracefully(*processes: subprocess.Popen[bytes],
                    timeout: float = 40.0) -> list[subprocess.Popen[bytes]]:
    """SIGTERM each process and give it time to finish what it holds; those that hang
    are killed, and returned."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    killed = []
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            killed.append(process)
    return killed
