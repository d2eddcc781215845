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
