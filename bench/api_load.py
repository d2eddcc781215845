"""Benchmark: the HTTP API under load, on PostgreSQL with 1,000,000 enrollments.

Fills a fresh database (created here, dropped at the end unless --keep) with
1,000,000 prospects each enrolled in a sequence, 50 reps owning a mailbox each and
50,000 open call tasks spread over two months; starts `sequencer api` (uvicorn,
--workers processes, no access log) and drives it open-loop at a fixed arrival rate
(requests leave on schedule whether or not earlier ones have answered, so a slow
server cannot hide its queue: latency runs from when a request was due to leave).

Two scenarios, each --seconds long after a warm-up:
- enroll one new prospect: ``POST /v1/enrollments`` with one prospect;
- a rep's tasks due today: ``GET /v1/tasks?assignee=me&due=today``.

Prints the rate offered and achieved, p50/p90/p99/max latency and errors per
scenario; the goal is p99 under 50 ms at 200 requests per second. A closed-loop run
(--concurrency clients, each sending its next request as soon as the last answers)
gives the maximum rate. Each run also prints the CPU time spent per answer by the
API's processes and by the PostgreSQL backends serving them (from /proc): the figure
that contention from other work on the machine disturbs least.

    .venv/bin/python bench/api_load.py [--enrollments 1000000] [--rate 200]
        [--seconds 20] [--workers 2] [--keep] [--reuse] [--only enroll|tasks]

--keep keeps the filled database; --reuse then starts from it (no refill) when it
holds the same number of enrollments.

Needs PostgreSQL (SEQUENCER_TEST_PG, default root@127.0.0.1/test).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from sequencer.services.api_tokens import create_token  # noqa: E402
from sequencer.services.app import bootstrap  # noqa: E402
from sequencer.services.mailboxes import add_mailbox  # noqa: E402
from sequencer.services.sequences import publish  # noqa: E402
from sequencer.settings import Settings  # noqa: E402
from sequencer.store.migrate import upgrade  # noqa: E402

ADMIN = os.environ.get("SEQUENCER_TEST_PG", "postgresql://root@127.0.0.1:5432/test")
NAME = "sequencer_bench_api"
GOAL_P99_MS = 50.0
REPS = 50
SEQUENCE = ROOT / "sequences" / "cold-outbound.yaml"

# Everything derives from the row number, so two runs build the same data.
FILL = [
    """INSERT INTO prospects (email, email_key, first_name, company, timezone, country,
         custom, do_not_contact, created_at)
       SELECT 'p' || g || '@load.example', 'p' || g || '@load.example', 'P' || g,
              'Company ' || (g % 20000), 'America/New_York', 'US', '{}', false, now()
       FROM generate_series(1, :n) g""",
    """INSERT INTO enrollments (prospect_id, sequence_version_id, sequence_name, mailbox_id,
         status, current_step, next_run_at, due_at, soft_bounces, seed, timezone, country,
         memory, started_at, row_version)
       SELECT p.id, :version, :sequence, 1 + ((p.id / 20) % :reps), 'active', 'intro',
              now() + ((p.id % 720) * interval '1 hour'), now(), 0, p.id,
              'America/New_York', 'US', '{}', now(), 1
       FROM prospects p WHERE p.email_key LIKE 'p%@load.example'""",
    """INSERT INTO step_runs (enrollment_id, step_id, round, kind, state, scheduled_for,
         claimed_at, attempts)
       SELECT e.id, 'call', 1, 'call', 'waiting', now(), now(), 0
       FROM enrollments e WHERE e.id % (:n / :tasks) = 0""",
    """INSERT INTO tasks (step_run_id, enrollment_id, kind, step_id, due_at, state,
         instructions, assignee)
       SELECT r.id, r.enrollment_id, 'call', 'call',
              date_trunc('day', now()) + ((r.enrollment_id % 61) - 30) * interval '1 day'
                + (r.enrollment_id % 10) * interval '1 hour',
              'open', 'Call about the intro email', 'rep' || (e.mailbox_id - 1)
       FROM step_runs r JOIN enrollments e ON e.id = r.enrollment_id
       WHERE r.step_id = 'call'""",
]


def kept_database(enrollments: int) -> str | None:
    """The URL of the database a --keep run left, when it holds ``enrollments``."""
    url = ADMIN.rsplit("/", 1)[0] + f"/{NAME}"
    try:
        with psycopg.connect(url) as connection:
            found = connection.execute("SELECT count(*) FROM prospects "
                                       "WHERE email_key LIKE 'p%@load.example'").fetchone()
    except psycopg.Error:
        return None
    return url if found is not None and found[0] == enrollments else None


def fresh_database() -> str:
    with psycopg.connect(ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{NAME}"')
    url = ADMIN.rsplit("/", 1)[0] + f"/{NAME}"
    upgrade(url)
    return url


def fill(url: str, folder: Path, enrollments: int, tasks: int) -> tuple[str, str]:
    """The data, and a write token for rep0: each rep owns 1/50 of the open tasks
    (1,000 of 50,000), half of them overdue: a rep with a backlog."""
    app = bootstrap(Settings(database_url=url))
    try:
        for rep in range(REPS):
            add_mailbox(app, f"rep{rep}@sender.example", transport=f"file://{folder}/out",
                        daily_cap=500, owner=f"rep{rep}", timezone="America/New_York")
        with app.sessions.begin() as session:
            version, definition = publish(session, app, SEQUENCE)
            version_id, sequence = version.id, definition.name
        _, token = create_token(app, "load", scope="write", owner="rep0",
                                rate_per_minute=1_000_000)
    finally:
        app.close()
    sizes = {"n": enrollments, "tasks": tasks, "reps": REPS, "version": version_id}
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("SET session_replication_role = replica")
        for statement in FILL:
            sql = statement.replace(":sequence", f"'{sequence}'")
            for name, value in sizes.items():
                sql = sql.replace(f":{name}", str(value))
            began = time.perf_counter()
            connection.execute(sql)  # type: ignore[arg-type]
            print(f"  {sql.split()[2]:<12} {time.perf_counter() - began:6.1f} s", flush=True)
        connection.execute("VACUUM ANALYZE")
    return token, sequence


def token_for_kept(url: str) -> tuple[str, str]:
    """A new write token for rep0 on a kept database, and its sequence's name."""
    app = bootstrap(Settings(database_url=url))
    try:
        _, token = create_token(app, "load", scope="write", owner="rep0",
                                rate_per_minute=1_000_000)
    finally:
        app.close()
    with psycopg.connect(url) as connection:
        found = connection.execute("SELECT name FROM sequence_versions ORDER BY id LIMIT 1"
                                   ).fetchone()
    assert found is not None, "a kept database has its sequence"
    return token, str(found[0])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(url: str, workers: int, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "SEQUENCER_DATABASE_URL": url,
           "SEQUENCER_SECRET_KEYS": "bench-secret-0123456789abcdef"}
    with open(folder / "api.log", "wb") as log:  # the child keeps its own copy
        process = subprocess.Popen(
            [sys.executable, "-m", "sequencer.cli.main", "api", "--port", str(port),
             "--workers", str(workers), "--no-access-log"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)  # its templates/
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)  # start-up polling in the bench harness, not in a test
    process.kill()
    raise SystemExit(f"the API did not start: see {folder / 'api.log'}")


TICKS = os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent by the API's processes (the server and its workers) and by the
    PostgreSQL backends connected to the bench's database, read from /proc; and how many
    connections the server opened meanwhile. A backend that ends during the run takes its
    CPU time with it: "db" is then too low, and "connections opened" says so."""

    def __init__(self, server: int, url: str) -> None:
        self.server, self.url = server, url
        self.start = self._read()
        self.sessions = self._sessions()

    def _sessions(self) -> int:
        with psycopg.connect(self.url) as connection:
            found = connection.execute("SELECT sessions FROM pg_stat_database "
                                       "WHERE datname = current_database()").fetchone()
        return int(found[0]) if found else 0

    def _read(self) -> dict[int, tuple[str, float]]:
        found: dict[int, tuple[str, float]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as handle:
                    stat = handle.read().rsplit(b")", 1)[1].split()
                with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                    command = handle.read()
            except OSError:
                continue
            pid, parent = int(entry.name), int(stat[1])
            cpu = (int(stat[11]) + int(stat[12])) / TICKS  # utime + stime
            if pid == self.server or parent == self.server:
                found[pid] = ("api", cpu)
            elif command.startswith(b"postgres: ") and NAME.encode() in command:
                found[pid] = ("db", cpu)
        return found

    def spent(self) -> tuple[dict[str, float], int]:
        """CPU seconds since this meter started, by "api" and "db"; connections opened
        (less the meter's own)."""
        totals = {"api": 0.0, "db": 0.0}
        for pid, (kind, cpu) in self._read().items():
            totals[kind] += cpu - self.start.get(pid, (kind, 0.0))[1]
        return totals, self._sessions() - self.sessions - 1


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)  # seconds, from when due
    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # seconds, by "api" and "db"
    opened: int = 0  # PostgreSQL connections the server opened during the run

    def line(self, label: str, offered: float | None) -> str:
        done = len(self.latencies)
        if not done:
            return f"{label}: no answers; errors {self.errors}"
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        achieved = done / self.elapsed if self.elapsed else 0.0
        offer = f"offered {offered:.0f}/s, " if offered else ""
        verdict = ""
        if offered:
            verdict = "  [goal met]" if cuts[98] * 1000 < GOAL_P99_MS and not self.errors \
                else "  [goal NOT met]"
        return (f"{label}: {offer}achieved {achieved:.0f}/s, {done} answers; latency ms "
                f"p50 {cuts[49] * 1000:.1f}, p90 {cuts[89] * 1000:.1f}, "
                f"p99 {cuts[98] * 1000:.1f}, max {max(self.latencies) * 1000:.1f}; "
                f"errors {sum(self.errors.values())} {self.errors or ''}{verdict}"
                + self.cpu_note(done))

    def cpu_note(self, done: int) -> str:
        if not self.cpu:
            return ""
        return ("; CPU ms per answer: " + ", ".join(
            f"{kind} {seconds * 1000 / done:.2f}" for kind, seconds in self.cpu.items())
            + f"; PostgreSQL connections opened: {self.opened}")


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str
    body: bytes = b""


Request = Callable[[int], Call]


class Connection:
    """One keep-alive HTTP/1.1 connection, spoken by hand: a load generator must cost
    far less than the server it measures (httpx's pool does not, at hundreds a second)."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.head = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, call: Call) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        extra = (f"Content-Type: application/json\r\nContent-Length: {len(call.body)}\r\n"
                 if call.body else "")
        self.writer.write(f"{call.method} {call.path} HTTP/1.1\r\n{self.head}{extra}\r\n"
                          .encode() + call.body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status


async def drive(base: str, token: str, request: Request, *, seconds: float, offset: int,
                rate: float | None, connections: int) -> Figures:
    """``rate`` set: open loop (request i is due at start + i/rate, latency counts from
    then); None: closed loop (each connection sends again as soon as it is answered)."""
    host, port = base.removeprefix("http://").split(":")
    figures = Figures()
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    total = int(rate * seconds) if rate else None
    numbers = iter(range(10**9))

    async def worker() -> None:
        connection = Connection(host, int(port), token)
        while True:
            i = next(numbers)
            if total is not None and i >= total:
                return
            if rate:
                due = start + i / rate
                await asyncio.sleep(max(0.0, due - loop.time()))
            else:
                due = loop.time()
                if due - start >= seconds:
                    return
            try:
                status = await connection.send(request(offset + i))
            except (OSError, asyncio.IncompleteReadError) as exc:
                name = type(exc).__name__
                figures.errors[name] = figures.errors.get(name, 0) + 1
                connection = Connection(host, int(port), token)
                continue
            if status >= 400:
                figures.errors[str(status)] = figures.errors.get(str(status), 0) + 1
            else:
                figures.latencies.append(loop.time() - due)

    await asyncio.gather(*(worker() for _ in range(connections)))
    figures.elapsed = loop.time() - start
    return figures


def scenarios(sequence: str, tag: str) -> dict[str, Request]:
    """The two requests; ``tag`` keeps each run's new prospects new on a kept database."""
    def enroll(i: int) -> Call:
        return Call("POST", "/v1/enrollments", json.dumps({
            "sequence": sequence, "mailbox": "rep0@sender.example",
            "prospects": [{"email": f"new{i}.{tag}@fresh.example", "first_name": "New",
                           "company": "Fresh", "timezone": "Europe/Paris",
                           "country": "FR"}]}).encode())

    def tasks(_i: int) -> Call:
        return Call("GET", "/v1/tasks?assignee=me&due=today")

    return {"enroll": enroll, "tasks": tasks}


LABELS = {"enroll": "enroll one prospect (POST /v1/enrollments)",
          "tasks": "a rep's tasks due today (GET /v1/tasks)"}


def measured(process: subprocess.Popen[bytes], url: str, base: str, token: str,
             request: Request, *, seconds: float, offset: int, rate: float | None,
             connections: int) -> Figures:
    meter = CpuMeter(process.pid, url)
    figures = asyncio.run(drive(base, token, request, seconds=seconds, offset=offset,
                                rate=rate, connections=connections))
    figures.cpu, figures.opened = meter.spent()
    return figures


def run_scenarios(args: argparse.Namespace, process: subprocess.Popen[bytes], url: str,
                  base: str, token: str, sequence: str) -> None:
    offset = 0
    for name, request in scenarios(sequence, f"{time.time_ns():x}").items():
        if args.only and name != args.only:
            continue
        label = LABELS[name]
        asyncio.run(drive(base, token, request, seconds=3, offset=offset,  # warm-up
                          rate=args.rate, connections=args.connections))
        offset += 100_000
        figures = measured(process, url, base, token, request, seconds=args.seconds,
                           offset=offset, rate=args.rate, connections=args.connections)
        offset += 100_000
        print(figures.line(f"{label}, {args.workers} workers", args.rate), flush=True)
        if args.no_maximum:
            continue
        most = measured(process, url, base, token, request, seconds=min(10.0, args.seconds),
                        offset=offset, rate=None, connections=args.concurrency)
        offset += 100_000
        print(most.line(f"{label}, maximum ({args.concurrency} clients)", None), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--enrollments", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64,
                        help="keep-alive connections of the open-loop run")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="connections of the closed-loop (maximum rate) run")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--reuse", action="store_true",
                        help="start from a kept database of the same size (no refill)")
    parser.add_argument("--only", choices=sorted(LABELS), help="run one scenario")
    parser.add_argument("--no-maximum", action="store_true",
                        help="skip the closed-loop (maximum rate) runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = kept_database(args.enrollments) if args.reuse else None
        if url is not None:
            print(f"reusing the kept database of {args.enrollments:,} enrollments")
            token, sequence = token_for_kept(url)
        else:
            url = fresh_database()
            began = time.perf_counter()
            print(f"filling {args.enrollments:,} enrollments and {args.tasks:,} tasks ...",
                  flush=True)
            token, sequence = fill(url, folder, args.enrollments, args.tasks)
            print(f"filled in {time.perf_counter() - began:.0f} s")
        process, base = serve(url, args.workers, folder)
        try:
            run_scenarios(args, process, url, base, token, sequence)
        finally:
            process.terminate()
            process.wait(timeout=30)
    if not args.keep:
        with psycopg.connect(ADMIN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')


if __name__ == "__main__":
    main()
