"""Many rows in one statement (``sequencer.store.bulk``), on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Table, select
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from sequencer.store.bulk import ALIKE_FROM, BulkInsert, BulkUpdate, alike_in, columns_from
from sequencer.store.db import make_engine
from sequencer.store.models import Prospect
from sequencer.store.upsert import keeping_existing

PROSPECTS: Table = Prospect.__table__  # type: ignore[assignment]
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield sessionmaker(engine)
    engine.dispose()


def prospect(n: int, **columns: object) -> dict[str, object]:
    return {"email": f"p{n}@x.example", "email_key": f"p{n}@x.example", "custom": {},
            "do_not_contact": False, "created_at": NOW, **columns}


def stored(sessions: sessionmaker[Session]) -> dict[str, Prospect]:
    with sessions() as session:
        return {p.email: p for p in session.scalars(select(Prospect))}


def test_rows_inserted_and_updated_keep_their_values_types_and_nulls(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        BulkInsert(PROSPECTS).execute(session, [
            prospect(1, first_name="Ada", custom={"plan": "pro", "seats": [1, 2]}),
            prospect(2, first_name=None)])
    ids = {email: p.id for email, p in stored(sessions).items()}
    later = NOW + timedelta(hours=3)
    with sessions.begin() as session:
        found = BulkUpdate(PROSPECTS, also={"do_not_contact": True}).execute(session, [
            {"id": ids["p1@x.example"], "first_name": None, "created_at": later},
            {"id": ids["p2@x.example"], "first_name": "Grace", "created_at": later}])
    assert found == 2
    rows = stored(sessions)
    assert rows["p1@x.example"].first_name is None
    assert rows["p1@x.example"].custom == {"plan": "pro", "seats": [1, 2]}
    assert rows["p2@x.example"].first_name == "Grace"
    assert {p.created_at for p in rows.values()} == {later}
    assert all(p.created_at.tzinfo is not None for p in rows.values())
    assert all(p.do_not_contact for p in rows.values())


def test_a_key_with_a_version_updates_only_the_rows_still_as_they_were_read(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        BulkInsert(PROSPECTS).execute(session, [prospect(1, first_name="Ada"),
                                                prospect(2, first_name="Bob")])
    ids = {email: p.id for email, p in stored(sessions).items()}
    rename = BulkUpdate(PROSPECTS, key=("id", "first_name"))
    with sessions.begin() as session:
        found = rename.execute(session, [
            {"id": ids["p1@x.example"], "first_name": "Ada", "last_name": "Lovelace"},
            {"id": ids["p2@x.example"], "first_name": "Robert", "last_name": "Smith"}])
    assert found == 1
    rows = stored(sessions)
    assert rows["p1@x.example"].last_name == "Lovelace"
    assert rows["p2@x.example"].last_name is None


def test_a_value_too_long_for_its_column_is_never_cut_short(
        database_url: str, sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        BulkInsert(PROSPECTS).execute(session, [prospect(1)])
    [row] = stored(sessions).values()
    too_long = "x" * 300  # first_name is VARCHAR(120)
    if database_url.startswith("postgresql"):  # refused, and nothing written
        with pytest.raises(DBAPIError, match="too long"), sessions.begin() as session:
            BulkUpdate(PROSPECTS).execute(session, [{"id": row.id, "first_name": too_long}])
        assert stored(sessions)["p1@x.example"].first_name is None
    else:  # SQLite does not enforce lengths: kept whole
        with sessions.begin() as session:
            BulkUpdate(PROSPECTS).execute(session, [{"id": row.id, "first_name": too_long}])
        assert stored(sessions)["p1@x.example"].first_name == too_long


def test_naive_datetimes_are_refused_as_a_single_row_write_would_refuse_them(
        sessions: sessionmaker[Session]) -> None:
    with pytest.raises(StatementError, match="naive datetime"), sessions.begin() as session:
        BulkInsert(PROSPECTS).execute(session, [prospect(1, created_at=datetime(2026, 1, 1))])
    assert stored(sessions) == {}


def test_rows_without_their_key_are_a_clear_error(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="each row must give id"), sessions.begin() as session:
        BulkUpdate(PROSPECTS).execute(session, [{"first_name": "Ada"}])


def test_rows_already_there_by_the_unique_key_are_skipped_and_only_the_new_returned(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        BulkInsert(PROSPECTS).execute(session, [prospect(1, first_name="Ada")])
    insert = BulkInsert(PROSPECTS, on_conflict=keeping_existing(("email_key",)),
                        returning=("id", "email_key"))
    with sessions.begin() as session:
        made = insert.execute(session, [prospect(1, first_name="Someone else"), prospect(2)])
    rows = stored(sessions)
    assert [tuple(row) for row in made] == [(rows["p2@x.example"].id, "p2@x.example")]
    assert rows["p1@x.example"].first_name == "Ada"


def test_rows_that_set_different_columns_are_all_written(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        made = BulkInsert(PROSPECTS, returning=("email",)).execute(session, [
            prospect(1), prospect(2, first_name="Bob"), prospect(3)])
    assert sorted(email for email, in made) == ["p1@x.example", "p2@x.example", "p3@x.example"]
    ids = {email: p.id for email, p in stored(sessions).items()}
    with sessions.begin() as session:
        found = BulkUpdate(PROSPECTS).execute(session, [
            {"id": ids["p1@x.example"], "first_name": "Ada"},
            {"id": ids["p2@x.example"], "last_name": "Smith"},
            {"id": ids["p3@x.example"], "first_name": "Cy", "last_name": "Young"}])
    assert found == 3
    rows = stored(sessions)
    assert [(rows[f"p{n}@x.example"].first_name, rows[f"p{n}@x.example"].last_name)
            for n in (1, 2, 3)] == [("Ada", None), ("Bob", "Smith"), ("Cy", "Young")]


def test_a_large_batch_whose_rows_share_values_stores_every_row_whole(
        sessions: sessionmaker[Session]) -> None:
    # From ALIKE_FROM rows on, the values every row shares go once, not once a row.
    shared = {"plan": "pro", "seats": [1, 2]}
    rows = [prospect(n, first_name="Ada", last_name=None, custom=shared,
                     company=f"Co {n % 2}") for n in range(ALIKE_FROM * 2)]
    with sessions.begin() as session:
        made = BulkInsert(PROSPECTS, returning=("email",), share_alike=True).execute(
            session, rows)
    assert len(made) == len(rows)
    ids = {email: p.id for email, p in stored(sessions).items()}
    later = NOW + timedelta(hours=1)
    with sessions.begin() as session:
        found = BulkUpdate(PROSPECTS, share_alike=True).execute(session, [
            {"id": i, "last_name": "Lovelace", "created_at": later} for i in ids.values()])
    assert found == len(rows)
    kept = stored(sessions)
    assert len(kept) == len(rows)
    assert {(p.first_name, p.last_name, p.created_at) for p in kept.values()} == {
        ("Ada", "Lovelace", later)}
    assert all(p.custom == shared for p in kept.values())
    assert sorted(p.company or "" for p in kept.values()) == ["Co 0"] * ALIKE_FROM + [
        "Co 1"] * ALIKE_FROM


def test_a_naive_datetime_shared_by_a_large_batch_is_refused_too(
        sessions: sessionmaker[Session]) -> None:
    naive = datetime(2026, 1, 1)
    with pytest.raises(StatementError, match="naive datetime"), sessions.begin() as session:
        BulkInsert(PROSPECTS, share_alike=True).execute(
            session, [prospect(n, created_at=naive) for n in range(ALIKE_FROM)])
    assert stored(sessions) == {}



def test_identical_rows_still_go_as_arrays_that_count_them() -> None:
    columns = ("email", "first_name", "custom")
    same = [{"email": "a@x.example", "first_name": "Ada", "custom": {}}] * ALIKE_FROM
    assert alike_in(columns_from(same, columns)) == ("first_name", "custom")
    assert alike_in(columns_from(same[:ALIKE_FROM - 1], columns)) == ()
