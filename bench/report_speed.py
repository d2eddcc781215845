"""Benchmark: how long `sequencer report` takes over a million emails on PostgreSQL.

Fills a fresh database (created here, dropped at the end) with realistic history,
server-side with multi-row ``INSERT ... SELECT generate_series`` statements:
200,000 prospects, 300,000 enrollments in 4 sequences (2 versions each, 4 email
steps, an A/B test on the first), 20 mailboxes and 8 owners, 1,000,000 emails,
100,000 replies (15% matched to no email, so attributed by time), 30,000
auto-replies, 20,000 bounces, 5,000 unsubscribes, 10,000 meetings and 230,000
opens and clicks. Then it times, and prints:

- the first report, which builds the ``report_sends`` rollup from nothing;
- each breakdown with the rollup up to date (median of --repeat runs; the goal is
  under 2 seconds for sequence x step x variant), the refresh included;
- a report after 1,000 new replies and 10,000 new emails (the incremental refresh);
- the whole HTML page.

    .venv/bin/python bench/report_speed.py [--messages 1000000] [--repeat 5] [--keep]

Needs PostgreSQL (SEQUENCER_TEST_PG, default root@127.0.0.1/test).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from sequencer.clock import FakeClock  # noqa: E402
from sequencer.reporting.html import render_html  # noqa: E402
from sequencer.reporting.page import page_reports  # noqa: E402
from sequencer.reporting.report import build_report  # noqa: E402
from sequencer.services.app import bootstrap  # noqa: E402
from sequencer.settings import Settings  # noqa: E402
from sequencer.store.db import make_engine  # noqa: E402
from sequencer.store.migrate import upgrade  # noqa: E402

ADMIN = os.environ.get("SEQUENCER_TEST_PG", "postgresql://root@127.0.0.1:5432/test")
NAME = "sequencer_bench_report"
GOAL_SECONDS = 2.0
NOW = datetime(2026, 6, 1, tzinfo=UTC)
BREAKDOWNS: list[tuple[str, ...]] = [
    ("sequence", "step", "variant"), ("sequence",), ("version",), ("step",), ("variant",),
    ("mailbox",), ("owner",), ("segment:industry",), ("segment:plan",), ("hour",),
    ("weekday",), ("weekday", "hour"), ("week",), (),
]

# Each statement fills one table; :n is the number of emails. Everything derives from
# the row number with hashing arithmetic, so two runs build the same data.
FILL = [
    """INSERT INTO mailboxes (id, address, transport, daily_cap, min_spacing_seconds,
         timezone, owner, paused, created_at)
       SELECT i, 'rep' || i || '@sender.test', 'smtp://127.0.0.1:25', 300, 0, 'UTC',
              'owner' || (i % 8), false, '2026-01-01'
       FROM generate_series(1, 20) i""",
    """INSERT INTO sequence_versions (id, name, version, source, created_at)
       SELECT i, 'seq-' || ((i - 1) / 2), 'v' || ((i - 1) % 2),
              'name: seq-' || ((i - 1) / 2) || E'\\nsteps: []\\n'
              || CASE WHEN i <= 4 THEN E'tracking: {opens: true, clicks: true}\\n' ELSE '' END,
              '2026-01-01'
       FROM generate_series(1, 8) i""",
    """INSERT INTO prospects (id, email, email_key, title, industry, country, timezone,
         custom, owner, do_not_contact, created_at)
       SELECT i, 'p' || i || '@corp' || (i % 5000) || '.test',
              'p' || i || '@corp' || (i % 5000) || '.test',
              (ARRAY['CEO','CTO','VP Sales','Head of Growth','Engineer'])[1 + i % 5],
              (ARRAY['saas','retail','finance','health','media','industry'])[1 + (i / 7) % 6],
              (ARRAY['US','GB','DE','FR','NL','JP'])[1 + (i / 3) % 6],
              (ARRAY['America/New_York','America/Los_Angeles','Europe/London',
                     'Europe/Berlin','Europe/Paris','Europe/Amsterdam','Asia/Tokyo',
                     'Australia/Sydney'])[1 + i % 8],
              jsonb_build_object('plan', (ARRAY['free','pro','team'])[1 + (i / 11) % 3],
                                 'seats', (i % 50)),
              'owner' || (i % 8), false, '2026-01-01'
       FROM generate_series(1, :prospects) i""",
    """INSERT INTO enrollments (id, prospect_id, sequence_version_id, sequence_name,
         mailbox_id, status, soft_bounces, seed, timezone, started_at, row_version, memory)
       SELECT i, 1 + (i - 1) % :prospects, 1 + (i % 4) * 2 + (i / 13) % 2,
              'seq-' || (i % 4), 1 + i % 20, 'finished', 0, i,
              (ARRAY['America/New_York','America/Los_Angeles','Europe/London',
                     'Europe/Berlin','Europe/Paris','Europe/Amsterdam','Asia/Tokyo',
                     'Australia/Sydney'])[1 + (1 + (i - 1) % :prospects) % 8],
              timestamptz '2026-01-05 00:00+00' + ((i::bigint * 7919) % 120) * interval '1 day',
              1, '{}'
       FROM generate_series(1, :enrollments) i""",
    """INSERT INTO step_runs (id, enrollment_id, step_id, round, kind, state, claimed_at,
         attempts)
       SELECT n, 1 + (n - 1) % :enrollments,
              (ARRAY['intro','bump','value','breakup'])[1 + (n - 1) / :enrollments],
              1, 'email', 'sent', '2026-01-01', 1
       FROM generate_series(1, :n) n""",
    """INSERT INTO messages (id, step_run_id, enrollment_id, mailbox_id, message_id,
         to_address, subject, text_body, variant, status, sent_at)
       SELECT n, n, e.id, e.mailbox_id, '<' || n || '@bench.test>', 'p@x.test', 'Hello',
              'Body', CASE WHEN (n - 1) / :enrollments = 0
                           THEN (ARRAY['a','b'])[1 + (n * 31) % 2] ELSE 'a' END,
              'sent',
              e.started_at + ((n - 1) / :enrollments) * interval '3 days'
                           + ((n::bigint * 37) % 600) * interval '1 minute' + interval '13 hours'
       FROM generate_series(1, :n) n JOIN enrollments e ON e.id = 1 + (n - 1) % :enrollments""",
    # Replies: 85% matched to the email they answer, 15% matched to nothing.
    """INSERT INTO events (kind, source_key, prospect_id, enrollment_id, message_id,
         mailbox_id, occurred_at, payload)
       SELECT 'reply', 'reply:' || r, e.prospect_id,
              CASE WHEN r % 20 < 17 THEN e.id END,
              CASE WHEN r % 20 < 17 THEN m.message_id ELSE '<unknown' || r || '@x>' END,
              m.mailbox_id, m.sent_at + ((r::bigint * 13) % 96 + 1) * interval '1 hour',
              jsonb_build_object('source', 'bench', 'reply_text',
                (ARRAY['Sure, let''s talk next week', 'Not interested, thanks',
                       'Who gave you my address?', 'Send me times for Thursday',
                       'Ja, gerne', 'Please remove me', 'Maybe next quarter',
                       'Interesting, tell me more about pricing'])[1 + (r / 7) % 8])
       FROM generate_series(1, :replies) r
       JOIN messages m ON m.id = 1 + ((r::bigint * 7) % :n)
       JOIN enrollments e ON e.id = m.enrollment_id""",
    """INSERT INTO events (kind, source_key, prospect_id, enrollment_id, message_id,
         mailbox_id, occurred_at, payload)
       SELECT (ARRAY['auto_reply','hard_bounce','soft_bounce','unsubscribe',
                     'meeting_booked'])[k],
              'other:' || k || ':' || x, e.prospect_id,
              CASE WHEN k <= 3 THEN e.id END, CASE WHEN k <= 3 THEN m.message_id END,
              m.mailbox_id, m.sent_at + ((x % 48) + 1) * interval '1 hour', '{}'::jsonb
       FROM (VALUES (1, 30000), (2, 12000), (3, 8000), (4, 5000), (5, 10000)) AS c(k, cnt)
       CROSS JOIN LATERAL generate_series(1, c.cnt) x
       JOIN messages m ON m.id = 1 + ((x::bigint * 7919 + k * 104729) % :n)
       JOIN enrollments e ON e.id = m.enrollment_id""",
    """INSERT INTO events (kind, source_key, prospect_id, enrollment_id, message_id,
         mailbox_id, occurred_at, payload)
       SELECT CASE WHEN x % 7 = 0 THEN 'click' ELSE 'open' END, 'engage:' || x,
              e.prospect_id, e.id, NULL, m.mailbox_id, m.sent_at + interval '2 hours',
              jsonb_build_object('step', sr.step_id)
       FROM generate_series(1, :opens) x
       JOIN messages m ON m.id = 1 + ((x::bigint * 15485863) % :n)
       JOIN step_runs sr ON sr.id = m.step_run_id
       JOIN enrollments e ON e.id = m.enrollment_id
       WHERE e.sequence_version_id <= 4""",
]


def fresh_database() -> str:
    with psycopg.connect(ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{NAME}"')
    url = ADMIN.rsplit("/", 1)[0] + f"/{NAME}"
    upgrade(url)
    return url


def drop_database() -> None:
    with psycopg.connect(ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')


def fill(url: str, messages: int) -> float:
    sizes = {"n": messages, "enrollments": max(4, messages * 3 // 10),
             "prospects": max(4, messages // 5), "replies": messages // 10,
             "opens": messages * 23 // 100}
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as connection:
        # Bulk loading: skip the foreign-key triggers (the generated rows are consistent).
        connection.execute("SET session_replication_role = replica")
        for statement in FILL:
            sql = statement
            for name, value in sizes.items():
                sql = sql.replace(f":{name}", str(value))
            began = time.perf_counter()
            connection.execute(sql)  # type: ignore[arg-type]
            table = sql.split()[2]
            print(f"  {table:<18} {time.perf_counter() - began:6.1f} s", flush=True)
        connection.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


# New activity after the first report: 10,000 emails (a fifth step for the first
# enrollments) and 1,000 replies to them.
MORE = [
    """INSERT INTO step_runs (id, enrollment_id, step_id, round, kind, state, claimed_at,
         attempts)
       SELECT :n + k, k, 'extra', 1, 'email', 'sent', '2026-05-01', 1
       FROM generate_series(1, 10000) k""",
    """INSERT INTO messages (id, step_run_id, enrollment_id, mailbox_id, message_id,
         to_address, subject, text_body, variant, status, sent_at)
       SELECT :n + k, :n + k, e.id, e.mailbox_id, '<more' || k || '@bench.test>', 'p@x.test',
              'Hello', 'Body', 'a', 'sent', now()
       FROM generate_series(1, 10000) k JOIN enrollments e ON e.id = k""",
    """INSERT INTO events (kind, source_key, prospect_id, enrollment_id, message_id,
         mailbox_id, occurred_at, payload)
       SELECT 'reply', 'more-reply:' || k, e.prospect_id, e.id, '<more' || k || '@bench.test>',
              e.mailbox_id, now() + (k % 60) * interval '1 minute',
              jsonb_build_object('reply_text', 'Sounds good, send me times')
       FROM generate_series(1, 10000, 10) k JOIN enrollments e ON e.id = k""",
]


def run_sql(url: str, statements: list[str], sizes: dict[str, int]) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        for statement in statements:
            sql = statement
            for name, value in sizes.items():
                sql = sql.replace(f":{name}", str(value))
            connection.execute(sql)  # type: ignore[arg-type]


def first_report(url: str) -> float:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            started = time.perf_counter()
            build_report(connection, ("sequence",), now=NOW, with_total=False)
            return time.perf_counter() - started
    finally:
        engine.dispose()


def timed(url: str, by: tuple[str, ...], repeat: int) -> tuple[float, int]:
    engine = make_engine(url)
    times, slices = [], 0
    try:
        for _ in range(repeat):
            with engine.connect() as connection:
                started = time.perf_counter()
                report = build_report(connection, by, now=NOW, with_total=False)
                times.append(time.perf_counter() - started)
                slices = len(report.rows)
    finally:
        engine.dispose()
    return statistics.median(times), slices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="Do not drop the database.")
    args = parser.parse_args()
    url = fresh_database()
    try:
        print(f"filled {args.messages:,} emails in {fill(url, args.messages):.1f} s")
        print(f"first report (builds the rollup): {first_report(url):.1f} s")
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE report_sends")  # as autovacuum would
        print(f"{'breakdown':<28} {'median':>9} {'slices':>7}")
        results = {}
        for by in BREAKDOWNS:
            seconds, slices = timed(url, by, args.repeat)
            results[by] = seconds
            name = " x ".join(by) or "(total)"
            print(f"{name:<28} {seconds * 1000:>7.0f} ms {slices:>7}")
        run_sql(url, MORE, {"n": args.messages})
        seconds, _ = timed(url, ("sequence", "step", "variant"), 1)
        print(f"{'after 10,000 emails + 1,000 replies (refresh + report)':<28} "
              f"{seconds * 1000:>7.0f} ms")
        app = bootstrap(Settings(database_url=url), clock=FakeClock(NOW))
        started = time.perf_counter()
        html = render_html(page_reports(app))
        app.close()
        print(f"{'HTML page (all sections)':<28} {(time.perf_counter() - started) * 1000:>7.0f} ms"
              f" {len(html) // 1024:>5} KB")
        main_seconds = results[("sequence", "step", "variant")]
        verdict = "met" if main_seconds < GOAL_SECONDS else "MISSED"
        print(f"goal: sequence x step x variant under {GOAL_SECONDS:.0f} s: {verdict} "
              f"({main_seconds:.2f} s, median of {args.repeat})")
    finally:
        if not args.keep:
            drop_database()


if __name__ == "__main__":
    main()
