"""The report's definitions on hand-built data, on SQLite and PostgreSQL alike.

``World`` writes rows straight into the tables (no engine, no clock), so each test
states exactly what happened: which email went out when, what came back, and what
the report must count.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from sequencer.reporting.report import Figures, Report, build_report
from sequencer.reporting.rules import load_rules
from sequencer.store.db import make_engine
from sequencer.store.models import (
    Enrollment,
    Event,
    Mailbox,
    Message,
    Prospect,
    SequenceVersion,
    StepRun,
)

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # a Monday
HOUR = timedelta(hours=1)
SOURCE = "name: {name}\nsteps: []\n"


@dataclass
class World:
    """Hand-built sequencing history, inserted row by row."""

    engine: Engine
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    versions: dict[str, int] = field(default_factory=dict)
    mailboxes: dict[str, int] = field(default_factory=dict)
    prospects: dict[str, int] = field(default_factory=dict)

    def _insert(self, model: type[Any], **values: Any) -> int:
        values.setdefault("id", next(self.ids))
        with self.engine.begin() as connection:
            connection.execute(insert(model), [values])
        return int(values["id"])

    def version(self, name: str, *, tracking: str = "", tag: str = "v1") -> int:
        key = f"{name}@{tag}"
        if key not in self.versions:
            source = SOURCE.format(name=name) + (f"tracking: {tracking}\n" if tracking else "")
            self.versions[key] = self._insert(SequenceVersion, name=name, version=tag,
                                              source=source, created_at=T0 - 30 * 24 * HOUR)
        return self.versions[key]

    def mailbox(self, address: str = "ana@example.com", owner: str = "ana") -> int:
        if address not in self.mailboxes:
            self.mailboxes[address] = self._insert(
                Mailbox, address=address, transport="file:///tmp", owner=owner,
                created_at=T0 - 30 * 24 * HOUR)
        return self.mailboxes[address]

    def prospect(self, email: str, **fields: Any) -> int:
        if email not in self.prospects:
            self.prospects[email] = self._insert(Prospect, email=email, email_key=email.lower(),
                                                 created_at=T0 - 30 * 24 * HOUR, **fields)
        return self.prospects[email]

    def enroll(self, email: str, sequence: str = "cold", *, zone: str = "UTC",
               mailbox: str = "ana@example.com", tag: str = "v1", tracking: str = "",
               **fields: Any) -> int:
        return self._insert(Enrollment, prospect_id=self.prospect(email, **fields),
                            sequence_version_id=self.version(sequence, tracking=tracking, tag=tag),
                            sequence_name=sequence, mailbox_id=self.mailbox(mailbox),
                            status="active", seed=1, timezone=zone, started_at=T0 - HOUR)

    def send(self, enrollment: int, step: str, at: datetime, *, variant: str | None = "a",
             mailbox: str = "ana@example.com", round: int = 1) -> str:
        """An email the server accepted at ``at``; returns its Message-ID."""
        run = self._insert(StepRun, enrollment_id=enrollment, step_id=step, round=round,
                           kind="email", state="sent", claimed_at=at, finished_at=at)
        message_id = f"<{enrollment}.{step}.{round}@test>"
        self._insert(Message, step_run_id=run, enrollment_id=enrollment,
                     mailbox_id=self.mailbox(mailbox), message_id=message_id,
                     to_address=f"p{enrollment}@x.test", subject="s", text_body="b",
                     variant=variant, status="sent", sent_at=at)
        return message_id

    def event(self, kind: str, email: str, at: datetime, *, message_id: str | None = None,
              enrollment: int | None = None, **payload: Any) -> int:
        return self._insert(Event, kind=kind, source_key=f"k{next(self.ids)}",
                            prospect_id=self.prospects[email], enrollment_id=enrollment,
                            message_id=message_id, occurred_at=at, payload=payload)

    def report(self, *by: str, **options: Any) -> Report:
        with self.engine.connect() as connection:
            return build_report(connection, by, rules=load_rules(), now=T0, **options)


@pytest.fixture
def world(database_url: str) -> Any:
    engine = make_engine(database_url)
    yield World(engine)
    engine.dispose()


def rows(report: Report, *key: str) -> dict[tuple[Any, ...], Figures]:
    return {tuple(s.key[k] for k in report.keys): s.figures for s in report.rows}


def test_a_reply_is_attributed_to_the_last_email_delivered_before_it(world: World) -> None:
    e = world.enroll("pat@a.test")
    world.send(e, "intro", T0)
    world.send(e, "bump", T0 + 48 * HOUR)
    world.event("reply", "pat@a.test", T0 + 50 * HOUR)  # matches nothing: by time
    by_step = rows(world.report("step"))
    assert by_step[("cold", "intro")].replied == 0
    assert by_step[("cold", "bump")].replied == 1
    assert by_step[("cold", "intro")].prospects_delivered == 1


def test_a_matched_reply_goes_to_the_email_it_answers(world: World) -> None:
    e = world.enroll("pat@a.test")
    intro = world.send(e, "intro", T0)
    world.send(e, "bump", T0 + 48 * HOUR)
    world.event("reply", "pat@a.test", T0 + 50 * HOUR, message_id=intro, enrollment=e)
    by_step = rows(world.report("step"))
    assert (by_step[("cold", "intro")].replied, by_step[("cold", "bump")].replied) == (1, 0)


def test_auto_replies_bounces_and_unsubscribes_are_not_replies(world: World) -> None:
    e = world.enroll("pat@a.test")
    m = world.send(e, "intro", T0)
    world.event("auto_reply", "pat@a.test", T0 + HOUR, message_id=m, enrollment=e)
    world.event("unsubscribe", "pat@a.test", T0 + 2 * HOUR)
    total = world.report().total
    assert total.replied == 0
    assert total.unsubscribed == 1
    assert total.prospects_delivered == 1


def test_a_bounce_reduces_delivered(world: World) -> None:
    for n in range(4):
        e = world.enroll(f"p{n}@a.test")
        m = world.send(e, "intro", T0)
        if n < 2:
            world.event("hard_bounce" if n == 0 else "soft_bounce", f"p{n}@a.test",
                        T0 + HOUR, message_id=m)
    total = world.report().total
    assert (total.emails_sent, total.emails_bounced, total.emails_delivered) == (4, 2, 2)
    assert total.prospects_delivered == 2
    assert (total.bounce_rate.numerator, total.bounce_rate.denominator) == (2, 4)


def test_a_delay_warning_is_not_a_bounce(world: World) -> None:
    e = world.enroll("pat@a.test")
    m = world.send(e, "intro", T0)
    world.event("soft_bounce", "pat@a.test", T0 + HOUR, message_id=m, delayed=True)
    assert world.report().total.emails_bounced == 0


def test_a_soft_bounced_email_sent_again_counts_as_delivered(world: World) -> None:
    e = world.enroll("pat@a.test")
    m = world.send(e, "intro", T0 + 24 * HOUR)  # sent_at is its latest send
    world.event("soft_bounce", "pat@a.test", T0 + HOUR, message_id=m)  # the first try
    total = world.report().total
    assert (total.emails_bounced, total.prospects_delivered) == (0, 1)


def test_a_reply_after_a_bounce_goes_to_the_last_delivered_email(world: World) -> None:
    e = world.enroll("pat@a.test")
    world.send(e, "intro", T0)
    bump = world.send(e, "bump", T0 + 48 * HOUR)
    world.event("hard_bounce", "pat@a.test", T0 + 49 * HOUR, message_id=bump)
    world.event("reply", "pat@a.test", T0 + 50 * HOUR)
    by_step = rows(world.report("step"))
    assert by_step[("cold", "intro")].replied == 1
    assert by_step[("cold", "bump")].prospects_delivered == 0


def test_a_prospect_with_two_variants_counts_in_each_and_once_in_the_total(world: World
                                                                          ) -> None:
    e = world.enroll("pat@a.test")
    world.send(e, "intro", T0, variant="a")
    world.send(e, "intro", T0 + 48 * HOUR, variant="b", round=2)
    report = world.report("variant")
    by_variant = rows(report)
    assert by_variant[("cold", "intro", "a")].prospects_delivered == 1
    assert by_variant[("cold", "intro", "b")].prospects_delivered == 1
    assert report.total.prospects_delivered == 1
    assert report.total.emails_sent == 2


def test_a_reply_before_any_email_counts_nowhere(world: World) -> None:
    e = world.enroll("pat@a.test")
    world.event("reply", "pat@a.test", T0 - HOUR)
    world.send(e, "intro", T0)
    assert world.report().total.replied == 0


def test_positive_replies_follow_the_rules_and_a_reps_mark_wins(world: World) -> None:
    texts = ["Sure, let's talk next week", "Not interested, thanks", "Who are you?",
             "Ja, gerne!", "INTERESTED"]
    for n, text in enumerate(texts):
        e = world.enroll(f"p{n}@a.test")
        world.send(e, "intro", T0)
        world.event("reply", f"p{n}@a.test", T0 + HOUR, reply_text=text,
                    **({"rep_mark": "negative"} if n == 4 else {}))
    total = world.report().total
    assert (total.replied, total.positive, total.negative) == (5, 2, 2)


def test_meetings_and_time_to_first_reply(world: World) -> None:
    for n, hours in enumerate([2, 4, 30]):
        e = world.enroll(f"p{n}@a.test")
        world.send(e, "intro", T0)
        world.event("reply", f"p{n}@a.test", T0 + hours * HOUR)
        world.event("reply", f"p{n}@a.test", T0 + (hours + 5) * HOUR)  # not the first
    world.event("meeting_booked", "p0@a.test", T0 + 40 * HOUR)
    total = world.report().total
    assert total.meetings == 1
    assert total.median_hours_to_reply == pytest.approx(4.0)


def test_opens_and_clicks_count_only_where_the_sequence_tracks_them(world: World) -> None:
    tracked = world.enroll("pat@a.test", "tracked", tracking="{opens: true, clicks: true}")
    plain = world.enroll("sam@a.test", "plain")
    world.send(tracked, "intro", T0)
    world.send(plain, "intro", T0)
    world.event("open", "pat@a.test", T0 + HOUR, enrollment=tracked, step="intro")
    world.event("open", "sam@a.test", T0 + HOUR, enrollment=plain, step="intro")
    by_sequence = rows(world.report("sequence"))
    assert by_sequence[("tracked",)].open_rate is not None
    assert (by_sequence[("tracked",)].opened, by_sequence[("tracked",)].open_base) == (1, 1)
    assert by_sequence[("plain",)].open_rate is None
    assert by_sequence[("tracked",)].click_rate == by_sequence[("tracked",)].click_rate
    assert by_sequence[("tracked",)].clicked == 0


def test_the_small_base_flag(world: World) -> None:
    for n in range(31):
        e = world.enroll(f"p{n}@a.test", "big" if n < 30 else "small")
        world.send(e, "intro", T0)
    by_sequence = rows(world.report("sequence"))
    assert not by_sequence[("big",)].reply_rate.too_small
    assert by_sequence[("small",)].reply_rate.too_small


def test_sequence_filter_and_since(world: World) -> None:
    a, b = world.enroll("pat@a.test", "one"), world.enroll("sam@a.test", "two")
    world.send(a, "intro", T0)
    world.send(b, "intro", T0)
    world.send(a, "bump", T0 + 72 * HOUR)
    assert world.report(sequence="one").total.emails_sent == 2
    assert world.report(since=T0 + 24 * HOUR).total.emails_sent == 1


def test_segments_owner_mailbox_and_custom_fields(world: World) -> None:
    e1 = world.enroll("pat@a.test", industry="saas", custom={"plan": "pro"}, owner="lee")
    e2 = world.enroll("sam@a.test", industry="retail", custom={"plan": "free"},
                      mailbox="ben@example.com")
    world.send(e1, "intro", T0)
    world.send(e2, "intro", T0, mailbox="ben@example.com")
    assert set(rows(world.report("segment:industry"))) == {("saas",), ("retail",)}
    assert set(rows(world.report("segment:plan"))) == {("pro",), ("free",)}
    assert set(rows(world.report("owner"))) == {("lee",), ("ana",)}
    assert set(rows(world.report("mailbox"))) == {("ana@example.com",), ("ben@example.com",)}


def test_hour_and_weekday_are_the_prospects_local_time_across_dst(world: World) -> None:
    """New York moved to summer time on Sunday 8 March 2026: 09:00 local is 14:00 UTC
    before it and 13:00 UTC after it; both are 09:00 in the report."""
    before = world.enroll("pat@a.test", zone="America/New_York")
    after = world.enroll("sam@a.test", zone="America/New_York")
    paris = world.enroll("eve@a.test", zone="Europe/Paris")
    world.send(before, "intro", datetime(2026, 3, 6, 14, 0, tzinfo=UTC))  # Fri 09:00 EST
    world.send(after, "intro", datetime(2026, 3, 9, 13, 0, tzinfo=UTC))  # Mon 09:00 EDT
    world.send(paris, "intro", datetime(2026, 3, 29, 0, 30, tzinfo=UTC))  # Sun 01:30 CET
    world.send(paris, "bump", datetime(2026, 3, 29, 1, 30, tzinfo=UTC))  # Sun 03:30 CEST
    hours = rows(world.report("hour"))
    assert set(hours) == {(9,), (1,), (3,)}
    assert hours[(9,)].prospects_delivered == 2
    days = rows(world.report("weekday", "hour"))
    assert set(days) == {(4, 9), (0, 9), (6, 1), (6, 3)}


def test_week_by_week(world: World) -> None:
    e = world.enroll("pat@a.test")
    world.send(e, "intro", datetime(2026, 3, 8, 23, 0, tzinfo=UTC))  # a Sunday
    world.send(e, "bump", datetime(2026, 3, 9, 1, 0, tzinfo=UTC))  # the Monday after
    assert set(rows(world.report("week"))) == {("2026-03-02",), ("2026-03-09",)}


def test_versions_are_separate_slices(world: World) -> None:
    a = world.enroll("pat@a.test", tag="v1")
    b = world.enroll("sam@a.test", tag="v2")
    world.send(a, "intro", T0)
    world.send(b, "intro", T0)
    assert set(rows(world.report("version"))) == {("cold", "v1"), ("cold", "v2")}
