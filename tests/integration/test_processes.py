"""The long-running commands as real processes: `sequencer run` sends, and stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.integration.helpers import write_csv
from tests.integration.processes import log_of, spawn, stop_gracefully

pytestmark = pytest.mark.integration
SEQUENCE = """\
name: now
schedule: {windows: {daily: ["00:00-24:00"]}, holidays: none}
steps:
  - {id: hello, type: email, template: hello.j2, subject: "Hello {{ prospect.email }}"}
"""


def sequencer(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sequencer.cli.main", *args], env=env,
                          cwd=cwd, capture_output=True, text=True, timeout=120, check=True)


def test_sequencer_run_sends_what_is_due_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "hello.j2").write_text("Hello {{ prospect.email }}\n", "utf-8")
    (tmp_path / "now.yaml").write_text(SEQUENCE, "utf-8")
    write_csv(tmp_path / "p.csv", "email", *[f"p{i}@x.example" for i in range(5)])
    env = {**os.environ, "SEQUENCER_DATABASE_URL": f"sqlite:///{tmp_path / 'seq.db'}"}
    env.pop("SEQUENCER_REDIS_URL", None)
    outbox = tmp_path / "outbox"
    sequencer("db", "upgrade", env=env, cwd=tmp_path)
    sequencer("mailbox", "add", "me@sender.example", "--transport", f"file://{outbox}",
              "--daily-cap", "50", env=env, cwd=tmp_path)
    enrolled = sequencer("enroll", "now.yaml", "p.csv", "--mailbox", "me@sender.example",
                         env=env, cwd=tmp_path)
    assert "5 enrolled" in enrolled.stdout
    process = subprocess.Popen([sys.executable, "-m", "sequencer.cli.main", "run", "--poll",
                                "0.2"], env=env, cwd=tmp_path, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 60
    pause = threading.Event()
    while len(list(outbox.glob("*.eml"))) < 5 and time.monotonic() < deadline:
        pause.wait(0.1)  # a real process on the real clock: poll with a deadline
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "finishing the step in hand, then stopping" in stderr
    assert len(list(outbox.glob("*.eml"))) == 5
    status = sequencer("status", "--json", env=env, cwd=tmp_path)
    assert '"finished": 5' in status.stdout and '"sent": 5' in status.stdout


def test_production_processes_stop_cleanly_mid_run_and_finish_on_restart(
    postgres_database: str, redis_url: str, tmp_path: Path
) -> None:
    """SIGTERM to `sequencer worker` and `sequencer scheduler` in the middle of a run:
    both exit cleanly, no step is left half-done, and after a restart every email
    goes out exactly once."""
    import redis

    from tests.conftest import _truncate_postgres

    _truncate_postgres(postgres_database)
    redis.Redis.from_url(redis_url).flushdb()
    count = 2000  # long enough that the stop always lands mid-run
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "hello.j2").write_text("Hello {{ prospect.email }}\n", "utf-8")
    (tmp_path / "now.yaml").write_text(SEQUENCE, "utf-8")
    write_csv(tmp_path / "p.csv", "email", *[f"w{i}@x.example" for i in range(count)])
    env = {**os.environ, "SEQUENCER_DATABASE_URL": postgres_database,
           "SEQUENCER_REDIS_URL": redis_url}
    outbox = tmp_path / "outbox"
    sequencer("mailbox", "add", "me@sender.example", "--transport", f"file://{outbox}",
              "--daily-cap", "5000", env=env, cwd=tmp_path)
    sequencer("enroll", "now.yaml", "p.csv", "--mailbox", "me@sender.example", env=env,
              cwd=tmp_path)

    commands = [["-m", "sequencer.cli.main", "worker", "--processes", "1", "--threads", "8"],
                ["-m", "sequencer.cli.main", "scheduler", "--poll", "0.2"]]

    def start() -> list[subprocess.Popen[bytes]]:
        return [spawn(command, env, tmp_path) for command in commands]

    def stop(processes: list[subprocess.Popen[bytes]]) -> None:
        hung = stop_gracefully(*processes, timeout=60)
        assert not hung, f"{[p.args for p in hung]} did not stop within 60 s of SIGTERM"
        for process, command in zip(processes, commands, strict=True):
            assert process.returncode == 0, log_of(command, tmp_path).read_text()

    def sent() -> int:
        return len(list(outbox.glob("*.eml")))

    def wait_until(enough: int) -> None:
        deadline = time.monotonic() + 120
        pause = threading.Event()
        while sent() < enough and time.monotonic() < deadline:
            pause.wait(0.05)  # real processes on the real clock: poll with a deadline

    processes = start()
    try:
        wait_until(1)
        stop(processes)
        status = sequencer("status", "--json", env=env, cwd=tmp_path).stdout
        assert '"sending"' not in status and '"ready"' not in status, status  # none half-done
        assert sent() < count, "the run was over before the stop: make it longer"
        processes = start()
        wait_until(count)
        stop(processes)
    finally:  # a failure must not leave a worker behind to take later tests' messages
        stop_gracefully(*processes)
    recipients = [p.read_text().split("\nTo: ", 1)[1].split("\n", 1)[0]
                  for p in outbox.glob("*.eml")]
    # Everything a failure needs to be understood (it found the messages a stop stranded).
    status = sequencer("status", "--json", env=env, cwd=tmp_path).stdout
    logs = "\n".join(log_of(command, tmp_path).read_text()[-3000:] for command in commands)
    assert len(recipients) == len(set(recipients)) == count, (
        f"{len(recipients)} sent, {len(set(recipients))} distinct, of {count}\n"
        f"status: {status}\nlogs of both runs (worker, then scheduler):\n{logs}")
