"""SQL functions the two backends spell differently, compiled per dialect.

- ``median(x)``: ``percentile_cont(0.5) WITHIN GROUP`` on PostgreSQL; on SQLite an
  aggregate registered on the connection by ``prepare_sqlite``.
- ``hours_between(later, earlier)``: epoch difference / 3600, or ``julianday``.
- ``bit_or(flags)``: PostgreSQL's own aggregate; registered on SQLite.
- ``fold(text)``: lower case for every alphabet; SQLite's own ``lower()`` folds
  only ASCII, so a Python function is registered there (replies only, never the
  millions of sends).
"""

from __future__ import annotations

import statistics
from typing import Any

from sqlalchemy import Float, Integer, Text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction


class median(GenericFunction[float]):
    type = Float()
    inherit_cache = True


class hours_between(GenericFunction[float]):
    type = Float()
    inherit_cache = True


class bit_or(GenericFunction[int]):
    type = Integer()
    inherit_cache = True


class fold(GenericFunction[str]):
    type = Text()
    inherit_cache = True


@compiles(median, "postgresql")
def _median_pg(element: median, compiler: SQLCompiler, **kw: Any) -> str:
    return (f"percentile_cont(0.5) WITHIN GROUP (ORDER BY "
            f"{compiler.process(element.clauses, **kw)})")


@compiles(median, "sqlite")
def _median_sqlite(element: median, compiler: SQLCompiler, **kw: Any) -> str:
    return f"report_median({compiler.process(element.clauses, **kw)})"


@compiles(hours_between, "postgresql")
def _hours_pg(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (f"(EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - "
            f"{compiler.process(earlier, **kw)})) / 3600.0)")


@compiles(hours_between, "sqlite")
def _hours_sqlite(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (f"((julianday({compiler.process(later, **kw)}) - "
            f"julianday({compiler.process(earlier, **kw)})) * 24.0)")


@compiles(bit_or, "sqlite")
def _bit_or_sqlite(element: bit_or, compiler: SQLCompiler, **kw: Any) -> str:
    return f"report_bit_or({compiler.process(element.clauses, **kw)})"


@compiles(fold, "postgresql")
def _fold_pg(element: fold, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(fold, "sqlite")
def _fold_sqlite(element: fold, compiler: SQLCompiler, **kw: Any) -> str:
    return f"report_fold({compiler.process(element.clauses, **kw)})"


class _Median:
    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


class _BitOr:
    def __init__(self) -> None:
        self.bits = 0

    def step(self, value: int | None) -> None:
        if value is not None:
            self.bits |= int(value)

    def finalize(self) -> int:
        return self.bits


def _fold(text: str | None) -> str | None:
    return None if text is None else text.lower()


def prepare_sqlite(connection: Connection) -> None:
    """Register ``report_median``, ``report_bit_or`` and ``report_fold`` on SQLite."""
    if connection.dialect.name != "sqlite":
        return
    raw: Any = connection.connection.driver_connection
    raw.create_aggregate("report_median", 1, _Median)
    raw.create_aggregate("report_bit_or", 1, _BitOr)
    raw.create_function("report_fold", 1, _fold, deterministic=True)


def tune(connection: Connection) -> None:
    """PostgreSQL settings for this report's transaction: hash the aggregates in memory
    rather than sort them on disk, and skip JIT compilation, which costs more than it
    saves on a statement run once (seconds, measured by bench/report_speed.py)."""
    if connection.dialect.name != "postgresql":
        return
    connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")
    connection.exec_driver_sql("SET LOCAL jit = off")
