"""Engines and sessions for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def normalize_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# PostgreSQL connections a process keeps open. SQLAlchemy's default of 5 meant that under
# load most requests found none free, and the extra ("overflow") connections were each
# opened and closed again for one request: a new server process every time. At most 15
# at once per process, as before.
POOL_SIZE = 10
MAX_OVERFLOW = 5


def make_engine(url: str, **options: Any) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    sized = {} if "poolclass" in options else {"pool_size": POOL_SIZE,
                                                 "max_overflow": MAX_OVERFLOW}
    engine = create_engine(url, pool_pre_ping=True, **{**sized, **options})
    event.listen(engine, "connect", _binary_arrays)
    return engine


def _binary_arrays(connection: Any, _record: Any) -> None:
    """Send Python lists to PostgreSQL as binary arrays.

    psycopg's default is the text form, which it builds in Python, quoting and
    escaping every element (each JSON document in full): it took 40% of a bulk
    enrollment's time once rows went as arrays (``sequencer.store.bulk``). The
    binary form packs each element with its C dumper, and needs no escaping.
    """
    from psycopg.types.array import ListBinaryDumper

    connection.adapters.register_dumper(list, ListBinaryDumper)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
