"""The one SQL statement behind every breakdown (definitions: docs/reporting.md).

It reads only the ``report_sends`` rollup (``rollup.py``; the facts of each email
are computed by ``facts.py``) and counts in two steps: first one row per (slice,
prospect), OR-ing the flags of that prospect's emails in the slice, then one row
per slice. That is what makes a prospect with emails from two variants count once
in each, and once in a total. The medians come from the replied emails, in a second
branch of the same statement (``UNION ALL``), merged by key here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    FromClause,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    extract,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.engine import Connection

from sequencer.reporting.dimensions import PROSPECT_COLUMNS, SEGMENT
from sequencer.reporting.facts import DELIVERED, FLAG_NAMES
from sequencer.reporting.rollup import ROLLUP
from sequencer.reporting.sqlfuncs import bit_or, hours_between, median
from sequencer.reporting.zones import offset_periods, periods_json
from sequencer.store.models import Enrollment, Mailbox, Prospect, SequenceVersion

ENROLLMENTS, PROSPECTS = Enrollment.__table__, Prospect.__table__
MAILBOXES, VERSIONS = Mailbox.__table__, SequenceVersion.__table__
COUNTS = ("emails_sent", "emails_bounced", "prospects_sent", "prospects_delivered",
          "replied", "positive", "negative", "unsubscribed", "meetings",
          "open_base", "opened", "click_base", "clicked", "median_hours_to_reply")


@dataclass(frozen=True, slots=True)
class Scope:
    """What a report covers: the key columns, one sequence or all, sends since when."""

    keys: tuple[str, ...] = ()
    sequence: str | None = None
    since: datetime | None = None


def run(connection: Connection, scope: Scope) -> list[dict[str, Any]]:
    """Run the breakdown; one dict per slice with its key columns and ``COUNTS``."""
    statement, params = build(connection, scope)
    slices: dict[tuple[Any, ...], dict[str, Any]] = {}
    medians: dict[tuple[Any, ...], float | None] = {}
    for row in connection.execute(statement, params):
        found = dict(row._mapping)
        key = tuple(found[k] for k in scope.keys)
        if found.pop("part") == "median":
            medians[key] = found["median_hours_to_reply"]
        else:
            slices[key] = found
    for key, value in medians.items():
        if key in slices:
            slices[key]["median_hours_to_reply"] = value
    return list(slices.values())


def build(connection: Connection, scope: Scope) -> tuple[Select[Any], dict[str, Any]]:
    """The statement for ``scope``, and its parameters (SQLite's zone periods)."""
    dialect = connection.dialect.name
    params: dict[str, Any] = {}
    if dialect != "postgresql" and {"local_hour", "local_weekday"} & set(scope.keys):
        params["zone_periods"] = periods_json(_periods(connection))
    sent = _sent(dialect, scope)
    return _final(scope.keys, _per_prospect(scope.keys, sent), sent), params


class _Joins:
    """The FROM of ``sent``: the rollup, plus what the keys need."""

    def __init__(self, s: Any) -> None:
        self.s = s
        self.p, self.mb, self.sv, self.e = (PROSPECTS.alias("p"), MAILBOXES.alias("mb"),
                                            VERSIONS.alias("sv"), ENROLLMENTS.alias("e"))
        self.zp: Any = None
        self.used: list[str] = []

    def need(self, name: str) -> Any:
        if name not in self.used:
            self.used.append(name)
        return getattr(self, name)

    def zone_periods(self) -> Any:
        if self.zp is None:
            rows = func.json_each(bindparam("zone_periods", type_=String)).table_valued(
                "value").alias("je")
            self.zp = select(*(func.json_extract(rows.c.value, f"$[{i}]").label(name)
                               for i, name in enumerate(("zone", "start", "end", "offset")))
                             ).subquery("zp")
            self.used.append("zp")
        return self.zp

    def clause(self) -> FromClause:
        s = self.s
        conditions: dict[str, Callable[[], ColumnElement[bool]]] = {
            "p": lambda: self.p.c.id == s.c.prospect_id,
            "mb": lambda: self.mb.c.id == s.c.mailbox_id,
            "sv": lambda: self.sv.c.id == s.c.sequence_version_id,
            "e": lambda: self.e.c.id == s.c.enrollment_id,
            "zp": lambda: and_(self.zp.c.zone == s.c.timezone, s.c.sent_at >= self.zp.c.start,
                               s.c.sent_at < self.zp.c.end),
        }
        joined: Any = s
        for name in self.used:
            target = getattr(self, name)
            joined = (joined.outerjoin(target, conditions[name]()) if name == "zp"
                      else joined.join(target, conditions[name]()))
        return joined  # type: ignore[no-any-return]


def _sent(dialect: str, scope: Scope) -> Any:
    s = ROLLUP.alias("s")
    joins = _Joins(s)
    keys = [_key(key, dialect, joins).label(key) for key in scope.keys]
    conditions = []
    if scope.sequence is not None:
        conditions.append(s.c.sequence_name == scope.sequence)
    if scope.since is not None:
        conditions.append(s.c.sent_at >= scope.since)
    return (select(s.c.prospect_id, s.c.sent_at, s.c.flags, s.c.first_reply_at, *keys)
            .select_from(joins.clause()).where(*conditions).cte("sent")
            # Read twice (counts, medians): scanned twice, never copied.
            .prefix_with("NOT MATERIALIZED", dialect="postgresql"))


def _key(key: str, dialect: str, joins: _Joins) -> Any:
    s = joins.s
    match key:
        case "sequence" | "step":
            return s.c.sequence_name if key == "sequence" else s.c.step_id
        case "version":
            return joins.need("sv").c.version
        case "variant":
            return s.c.variant
        case "mailbox":
            return joins.need("mb").c.address
        case "owner":
            return func.coalesce(joins.need("p").c.owner, joins.need("mb").c.owner)
        case "local_hour" | "local_weekday":
            return _local_part(key, dialect, joins)
        case "week":
            return _week(dialect, s)
    field = key[len(SEGMENT):]
    p = joins.need("p")
    if field == "country":
        return func.coalesce(p.c.country, joins.need("e").c.country)
    if field in PROSPECT_COLUMNS:
        return p.c[field]
    return p.c.custom[field].as_string()


def _local_part(key: str, dialect: str, joins: _Joins) -> ColumnElement[int]:
    s = joins.s
    if dialect == "postgresql":
        local = func.timezone(s.c.timezone, s.c.sent_at)
        if key == "local_hour":
            return cast(extract("hour", local), Integer)
        return cast(extract("isodow", local), Integer) - 1
    zp = joins.zone_periods()
    local = func.datetime(s.c.sent_at, func.printf("%+d seconds", func.coalesce(zp.c.offset, 0)))
    if key == "local_hour":
        return cast(func.strftime("%H", local), Integer)
    return (cast(func.strftime("%w", local), Integer) + 6) % 7


def _week(dialect: str, s: Any) -> ColumnElement[str]:
    """The Monday (UTC) of the week the email was sent, as YYYY-MM-DD."""
    if dialect == "postgresql":
        return func.to_char(func.date_trunc("week", func.timezone("UTC", s.c.sent_at)),
                            "YYYY-MM-DD")
    return func.date(s.c.sent_at, "weekday 0", "-6 days")


def _periods(connection: Connection) -> list[tuple[str, str, str, int]]:
    zones = connection.scalars(select(ROLLUP.c.timezone).distinct()).all()
    first, last = connection.execute(select(func.min(ROLLUP.c.sent_at),
                                            func.max(ROLLUP.c.sent_at))).one()
    if first is None or last is None:
        return []
    return offset_periods([z for z in zones if z], first, last)


def _per_prospect(keys: Sequence[str], s: Any) -> Any:
    key_cols = [s.c[k] for k in keys]
    delivered = s.c.flags.op("&")(DELIVERED) != 0
    return (select(*key_cols, func.count().label("sent"),
                   func.sum(case((delivered, 0), else_=1)).label("bounced"),
                   bit_or(s.c.flags).label("flags"))
            .group_by(*key_cols, s.c.prospect_id).cte("per_prospect"))


def _final(keys: Sequence[str], pp: Any, s: Any) -> Any:
    """Counts per slice (hashable), then, in the same statement, the median hours to
    reply over the slice's replied emails: an ordered-set aggregate needs sorted
    input, so it gets the few replied rows rather than the whole grouping."""
    key_cols = [pp.c[k] for k in keys]

    def total(name: str, column: str) -> Any:
        return func.coalesce(func.sum(pp.c[column]), 0).label(name)

    def having(name: str, bit: int) -> Any:
        return func.sum(case((pp.c.flags.op("&")(bit) != 0, 1), else_=0)).label(name)

    names = {"delivered": "prospects_delivered"}
    counts = select(*key_cols, literal("counts").label("part"),
                    total("emails_sent", "sent"), total("emails_bounced", "bounced"),
                    func.count().label("prospects_sent"),
                    *(having(names.get(name, name), bit) for name, bit in FLAG_NAMES.items()),
                    cast(null(), Float).label("median_hours_to_reply")).group_by(*key_cols)
    replied = s.c.first_reply_at.is_not(None)  # delivered and replied: a partial index
    medians = (select(*(s.c[k] for k in keys), literal("median").label("part"),
                      *(cast(null(), Integer).label(name) for name in COUNTS[:-1]),
                      median(hours_between(s.c.first_reply_at, s.c.sent_at)))
               .where(replied).group_by(*(s.c[k] for k in keys)))
    return union_all(counts, medians)
