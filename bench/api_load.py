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
gives the maximum rate.

    .venv/bin/python bench/api_load.py [--enrollments 1000000] [--rate 200]
        [--seconds 20] [--workers 2] [--keep]

Needs PostgreSQL (SEQUENCER_TEST_PG, default root@127.0.0.1/test).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
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
       SELECT p.id, :version, :sequence, 1 + (p.id % :reps), 'active', 'intro',
              now() + ((p.id % 720) * interval '1 hour'), now(), 0, p.id,
              'America/New_York', 'US', '{}', now(), 1
       FROM prospects p WHERE p.email_key LIKE 'p%@load.example'""",
    """INSERT INTO step_runs (enrollment_id, step_id, round, kind, state, scheduled_for,
         claimed_at, attempts)
       SELECT e.id, 'call', 1, 'call', 'waiting', now(), now(), 0
       FROM enrollments e WHERE e.id % (:n / :tasks) = 0""",
    """INSERT INTO tasks (step_run_id, enrollment_id, kind, step_id, due_at, state,
         instructions)
       SELECT r.id, r.enrollment_id, 'call', 'call',
              date_trunc('day', now()) + ((r.enrollment_id % 61) - 30) * interval '1 day'
                + (r.enrollment_id % 10) * interval '1 hour',
              'open', 'Call about the intro email'
       FROM step_runs r WHERE r.step_id = 'call'""",
]


def fresh_database() -> str:
    with psycopg.connect(ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{NAME}"')
    url = ADMIN.rsplit("/", 1)[0] + f"/{NAME}"
    upgrade(url)
    return url


def fill(url: str, folder: Path, enrollments: int, tasks: int) -> tuple[str, str]:
    """The data, and a write token for rep0 and the mailbox it sends from."""
    app = bootstrap(Settings(database_url=url))
    try:
        for rep in range(REPS):
            add_mailbox(app, f"rep{rep}@sender.example", transport=f"file://{folder}/out",
                        daily_cap=500, owner=f"rep{rep}", timezone="America/New_York")
        with app.sessions.begin() as session:
            version, definition = publish(session, app, SEQUENCE)
            version_id, sequence = version.id, definition.name
        _, token = create_token(app, "load", scope="write", owner="rep1",
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
            cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=log)
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


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)  # seconds, from when due
    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0

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
                f"errors {sum(self.errors.values())} {self.errors or ''}{verdict}")


Request = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


async def open_loop(base: str, token: str, request: Request, rate: float, seconds: float,
                    offset: int) -> Figures:
    figures = Figures()
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits,
                                 timeout=30) as client:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.05
        total = int(rate * seconds)

        async def one(i: int) -> None:
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - loop.time()))
            try:
                answer = await request(client, offset + i)
                if answer.status_code >= 400:
                    key = str(answer.status_code)
                    figures.errors[key] = figures.errors.get(key, 0) + 1
                    return
            except httpx.HTTPError as exc:
                figures.errors[type(exc).__name__] = figures.errors.get(type(exc).__name__, 0) + 1
                return
            figures.latencies.append(loop.time() - due)

        await asyncio.gather(*(one(i) for i in range(total)))
        figures.elapsed = loop.time() - start
    return figures


async def closed_loop(base: str, token: str, request: Request, clients: int, seconds: float,
                      offset: int) -> Figures:
    figures = Figures()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        loop = asyncio.get_running_loop()
        start = loop.time()
        counter = iter(range(offset, offset + 10_000_000))

        async def worker() -> None:
            while loop.time() - start < seconds:
                began = loop.time()
                answer = await request(client, next(counter))
                if answer.status_code >= 400:
                    key = str(answer.status_code)
                    figures.errors[key] = figures.errors.get(key, 0) + 1
                else:
                    figures.latencies.append(loop.time() - began)

        await asyncio.gather(*(worker() for _ in range(clients)))
        figures.elapsed = loop.time() - start
    return figures


def scenarios(sequence: str) -> dict[str, Request]:
    def enroll(client: httpx.AsyncClient, i: int) -> Awaitable[httpx.Response]:
        return client.post("/v1/enrollments", json={
            "sequence": sequence, "mailbox": "rep1@sender.example",
            "prospects": [{"email": f"new{i}@fresh.example", "first_name": "New",
                           "company": "Fresh", "timezone": "Europe/Paris",
                           "country": "FR"}]})

    def tasks(client: httpx.AsyncClient, i: int) -> Awaitable[httpx.Response]:
        return client.get("/v1/tasks", params={"assignee": "me", "due": "today"})

    return {"enroll one prospect (POST /v1/enrollments)": enroll,
            "a rep's tasks due today (GET /v1/tasks)": tasks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--enrollments", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16,
                        help="clients of the closed-loop (maximum rate) run")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = fresh_database()
        began = time.perf_counter()
        print(f"filling {args.enrollments:,} enrollments and {args.tasks:,} tasks ...",
              flush=True)
        token, sequence = fill(url, folder, args.enrollments, args.tasks)
        print(f"filled in {time.perf_counter() - began:.0f} s")
        process, base = serve(url, args.workers, folder)
        try:
            offset = 0
            for label, request in scenarios(sequence).items():
                asyncio.run(open_loop(base, token, request, args.rate, 3, offset))  # warm-up
                offset += 100_000
                figures = asyncio.run(open_loop(base, token, request, args.rate,
                                                args.seconds, offset))
                offset += 100_000
                print(figures.line(f"{label}, {args.workers} workers", args.rate), flush=True)
                most = asyncio.run(closed_loop(base, token, request, args.concurrency,
                                               min(10.0, args.seconds), offset))
                offset += 100_000
                print(most.line(f"{label}, maximum ({args.concurrency} clients)", None),
                      flush=True)
        finally:
            process.terminate()
            process.wait(timeout=30)
    if not args.keep:
        with psycopg.connect(ADMIN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')


if __name__ == "__main__":
    main()
