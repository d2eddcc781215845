"""Shared fixtures: databases on SQLite and real PostgreSQL, a fake clock.

Integration tests take the ``database_url`` fixture and run once per backend.
PostgreSQL comes from ``SEQUENCER_TEST_PG`` (default: the machine's server as
``root`` on 127.0.0.1). Locally a missing server skips those tests; under CI
(the ``CI`` variable is set) it fails them, loudly, so they can never be
skipped by accident.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_ADMIN = os.environ.get("SEQUENCER_TEST_PG", "postgresql://root@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SEQUENCER_TEST_REDIS", "redis://127.0.0.1:6379/15")


def _require(service: str, error: Exception) -> None:
    message = f"{service} is not reachable ({error}); the integration tests need it"
    if os.environ.get("CI"):
        pytest.fail(f"{message}: under CI this is a failure, not a skip", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3) as connection:
            connection.execute("select 1")
    except psycopg.Error as exc:
        _require("PostgreSQL", exc)
    return PG_ADMIN


@pytest.fixture(scope="session")
def postgres_database(postgres_admin: str) -> Iterator[str]:
    """A fresh database for this test session, migrated to head, dropped at the end."""
    import psycopg

    from sequencer.store.migrate import upgrade

    name = f"sequencer_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = postgres_admin.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with psycopg.connect(postgres_admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_postgres(url: str) -> None:
    from sqlalchemy import text

    from sequencer.store.db import make_engine
    from sequencer.store.models import Base

    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> str:
    """An empty, migrated database: a SQLite file, then real PostgreSQL."""
    if request.param == "sqlite":
        from sequencer.store.migrate import upgrade

        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'sequencer.db'}"
        upgrade(url)
        return url
    url: str = request.getfixturevalue("postgres_database")
    _truncate_postgres(url)
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        _require("Redis", exc)
    return REDIS_URL
