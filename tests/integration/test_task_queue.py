"""The rep's queue (sequencer.services.task_queue): whose task it is, pages, and the rep's
local day, on tasks the real engine created."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from sequencer.clock import FakeClock
from sequencer.errors import InputError
from sequencer.runtime.embedded import drain
from sequencer.services.actions import complete_task
from sequencer.services.app import App
from sequencer.services.enroll import enroll_csv
from sequencer.services.mailboxes import add_mailbox
from sequencer.services.task_queue import get_task, rep_day, rep_zone, task_page
from sequencer.store.models import Mailbox, Task
from tests.integration.helpers import COLD, MONDAY, make_app, write_csv

pytestmark = pytest.mark.integration

HEADER = "email,first_name,last_name,company,phone,timezone,country"
ANN = "ann@acme.example,Ann,Lee,Acme,+1 555 0100,America/New_York,US"
BEA = "bea@globex.example,Béa,,Globex,,Europe/Paris,FR"


def seed_call_tasks(app: App, clock: FakeClock, tmp_path: Path, owner: str = "rita") -> None:
    """Ann and Béa in cold-outbound from a New York mailbox owned by ``owner``, run until
    both call-1 tasks are open (Béa's due Wed 25 Nov 07:04 UTC, Ann's 13:18 UTC)."""
    add_mailbox(app, "ana@sender.example", transport=f"file://{tmp_path / 'out'}",
                daily_cap=100, timezone="America/New_York")
    with app.sessions.begin() as session:
        session.execute(update(Mailbox).values(owner=owner or None))
    enroll_csv(app, COLD, write_csv(tmp_path / "p.csv", HEADER, ANN, BEA),
               mailbox="ana@sender.example")
    drain(app, clock, until=MONDAY + timedelta(days=3))


@pytest.fixture
def queue(database_url: str, tmp_path: Path) -> Iterator[tuple[App, FakeClock]]:
    app, clock = make_app(database_url)
    seed_call_tasks(app, clock, tmp_path)
    yield app, clock
    app.close()


def test_tasks_are_assigned_to_their_mailboxs_owner(
        queue: tuple[App, FakeClock]) -> None:
    app, _ = queue

    tasks = task_page(app, assignee="rita")

    assert [(t.kind, t.step, t.prospect_email, t.assignee) for t in tasks] == [
        ("call", "call-1", "bea@globex.example", "rita"),
        ("call", "call-1", "ann@acme.example", "rita")]
    ann = tasks[1]
    assert (ann.prospect_name, ann.company, ann.phone, ann.prospect_timezone) == (
        "Ann Lee", "Acme", "+1 555 0100", "America/New_York")
    assert ann.sequence == "cold-outbound" and ann.enrollment_status == "active"
    assert ann.instructions and "outbound tooling" in ann.instructions
    assert task_page(app, assignee="sam") == []


def test_a_mailbox_given_an_owner_later_hands_them_its_open_tasks(
        database_url: str, tmp_path: Path) -> None:
    app, clock = make_app(database_url)
    seed_call_tasks(app, clock, tmp_path, owner="")  # nobody owns the mailbox yet
    assert task_page(app, assignee="rita") == []
    assert [t.assignee for t in task_page(app)] == [None, None]

    add_mailbox(app, "ana@sender.example", transport=f"file://{tmp_path / 'out'}",
                daily_cap=100, timezone="America/New_York", owner="rita")

    assert [t.prospect_email for t in task_page(app, assignee="rita")] == [
        "bea@globex.example", "ann@acme.example"]
    app.close()


def test_an_explicit_assignee_wins_over_the_mailbox_owner(queue: tuple[App, FakeClock]) -> None:
    app, _ = queue
    first = task_page(app)[0]
    with app.sessions.begin() as session:
        session.execute(update(Task).where(Task.id == first.id).values(assignee="sam"))

    assert [t.id for t in task_page(app, assignee="sam")] == [first.id]
    assert first.id not in [t.id for t in task_page(app, assignee="rita")]


def test_pages_by_id_and_filters_by_state_kind_and_due_time(queue: tuple[App, FakeClock]) -> None:
    app, _ = queue
    every = task_page(app)
    first, second = every

    assert task_page(app, limit=1) == [first]
    assert task_page(app, after_id=first.id, limit=1) == [second]
    assert task_page(app, kind="linkedin_connect") == []
    assert task_page(app, due_from=datetime(2026, 11, 25, 12, tzinfo=UTC)) == [second]
    assert task_page(app, due_until=datetime(2026, 11, 25, 12, tzinfo=UTC)) == [first]

    complete_task(app, first.id, "voicemail", "left a message")

    assert task_page(app) == [second]
    done = task_page(app, state="done")
    assert [(t.id, t.outcome, t.notes) for t in done] == [(first.id, "voicemail",
                                                          "left a message")]
    assert done[0].completed_at is not None
    assert {t.id for t in task_page(app, state=None)} == {first.id, second.id}


def test_refuses_unknown_states_and_naive_datetimes(queue: tuple[App, FakeClock]) -> None:
    app, _ = queue
    with pytest.raises(InputError, match="state"):
        task_page(app, state="closed")
    with pytest.raises(InputError, match=r"due_from: .* has no time zone"):
        task_page(app, due_from=datetime(2026, 11, 25))


def test_get_task(queue: tuple[App, FakeClock]) -> None:
    app, _ = queue
    first = task_page(app)[0]
    assert get_task(app, first.id) == first
    assert get_task(app, 10_000) is None


def test_a_reps_zone_is_their_mailboxes_and_utc_without_one(
        queue: tuple[App, FakeClock]) -> None:
    app, _ = queue
    assert rep_zone(app, "rita") == ZoneInfo("America/New_York")
    assert rep_zone(app, "nobody") == ZoneInfo("UTC")


def test_a_reps_day_ends_at_their_local_midnight_and_keeps_what_is_overdue(
        queue: tuple[App, FakeClock]) -> None:
    app, _ = queue
    bea, ann = task_page(app)
    with app.sessions.begin() as session:  # Ann's call goes to Sam, who owns no mailbox: UTC
        session.execute(update(Task).where(Task.id == ann.id).values(assignee="sam"))
    late_tuesday_in_new_york = datetime(2026, 11, 25, 4, 30, tzinfo=UTC)  # 23:30 in NY

    assert rep_day(app, "rita", now=late_tuesday_in_new_york) == []
    assert [t.id for t in rep_day(app, "sam", now=late_tuesday_in_new_york)] == [ann.id]
    assert [t.id for t in rep_day(app, "rita", now=datetime(2026, 11, 25, 6, tzinfo=UTC))
            ] == [bea.id]
    a_week_later = datetime(2026, 12, 2, 12, tzinfo=UTC)
    assert [t.id for t in rep_day(app, "rita", now=a_week_later)] == [bea.id]  # overdue
    complete_task(app, bea.id, "skipped")
    assert rep_day(app, "rita", now=a_week_later) == []
