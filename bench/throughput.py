"""Benchmark: end-to-end email steps per second on PostgreSQL + Redis + an SMTP sink.

Prints, in one run on this machine:
- end-to-end email steps/s with 1 and 2 worker processes (zero waits, always-open
  window), from the first email at the sink to the last (start-up excluded), as a
  ratio to the ceiling: a no-op Dramatiq actor's rate on the same Redis (1 process x
  8 threads), measured just before each run;
- p50/p99 lateness (sent_at minus the time the step was due) with steps falling due
  one after another at half that rate, and peak RSS per worker;
- while the rate is measured, how busy the machine's cores were and with what (the
  workers, the scheduler, PostgreSQL, Redis, this process's SMTP sink, the rest): the
  whole system shares this machine's cores, so a figure is only read right with them;
- each of these ``--repeat`` times, and the run with the median ratio: this machine's
  speed changes from one minute to the next (a fixed pure-Python loop, timed every
  half second on an idle machine, took from 239 to 490 ms within 15 s), so one run
  says little; a reference loop timed before each run is printed with it;
- the claim query's time with 100,000 and 1,000,000 active enrollments;
- bulk enrollment rows per second.

    .venv/bin/python bench/throughput.py [--steps 4000] [--enroll-rows 100000]
        [--claim-sizes 100000,1000000] [--processes 1,2] [--threads 256] [--repeat 3]

Needs PostgreSQL (SEQUENCER_TEST_PG, default root@127.0.0.1/test) and Redis
(redis://127.0.0.1:6379/13). It creates and drops its own database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dramatiq  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402
from dramatiq.brokers.redis import RedisBroker  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from sequencer.clock import SystemClock  # noqa: E402
from sequencer.runtime.heap import frozen_heap  # noqa: E402
from sequencer.services.app import bootstrap  # noqa: E402
from sequencer.services.enroll import enroll_csv  # noqa: E402
from sequencer.services.mailboxes import add_mailbox  # noqa: E402
from sequencer.settings import Settings  # noqa: E402
from sequencer.store.migrate import upgrade  # noqa: E402
from sequencer.store.models import Message, StepRun  # noqa: E402
from tests.integration.smtp_sink import FreePortController  # noqa: E402

ADMIN = os.environ.get("SEQUENCER_TEST_PG", "postgresql://root@127.0.0.1:5432/test")
REDIS = "redis://127.0.0.1:6379/13"
SEQUENCE = """\
name: bench
schedule: {windows: {daily: ["00:00-24:00"]}, holidays: none}
compliance: {unsubscribe_footer: false}
steps:
  - {id: only, type: email, template: bench.j2, subject: "Hello {{ prospect.email }}"}
"""


class CountingSink:
    """Counts what it accepts and when the first and the latest arrived.

    It offers PIPELINING (RFC 2920), as Postfix, Exim and the big providers do.
    """

    def __init__(self) -> None:
        self.count = 0
        self.first = 0.0
        self.last = 0.0

    def reset(self) -> None:
        self.count, self.first, self.last = 0, 0.0, 0.0

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.perf_counter()
        if not self.count:
            self.first = now
        self.count += 1
        self.last = now
        return "250 OK"


def fresh_database(name: str) -> str:
    with psycopg.connect(ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    return url


def noop_ceiling(messages: int) -> float:
    redis.Redis.from_url(REDIS).flushdb()
    broker = RedisBroker(url=REDIS)  # type: ignore[no-untyped-call]
    dramatiq.set_broker(broker)

    @dramatiq.actor(queue_name="noop", broker=broker)
    def noop(i: int) -> None:
        pass

    with broker.client.pipeline() as _:
        for i in range(messages):
            noop.send(i)
    worker = dramatiq.Worker(broker, worker_threads=8)
    began = time.perf_counter()
    worker.start()
    broker.join("noop", timeout=300_000)
    elapsed = time.perf_counter() - began
    worker.stop()
    broker.close()
    return messages / elapsed


def reference_loop_ms() -> float:
    """CPU time of a fixed pure-Python loop: how fast this machine is at the moment."""
    began = time.process_time()
    total = 0
    for i in range(2_000_000):
        total += i * i
    return (time.process_time() - began) * 1000


def workspace(folder: Path) -> None:
    (folder / "templates").mkdir(parents=True, exist_ok=True)
    (folder / "templates" / "bench.j2").write_text("Hello {{ prospect.email }}, one line.\n")
    (folder / "bench.yaml").write_text(SEQUENCE)


def enroll(url: str, folder: Path, rows: int, port: int, prefix: str) -> float:
    app = bootstrap(Settings(database_url=url), clock=SystemClock(),
                    templates=folder / "templates")
    add_mailbox(app, "bench@sender.example", transport=f"smtp://127.0.0.1:{port}?timeout=30",
                daily_cap=10_000_000)
    csv = folder / f"{prefix}.csv"
    csv.write_text("email\n" + "".join(f"{prefix}{i}@x{i % 991}.example\n"
                                       for i in range(rows)))
    began = time.perf_counter()
    with frozen_heap():  # as 'sequencer enroll' does
        summary = enroll_csv(app, folder / "bench.yaml", csv, mailbox="bench@sender.example")
    elapsed = time.perf_counter() - began
    assert summary.enrolled == rows, summary.skipped[:3]
    app.close()
    return rows / elapsed


def end_to_end(url: str, folder: Path, steps: int, processes: int, threads: int, port: int,
               sink: CountingSink) -> dict[str, float]:
    """Two phases on running workers: a backlog of ``steps`` due at once (the rate, from
    the first email to the last, process start-up excluded), then as many steps due
    one after another at half that rate (their lateness)."""
    redis.Redis.from_url(REDIS).flushdb()
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("TRUNCATE step_runs, messages, tasks, events, enrollments, prospects "
                  "RESTART IDENTITY CASCADE")
    enroll(url, folder, steps, port, f"late{processes}-")
    with psycopg.connect(url, autocommit=True) as c:  # parked until the second phase
        c.execute("update enrollments set next_run_at = now() + interval '1 day'")
    enroll(url, folder, steps, port, f"rate{processes}-")
    with psycopg.connect(url, autocommit=True) as c:  # as autovacuum would, before long
        c.execute("analyze")
    env = {**os.environ, "SEQUENCER_DATABASE_URL": url, "SEQUENCER_REDIS_URL": REDIS}
    workers = [subprocess.Popen([sys.executable, "-m", "workers.run", "--threads", str(threads)],
                                env=env, cwd=folder, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True) for _ in range(processes)]
    for worker in workers:  # ready: connected to Redis and waiting
        assert worker.stdout is not None and "ready" in worker.stdout.readline()
    sink.reset()
    scheduler = subprocess.Popen([sys.executable, "-m", "sequencer.cli.main", "scheduler",
                                  "--poll", "0.02"], env=env, cwd=folder,
                                 stderr=subprocess.DEVNULL)
    groups = {"workers": {w.pid for w in workers}, "scheduler": {scheduler.pid},
              "sink": {os.getpid()}}
    wait_for(sink, 1)  # from the first email: the scheduler's start-up is not the rate's
    before = machine_cpu(groups)
    wait_for(sink, steps)
    after = machine_cpu(groups)
    rate = (sink.count - 1) / (sink.last - sink.first)
    spent = {group: after.get(group, 0.0) - before.get(group, 0.0) for group in after}
    worker_ms = spent["workers"] / (sink.count - 1) * 1e3
    scheduler_ms = spent["scheduler"] / (sink.count - 1) * 1e3
    cores = {group: seconds / (sink.last - sink.first) for group, seconds in spent.items()}
    sink.reset()
    with psycopg.connect(url, autocommit=True) as c:  # now due one after another at rate / 2
        c.execute("""
            update enrollments e set next_run_at = s.due, due_at = s.due
            from (select id, now() + interval '1 second'
                         + (row_number() over (order by id)) * %s * interval '1 second' as due
                  from enrollments where next_run_at > now() + interval '1 hour') s
            where e.id = s.id""", (2 / rate,))
    wait_for(sink, steps)
    rss = [peak_rss_mb(w.pid) for w in workers]
    children: list[subprocess.Popen[Any]] = [*workers, scheduler]
    for process in children:
        process.terminate()
    for process in children:
        process.wait(timeout=60)
    lateness = lateness_seconds(url, f"late{processes}-%")
    return {"steps_per_s": rate, "p50": statistics.median(lateness),
            "p99": sorted(lateness)[int(0.99 * (len(lateness) - 1))], "rss": max(rss),
            "worker_ms": worker_ms, "scheduler_ms": scheduler_ms, "cores": cores}


def wait_for(sink: CountingSink, count: int, limit: float = 600) -> None:
    began = time.perf_counter()
    pause = threading.Event()
    while sink.count < count:
        if time.perf_counter() - began > limit:
            raise SystemExit(f"only {sink.count} of {count} emails arrived in {limit:.0f} s")
        pause.wait(0.02)


def machine_cpu(groups: dict[str, set[int]]) -> dict[str, float]:
    """CPU seconds used so far by every process on the machine, summed by group: the
    ``groups`` named by pid, then PostgreSQL, Redis and everything else by name."""
    used: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:  # gone meanwhile
            continue
        pid, name = int(entry.name), head.split("(", 1)[1]
        group = next((g for g, pids in groups.items() if pid in pids), None) or (
            "PostgreSQL" if name.startswith("postgres") else
            "Redis" if name.startswith("redis") else "other")
        fields = tail.split()
        used[group] = used.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return used


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def lateness_seconds(url: str, addresses: str) -> list[float]:
    """Sent minus due, for the emails to these addresses (a LIKE pattern)."""
    app = bootstrap(Settings(database_url=url))
    with app.sessions() as session:
        rows = session.execute(select(Message.sent_at, StepRun.scheduled_for).join(
            StepRun, StepRun.id == Message.step_run_id).where(
            Message.status == "sent", Message.to_address.like(addresses))).all()
    app.close()
    return [(sent - due).total_seconds() for sent, due in rows if sent and due]


def claim_time(url: str, total: int) -> float:
    """Median time of the claim query with ``total`` open enrollments, 1,000 of them due."""
    with psycopg.connect(url, autocommit=True) as c:
        have = c.execute("select count(*) from enrollments").fetchone()[0]  # type: ignore[index]
        if have < total:
            c.execute("""
                insert into prospects (email, email_key, custom, do_not_contact, created_at)
                select 'c' || g || '@claim.example', 'c' || g || '@claim.example', '{}', false,
                       now() from generate_series(%s, %s) g""", (have + 1, total))
            c.execute("""
                insert into enrollments (prospect_id, sequence_version_id, sequence_name,
                    mailbox_id, status, current_step, next_run_at, due_at, soft_bounces, seed,
                    timezone, memory, started_at, row_version)
                select p.id, 1, 'bench', 1, 'active', 'only',
                       now() + interval '30 days', now(), 0, p.id, 'UTC', '{}', now(), 1
                from prospects p where p.email like 'c%@claim.example'
                  and not exists (select 1 from enrollments e where e.prospect_id = p.id)""")
            # The same 1,000 due at every size, spread over the table: one in 1,000 of
            # the rows was due before, so the larger size claimed 500 rows and the
            # smaller only 100, and the query looked as if it grew with the total.
            c.execute("update enrollments set next_run_at = now() + interval '30 days' "
                      "where next_run_at <= now()")
            c.execute("""
                update enrollments set next_run_at = now() - interval '1 hour'
                where id in (select id from enrollments where status = 'active'
                             order by random() limit 1000)""")
            c.execute("analyze enrollments")
    app = bootstrap(Settings(database_url=url))
    timings = []
    for _ in range(7):
        with app.engine.connect() as connection:
            began = time.perf_counter()
            connection.execute(text(
                "select id from enrollments where next_run_at <= now() order by next_run_at "
                "limit 500 for update skip locked")).all()
            timings.append(time.perf_counter() - began)
            connection.rollback()
    app.close()
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--enroll-rows", type=int, default=100_000)
    parser.add_argument("--claim-sizes", default="100000,1000000")
    parser.add_argument("--processes", default="1,2", help="worker processes to try")
    parser.add_argument("--threads", type=int, default=256,
                        help="worker threads per process (they share batches)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per number of processes, each after its own ceiling")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    url = fresh_database("sequencer_bench")
    sink = CountingSink()
    controller = FreePortController(sink, hostname="127.0.0.1", port=0)
    controller.start()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        workspace(folder)
        rate = enroll(url, folder, args.enroll_rows, controller.port, "bulk")
        print(f"bulk enrollment ({args.enroll_rows:,} rows): {rate:,.0f} rows/s")
        for processes in (int(n) for n in args.processes.split(",")):
            print(f"end to end, {processes} worker process(es) x {args.threads} threads, "
                  f"{args.steps:,} steps:")
            runs = []
            for attempt in range(1, args.repeat + 1):
                speed = reference_loop_ms()
                ceiling = noop_ceiling(20_000)
                r = end_to_end(url, folder, args.steps, processes, args.threads,
                               controller.port, sink)
                r["ratio"] = r["steps_per_s"] / ceiling
                runs.append(r)
                print(f"  run {attempt}: {r['steps_per_s']:,.0f} steps/s = {r['ratio']:.1%} of "
                      f"the no-op ceiling ({ceiling:,.0f} messages/s); at half that rate, "
                      f"lateness p50 {r['p50']:.2f} s, p99 {r['p99']:.2f} s; peak RSS per "
                      f"worker {r['rss']:.0f} MB; CPU per step: workers "
                      f"{r['worker_ms']:.2f} ms, scheduler {r['scheduler_ms']:.2f} ms; "
                      f"reference loop {speed:.0f} ms")
                busy = r["cores"]
                print(f"    cores busy while it ran: {sum(busy.values()):.2f} of "
                      f"{os.cpu_count()} (" + ", ".join(
                          f"{group} {value:.2f}" for group, value in
                          sorted(busy.items(), key=lambda item: -item[1])) + ")")
            median = sorted(runs, key=lambda run: run["ratio"])[(len(runs) - 1) // 2]
            ratios = ", ".join(f"{run['ratio']:.1%}" for run in runs)
            print(f"  median of {len(runs)}: {median['steps_per_s']:,.0f} steps/s = "
                  f"{median['ratio']:.1%} of the no-op ceiling, lateness p99 "
                  f"{median['p99']:.2f} s (worst run {max(r['p99'] for r in runs):.2f} s); "
                  f"ratios {ratios}")
        for size in (int(s) for s in args.claim_sizes.split(",")):
            print(f"claim query (500 due rows, FOR UPDATE SKIP LOCKED) with {size:,} open "
                  f"enrollments: {claim_time(url, size):.1f} ms")
    controller.stop()
    with psycopg.connect(ADMIN, autocommit=True) as connection:
        connection.execute('DROP DATABASE IF EXISTS "sequencer_bench" WITH (FORCE)')


if __name__ == "__main__":
    del timedelta, func  # imported for readers extending the figures
    main()
