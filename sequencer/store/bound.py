"""Statements for the hot paths, built once and bound at each use.

Building a SQLAlchemy statement and matching it to its cached compilation costs
more CPU than PostgreSQL takes to run a primary-key lookup. And an ``IN`` list
renders one SQL text per list length, which psycopg prepares on the server anew
for each length met (and evicts again): ``among`` is ``= ANY(array)`` there, one
text for every length, prepared once per connection.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement


def among(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """``column`` is one of the values of the list bound as ``name``."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(bindparam(name, expanding=True))  # type: ignore[no-any-return]
