"""Writing many rows in one statement: on PostgreSQL, one statement over arrays.

An executemany sends one statement per row, and psycopg and PostgreSQL each pay
their per-statement work for every one of them; a multi-row ``VALUES`` has a new
SQL text for every batch size and too many parameters for psycopg's cache of
converted queries. On PostgreSQL the rows go instead as one array per column,
``unnest``-ed inside a single statement whose text never changes: it is
converted and prepared once per connection, and PostgreSQL plans it once per
batch. For a bulk load (``share_alike``), a column every row of a large batch
gives alike (the sequence, the mailbox, a creation time) goes as one value, not as
an array of copies: converting array items was most of the Python time of a
100,000-row enrollment. SQLite keeps a plain executemany, which is what it does best.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, String, Table, bindparam, cast, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from sequencer.store.bound import dialect_of
from sequencer.store.upsert import dialect_insert

Row = Mapping[str, Any]
ALIKE_FROM = 16  # rows; smaller batches bind every column as an array


def unnested(table: Table, columns: Sequence[str], alike: Sequence[str] = ()) -> Select[Any]:
    """``SELECT unnest(:a_c1), :s_c2...``: the rows bound by ``arrays_of``, one per array
    index, each column typed (and each value converted) as the table's column is; the
    ``alike`` columns are one value each, the same in every row."""
    parts = []
    for name in columns:
        item = _array_item(table.c[name].type)
        if name in alike:
            parts.append(cast(bindparam(f"s_{name}", type_=item), item).label(name))
        else:
            array = ARRAY(item)
            parts.append(func.unnest(cast(bindparam(f"a_{name}", type_=array), array))
                         .label(name))
    return select(*parts)


def columns_from(rows: Sequence[Row], columns: Sequence[str]) -> dict[str, list[Any]]:
    """The rows as one list of values per column."""
    return {name: [row[name] for row in rows] for name in columns}


def arrays_of(values: Mapping[str, list[Any]], alike: Sequence[str] = ()) -> dict[str, Any]:
    """The parameters of ``unnested``: one list per column, one value per ``alike`` column."""
    return {**{f"a_{name}": column for name, column in values.items() if name not in alike},
            **{f"s_{name}": values[name][0] for name in alike}}


def alike_in(values: Mapping[str, list[Any]]) -> tuple[str, ...]:
    """The columns whose every value is the same, in a batch large enough to be worth
    the look; never all of them (the rows are counted by the arrays)."""
    names = list(values)
    if not names or len(values[names[0]]) < ALIKE_FROM:
        return ()
    return tuple(name for name in names[1:]
                 if values[name].count(values[name][0]) == len(values[name]))


def _array_item(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    # A cast to VARCHAR(n) cuts a longer string short without a word, where storing it
    # fails loudly: strings travel as unbounded VARCHAR, and the column's own length
    # check applies when the value is stored.
    return String() if isinstance(type_, String) else type_


def by_columns(rows: Sequence[Row]) -> list[tuple[tuple[str, ...], list[Row]]]:
    """The rows grouped by the columns they give: one statement writes one set of columns."""
    groups: dict[frozenset[str], tuple[tuple[str, ...], list[Row]]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), (tuple(row), []))[1].append(row)
    return list(groups.values())


class _Bulk:
    """One statement per dialect and set of columns, built on first use; the rows of
    each set of columns go in one execution.

    ``share_alike``: bind the columns a large batch's rows all give alike once (for bulk
    loads). Off by default: the executors' batches are small and varied, and each
    combination of shared columns is one more statement to build and prepare.
    """

    def __init__(self, table: Table, *, share_alike: bool = False) -> None:
        self.table = table
        self.share_alike = share_alike
        self._built: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Any] = {}

    def _run(self, session: Session, rows: Sequence[Row]) -> list[Any]:
        dialect = dialect_of(session)
        results = []
        for columns, group in by_columns(rows):
            if dialect == "postgresql":
                values = columns_from(group, columns)
                alike = alike_in(values) if self.share_alike else ()
                parameters: Any = arrays_of(values, alike)
            else:
                alike, parameters = (), self._executemany(group)
            statement = self._built.get((dialect, columns, alike))
            if statement is None:
                statement = self._built[dialect, columns, alike] = self._build(
                    dialect, columns, alike)
            results.append(session.execute(statement, parameters))
        return results

    def _build(self, dialect: str, columns: tuple[str, ...], alike: tuple[str, ...]) -> Any:
        raise NotImplementedError

    def _executemany(self, rows: list[Row]) -> list[Row]:
        return rows


class BulkInsert(_Bulk):
    """``INSERT`` of many rows of ``table`` at once.

    ``on_conflict``: what to do with a row whose unique key exists already, given
    the backend's insert statement (``sequencer.store.upsert.keeping_existing``, or
    an ``ON CONFLICT DO UPDATE``). ``returning``: the columns to return of the rows
    inserted (or updated), in no particular order.
    """

    def __init__(self, table: Table, *, on_conflict: Callable[[Any], Any] | None = None,
                 returning: Sequence[str] = (), share_alike: bool = False) -> None:
        super().__init__(table, share_alike=share_alike)
        self.on_conflict, self.returning = on_conflict, tuple(returning)

    def execute(self, session: Session, rows: Sequence[Row]) -> list[Any]:
        """Insert the rows; returns the ``returning`` columns of those written."""
        results = self._run(session, rows)
        return [row for result in results for row in result.all()] if self.returning else []

    def _build(self, dialect: str, columns: tuple[str, ...], alike: tuple[str, ...]) -> Any:
        statement = dialect_insert(self.table, dialect)
        if dialect == "postgresql":
            statement = statement.from_select(columns, unnested(self.table, columns, alike))
        if self.on_conflict is not None:
            statement = self.on_conflict(statement)
        if self.returning:
            statement = statement.returning(*[self.table.c[name] for name in self.returning])
        return statement


class BulkUpdate(_Bulk):
    """``UPDATE`` of many rows of ``table``, each found by its ``key`` columns.

    Each row gives its key and the columns it sets; ``also`` holds what every row
    sets alike (a constant, or an expression of the row's old values such as a
    version counter's increment). A key of the id and a version column updates
    only the rows still at the version the caller read.
    """

    def __init__(self, table: Table, *, key: Sequence[str] = ("id",),
                 also: Mapping[str, Any] | None = None, share_alike: bool = False) -> None:
        super().__init__(table, share_alike=share_alike)
        self.key, self.also = tuple(key), dict(also or {})

    def execute(self, session: Session, rows: Sequence[Row]) -> int:
        """Update the rows; returns how many were found (and so updated)."""
        return sum(int(result.rowcount) for result in self._run(session, rows))

    def _executemany(self, rows: list[Row]) -> list[Row]:
        # SQLAlchemy reserves bind names equal to column names for the SET clause
        return [{f"v_{name}": value for name, value in row.items()} for row in rows]

    def _build(self, dialect: str, columns: tuple[str, ...], alike: tuple[str, ...]) -> Any:
        missing = [name for name in self.key if name not in columns]
        if missing:
            raise ValueError(f"each row must give {', '.join(missing)}: the key of "
                             f"{self.table.name} rows to update")
        changed = [name for name in columns if name not in self.key]
        if dialect == "postgresql":
            given: Any = unnested(self.table, columns, alike).subquery("v").c
        else:
            given = {name: bindparam(f"v_{name}") for name in columns}
        return update(self.table).where(
            *[self.table.c[name] == given[name] for name in self.key]).values(
            {**{name: given[name] for name in changed}, **self.also})
