"""SQLite and PostgreSQL give the same numbers, breakdown by breakdown.

The same history (zones on both sides of a DST change, two variants, bounces, a
delay warning, matched and unmatched replies, rule-marked and rep-marked replies,
opens on a tracked sequence, custom fields) goes into both databases; every
breakdown's JSON must then be identical.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from sequencer.reporting.formats import as_json
from sequencer.store.db import make_engine
from sequencer.store.migrate import upgrade
from sequencer.store.models import Base
from tests.integration.test_reporting import HOUR, T0, World

BREAKDOWNS = [(), ("sequence",), ("version",), ("variant",), ("mailbox",), ("owner",),
              ("segment:industry",), ("segment:plan",), ("segment:country",), ("hour",),
              ("weekday", "hour"), ("week",), ("variant", "segment:industry")]
ZONES = ("America/New_York", "Europe/Paris", "Asia/Tokyo", "Australia/Sydney", "UTC")
TEXTS = ("Let's talk Tuesday", "not interested", "who is this", "gerne", None)


def build(world: World, seed: int = 7) -> None:
    rnd = random.Random(seed)
    for n in range(150):
        email = f"p{n}@c{n % 9}.test"
        sequence = "cold" if n % 3 else "warm"
        e = world.enroll(email, sequence, zone=ZONES[n % len(ZONES)],
                         tracking="{opens: true, clicks: true}" if sequence == "cold" else "",
                         mailbox=f"rep{n % 3}@example.com", industry=("saas", "retail")[n % 2],
                         custom={"plan": ("free", "pro", "team")[n % 3]}, country="FR",
                         owner="lee" if n % 4 == 0 else None)
        start = T0 + timedelta(days=rnd.randint(0, 20), minutes=rnd.randint(0, 1440))
        for i, step in enumerate(("intro", "bump")):
            at = start + timedelta(days=3 * i)
            m = world.send(e, step, at, variant="ab"[n % 2] if i == 0 else "a",
                           mailbox=f"rep{n % 3}@example.com")
            roll = rnd.random()
            if roll < 0.05:
                world.event("soft_bounce" if n % 2 else "hard_bounce", email, at + HOUR,
                            message_id=m)
            elif roll < 0.08:
                world.event("soft_bounce", email, at + HOUR, message_id=m, delayed=True)
            elif roll < 0.25:
                matched = {"message_id": m, "enrollment": e} if n % 3 else {}
                extra = {"rep_mark": "positive"} if n % 11 == 0 else {}
                world.event("reply", email, at + rnd.randint(1, 60) * HOUR,
                            reply_text=TEXTS[n % len(TEXTS)], **matched, **extra)
            elif roll < 0.3:
                world.event("auto_reply", email, at + HOUR, message_id=m)
            if sequence == "cold" and rnd.random() < 0.4:
                world.event("click" if n % 5 == 0 else "open", email, at + 2 * HOUR,
                            enrollment=e, step=step)
        if n % 13 == 0:
            world.event("meeting_booked", email, start + timedelta(days=5))
        if n % 17 == 0:
            world.event("unsubscribe", email, start + timedelta(days=4))


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[World]:
    url = f"sqlite:///{tmp_path / 'compare.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield World(engine)
    engine.dispose()


@pytest.fixture
def postgres_world(postgres_database: str) -> Iterator[World]:
    engine = make_engine(postgres_database)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield World(engine)
    engine.dispose()


def test_sqlite_and_postgresql_give_the_same_numbers(sqlite_world: World,
                                                     postgres_world: World) -> None:
    build(sqlite_world)
    build(postgres_world)
    for by in BREAKDOWNS:
        light, heavy = (as_json(w.report(*by)) for w in (sqlite_world, postgres_world))
        for data in (light, heavy):
            data.pop("generated_at")
        assert json.dumps(light, sort_keys=True) == json.dumps(heavy, sort_keys=True), by
    assert as_json(sqlite_world.report())["total"]["counts"]["replied"] > 10
