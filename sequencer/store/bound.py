"""Statements for the hot paths, built once and bound at each use.

Building a SQLAlchemy statement and matching it to its cached compilation costs
more CPU than PostgreSQL takes to run a primary-key lookup. And an ``IN`` list
renders one SQL text per list length, which psycopg prepares on the server anew
for each length met (and evicts again): ``among`` is ``= ANY(array)`` there, one
text for every length, prepared once per connection. ``locked`` takes row locks
where there are any.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import GenerativeSelect

Query = TypeVar("Query", bound=GenerativeSelect)


def dialect_of(session: Session) -> str:
    """``postgresql`` or ``sqlite``: what the statements below are built for."""
    return session.get_bind().dialect.name


def locked(query: Query, dialect: str, **options: Any) -> Query:
    """The query with ``FOR UPDATE`` (and ``options``) on PostgreSQL. SQLite has no row
    locks: its write transaction holds the whole database, so there it is unchanged."""
    return query.with_for_update(**options) if dialect == "postgresql" else query


def among(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """``column`` is one of the values of the list bound as ``name``."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(bindparam(name, expanding=True))  # type: ignore[no-any-return]
