"""Redis restarted mid-run, with persistence off: nothing is lost, nothing is doubled.

The test starts its own redis-server on a free port and stops it by its own pid,
never touching the machine's shared Redis.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest

from sequencer.clock import SystemClock
from sequencer.services.enroll import enroll_csv
from sequencer.services.mailboxes import add_mailbox
from tests.conftest import _truncate_postgres
from tests.integration.helpers import make_app, write_csv
from tests.integration.processes import spawn, stop_gracefully
from tests.integration.test_faults import SEQUENCE, Sink, _wait_until_settled, sink

pytestmark = pytest.mark.integration
STEPS = 600
__all__ = ["sink"]  # the SMTP sink fixture, shared with the fault drill


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_redis(port: int, folder: Path) -> subprocess.Popen[bytes]:
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is needed for the restart test", pytrace=False)
        pytest.skip("redis-server is not installed")
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            process.poll()
            if process.returncode is not None:
                break
            time.sleep(0.05)  # waiting for a server we just started to listen
    process.kill()
    pytest.fail("our redis-server did not start")


def test_redis_killed_and_restarted_empty_mid_run_loses_and_doubles_nothing(
    postgres_database: str, sink: tuple[Sink, int], tmp_path: Path
) -> None:
    handler, smtp_port = sink
    _truncate_postgres(postgres_database)
    port = free_port()
    redis_process = start_redis(port, tmp_path)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "drill.j2").write_text("Hello {{ prospect.email }}\n", "utf-8")
    (tmp_path / "drill.yaml").write_text(SEQUENCE, "utf-8")
    app, _ = make_app(postgres_database, SystemClock().now())
    app.templates = tmp_path / "templates"
    add_mailbox(app, "drill@sender.example",
                transport=f"smtp://127.0.0.1:{smtp_port}?timeout=10", daily_cap=1_000_000)
    enroll_csv(app, tmp_path / "drill.yaml",
               write_csv(tmp_path / "p.csv", "email", *[f"r{i}@x.example" for i in range(STEPS)]),
               mailbox="drill@sender.example")
    app.close()
    env = {**os.environ, "SEQUENCER_DATABASE_URL": postgres_database,
           "SEQUENCER_REDIS_URL": f"redis://127.0.0.1:{port}/0",
           "SEQUENCER_STUCK_CLAIM_SECONDS": "5", "SEQUENCER_STUCK_SENDING_SECONDS": "5"}
    scheduler = spawn(["-m", "sequencer.cli.main", "scheduler", "--poll", "0.2"], env, tmp_path)
    worker = spawn(["-m", "workers.run", "--threads", "8"], env, tmp_path)
    began = time.monotonic()
    try:
        assert handler.wait_for(STEPS // 4, began + 120), "nothing was sent before the restart"
        redis_process.send_signal(signal.SIGKILL)  # our own instance, by its own pid
        redis_process.wait()
        redis_process = start_redis(port, tmp_path)  # back, and empty: persistence is off
        states = _wait_until_settled(postgres_database, began + 240, STEPS)
    finally:
        stop_gracefully(worker, scheduler)
        redis_process.kill()
        redis_process.wait()
    duplicates, settled = tally("redis restart", handler, states, began)
    assert duplicates == 0
    assert settled == STEPS, states
    assert states.get("sent", 0) == STEPS


def tally(what: str, handler: Sink, states: dict[str, int], began: float) -> tuple[int, int]:
    """Print the drill's figures; returns (duplicates at the sink, steps settled)."""
    received = Counter(handler.keys)
    duplicates = sum(n - 1 for n in received.values() if n > 1)
    settled = sum(states.get(s, 0) for s in ("sent", "uncertain", "skipped"))
    print(f"\n{what}: {STEPS} steps, {len(handler.keys)} at the sink, {duplicates} "
          f"duplicates, {STEPS - settled} lost, {states.get('uncertain', 0)} uncertain, "
          f"{time.monotonic() - began:.0f} s")
    return duplicates, settled


def postgres_binaries() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL's server binaries are needed for the restart test",
                        pytrace=False)
        pytest.skip("PostgreSQL's server binaries are not installed")
    return found[-1].parent


class OwnPostgres:
    """A PostgreSQL server of the test's own: its own data folder, port and pid.

    Run as the ``postgres`` system user (the server refuses root); the machine's
    shared server is never touched.
    """

    def __init__(self) -> None:
        self.bin = postgres_binaries()
        # Not under pytest's tmp_path: the postgres user may not enter root's folders.
        self.folder = Path(tempfile.mkdtemp(prefix="sequencer-pg-"))
        shutil.chown(self.folder, "postgres")
        self.data = self.folder / "data"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        subprocess.run([self.bin / "initdb", "-D", str(self.data), "--auth=trust",
                        "--username=root", "-E", "UTF8"], check=True, user="postgres",
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @property
    def url(self) -> str:
        return f"postgresql://root@127.0.0.1:{self.port}/drill"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.bin / "postgres", "-D", str(self.data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.data}",
             "-c", "fsync=on"], user="postgres", stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = subprocess.run([self.bin / "pg_isready", "-h", "127.0.0.1", "-p",
                                    str(self.port)], stdout=subprocess.DEVNULL)
            if ready.returncode == 0:
                return
            time.sleep(0.1)  # waiting for a server we just started to accept connections
        self.process.kill()
        pytest.fail("our PostgreSQL did not start")

    def crash(self) -> None:
        """Immediate shutdown (SIGQUIT): no checkpoint, recovery from the WAL on restart."""
        assert self.process is not None
        self.process.send_signal(signal.SIGQUIT)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            self.process.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)


def test_postgres_crashed_and_restarted_mid_run_loses_and_doubles_nothing(
    redis_url: str, sink: tuple[Sink, int], tmp_path: Path
) -> None:
    import psycopg
    import redis

    from sequencer.store.migrate import upgrade

    handler, smtp_port = sink
    server = OwnPostgres()
    server.start()
    try:
        with psycopg.connect(server.url.rsplit("/", 1)[0] + "/postgres",
                             autocommit=True) as connection:
            connection.execute("CREATE DATABASE drill")
        upgrade(server.url)
        redis.Redis.from_url(redis_url).flushdb()
        (tmp_path / "templates").mkdir()
        (tmp_path / "templates" / "drill.j2").write_text("Hello {{ prospect.email }}\n")
        (tmp_path / "drill.yaml").write_text(SEQUENCE, "utf-8")
        app, _ = make_app(server.url, SystemClock().now())
        app.templates = tmp_path / "templates"
        add_mailbox(app, "drill@sender.example",
                    transport=f"smtp://127.0.0.1:{smtp_port}?timeout=10", daily_cap=1_000_000)
        enroll_csv(app, tmp_path / "drill.yaml",
                   write_csv(tmp_path / "p.csv", "email",
                             *[f"q{i}@x.example" for i in range(STEPS)]),
                   mailbox="drill@sender.example")
        app.close()
        env = {**os.environ, "SEQUENCER_DATABASE_URL": server.url,
               "SEQUENCER_REDIS_URL": redis_url,
               "SEQUENCER_STUCK_CLAIM_SECONDS": "5", "SEQUENCER_STUCK_SENDING_SECONDS": "5"}
        scheduler = spawn(["-m", "sequencer.cli.main", "scheduler", "--poll", "0.2",
                           "--sweep-every", "1"], env, tmp_path)
        worker = spawn(["-m", "workers.run", "--threads", "8"], env, tmp_path)
        began = time.monotonic()
        try:
            assert handler.wait_for(STEPS // 4, began + 120), "nothing sent before the crash"
            server.crash()  # our own instance, by its own pid
            server.start()
            states = _wait_until_settled(server.url, began + 240, STEPS)
        finally:
            stop_gracefully(worker, scheduler)
    finally:
        server.stop()
    duplicates, settled = tally("postgres crash and restart", handler, states, began)
    assert duplicates == 0
    assert settled == STEPS, states
    assert states.get("uncertain", 0) <= 1  # at most the one message in flight
    assert states.get("sent", 0) + states.get("uncertain", 0) >= len(set(handler.keys))
