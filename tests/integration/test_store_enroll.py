"""The store and bulk enrollment, on SQLite and on real PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sequencer.errors import InputError
from sequencer.services.enroll import enroll_csv
from sequencer.services.mailboxes import add_mailbox
from sequencer.store.models import Enrollment, Prospect, SequenceVersion, Suppression
from tests.integration.helpers import COLD, MONDAY, make_app, write_csv

pytestmark = pytest.mark.integration


def test_a_naive_datetime_is_refused_by_the_store(database_url: str) -> None:
    app, _ = make_app(database_url)
    with pytest.raises(Exception, match="naive datetime"), app.sessions.begin() as session:
        session.add(Prospect(email="a@b.example", email_key="a@b.example",
                             created_at=datetime(2026, 1, 1)))
    app.close()


def test_times_come_back_aware_in_utc(database_url: str) -> None:
    app, _ = make_app(database_url)
    with app.sessions.begin() as session:
        session.add(Prospect(email="a@b.example", email_key="a@b.example", created_at=MONDAY))
    with app.sessions() as session:
        stored = session.scalars(select(Prospect)).one().created_at
    assert stored == MONDAY and stored.utcoffset() is not None
    app.close()


def test_mailbox_add_checks_its_input(database_url: str) -> None:
    app, _ = make_app(database_url)
    for bad in [dict(address="nope", transport="smtp://h:25", daily_cap=5),
                dict(address="a@b.example", transport="ftp://h", daily_cap=5),
                dict(address="a@b.example", transport="smtp://h:25", daily_cap=0)]:
        with pytest.raises(InputError):
            add_mailbox(app, **bad)  # type: ignore[arg-type]
    box = add_mailbox(app, "a@b.example", transport="file:///tmp/out", daily_cap=50)
    again = add_mailbox(app, "a@b.example", transport="smtp://127.0.0.1:2525", daily_cap=80)
    assert again.id == box.id and again.daily_cap == 80
    app.close()


def test_enrollment_names_every_skipped_row_by_line_and_enrolls_the_rest(
    database_url: str, tmp_path: Path
) -> None:
    app, _ = make_app(database_url)
    add_mailbox(app, "ana@sender.example", transport="file:///tmp/out", daily_cap=100)
    with app.sessions.begin() as session:
        session.add(Suppression(kind="address", value="gone@x.example", reason="hard bounce",
                                created_at=MONDAY))
        session.add(Suppression(kind="domain", value="competitor.example", reason="manual",
                                created_at=MONDAY))
        session.add(Prospect(email="dnc@x.example", email_key="dnc@x.example",
                             do_not_contact=True, created_at=MONDAY))
    rows = write_csv(tmp_path / "p.csv", "email,first_name,timezone,country,pain_point",
                     "ann@a.example,Ann,Europe/Paris,FR,reply tracking",   # 2 ok
                     "not-an-email,X,,,",                                  # 3
                     "bob@b.example,Bob,Mars/Base,,",                       # 4
                     "ANN@a.example,Ann,,,",                                # 5 duplicate
                     "gone@x.example,G,,,",                                 # 6 suppressed
                     "lee@competitor.example,L,,,",                         # 7 suppressed domain
                     "dnc@x.example,D,,,",                                  # 8 do not contact
                     "cid@c.example,Cid,,US,",                              # 9 ok
                     "chloé@c.example,Chloé,,FR,")                          # 10 not ASCII
    ticks: list[int] = []
    summary = enroll_csv(app, COLD, rows, mailbox="ana@sender.example", progress=ticks.append)
    assert summary.enrolled == 2 and summary.rows == 9 and sum(ticks) == 9
    assert {(line, code) for line, code, _ in summary.skipped} == {
        (3, "invalid_email"), (4, "unknown_timezone"), (5, "duplicate_in_file"),
        (6, "suppressed"), (7, "suppressed"), (8, "do_not_contact"), (10, "invalid_email")}
    why = {line: reason for line, _, reason in summary.skipped}
    assert why[6] == "gone@x.example is suppressed (hard bounce)"
    assert why[7] == "the domain competitor.example is suppressed (manual)"
    with app.sessions() as session:
        ann = session.scalars(select(Prospect).where(Prospect.email_key == "ann@a.example")).one()
        assert ann.custom == {"pain_point": "reply tracking"} and ann.country == "FR"
        enrollment = session.scalars(select(Enrollment).where(
            Enrollment.prospect_id == ann.id)).one()
        assert enrollment.status == "active" and enrollment.current_step == "intro"
        assert enrollment.timezone == "Europe/Paris" and enrollment.next_run_at is not None
        assert enrollment.next_run_at >= MONDAY
    again = enroll_csv(app, COLD, rows, mailbox="ana@sender.example")
    assert again.enrolled == 0 and again.reasons()["already_active"] == 2
    app.close()


def test_a_field_the_store_cannot_hold_skips_its_row_not_its_batch(
    database_url: str, tmp_path: Path
) -> None:
    """PostgreSQL refuses a NUL or an over-long value: that row is named and skipped,
    and the rows enrolled beside it in the same batch still are."""
    app, _ = make_app(database_url)
    add_mailbox(app, "ana@sender.example", transport="file:///tmp/out", daily_cap=100)
    rows = write_csv(tmp_path / "p.csv", "email,first_name,company,pain_point",
                     "ann@a.example,Ann,Acme,x",                 # 2 ok
                     f"bob@b.example,Bob,{'B' * 201},x",          # 3 company too long
                     "cid@c.example,Cid,Ci\x00d,x",               # 4 NUL
                     "dan@d.example,Dan,Dco,bad\x00note",         # 5 NUL in a custom field
                     "eve@e.example,Eve,Eco,x")                  # 6 ok
    summary = enroll_csv(app, COLD, rows, mailbox="ana@sender.example")
    assert summary.enrolled == 2
    why = {line: (code, reason) for line, code, reason in summary.skipped}
    assert why[3] == ("invalid_field", "company: longer than 200 characters")
    assert why[4] == ("invalid_field", "company: contains a NUL character")
    assert why[5] == ("invalid_field", "custom: contains a NUL character")
    app.close()


def test_an_unknown_mailbox_or_a_csv_without_email_is_a_clear_error(
    database_url: str, tmp_path: Path
) -> None:
    app, _ = make_app(database_url)
    rows = write_csv(tmp_path / "p.csv", "email", "a@b.example")
    with pytest.raises(InputError, match=r"no mailbox 'x@y\.example'"):
        enroll_csv(app, COLD, rows, mailbox="x@y.example")
    add_mailbox(app, "x@y.example", transport="file:///tmp/out", daily_cap=5)
    bad = write_csv(tmp_path / "bad.csv", "name,phone", "Ann,1")
    with pytest.raises(InputError, match=r"bad.csv:1: the header needs an 'email' column"):
        enroll_csv(app, COLD, bad, mailbox="x@y.example")
    app.close()


def test_an_edited_sequence_is_a_new_version_and_running_enrollments_keep_theirs(
    database_url: str, tmp_path: Path
) -> None:
    app, _ = make_app(database_url)
    add_mailbox(app, "ana@sender.example", transport="file:///tmp/out", daily_cap=100)
    sequence = tmp_path / "cold.yaml"
    sequence.write_text(COLD.read_text(), "utf-8")
    enroll_csv(app, sequence, write_csv(tmp_path / "a.csv", "email", "a@a.example"),
               mailbox="ana@sender.example")
    sequence.write_text(COLD.read_text().replace("wait: 4 business days", "wait: 5 business days"))
    enroll_csv(app, sequence, write_csv(tmp_path / "b.csv", "email", "b@b.example"),
               mailbox="ana@sender.example")
    with app.sessions() as session:
        versions = session.scalars(select(SequenceVersion.version)).all()
        pinned = session.scalar(select(func.count(func.distinct(Enrollment.sequence_version_id))))
    assert len(versions) == 2 and pinned == 2
    app.close()


def test_bulk_enrollment_of_thousands_of_rows_commits_in_batches(
    database_url: str, tmp_path: Path
) -> None:
    app, _ = make_app(database_url)
    add_mailbox(app, "ana@sender.example", transport="file:///tmp/out", daily_cap=100)
    rows = write_csv(tmp_path / "many.csv", "email,timezone",
                     *[f"p{i}@x{i % 50}.example,America/Chicago" for i in range(2500)])
    summary = enroll_csv(app, COLD, rows, mailbox="ana@sender.example", batch=1000)
    assert summary.enrolled == 2500
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Enrollment)) == 2500
    app.close()
