"""What happened to each email sent: the definitions of docs/reporting.md, in SQL.

``facts(...)`` is one SELECT giving, per row of the ``report_sends`` rollup (all of
them, or those of some prospects), a bit set ``flags`` and ``first_reply_at``:

- ``DELIVERED``: no hard bounce, soft bounce or block matched to the email arrived
  after its (last) send; delay warnings (``payload.delayed``) are not bounces.
- ``REPLIED``, ``POSITIVE``, ``NEGATIVE``, ``UNSUBSCRIBED``, ``MEETING``: an event of
  that kind is attributed to this email. An event is attributed to the email it
  matched when that email was delivered, else to the last email delivered to the
  same prospect before the event (an indexed look-up, only for those events).
  A reply's verdict is the rep's mark, else the rules (negative phrases first).
- ``OPEN_BASE`` / ``CLICK_BASE``: delivered, from a sequence version that tracks
  opens / clicks; ``OPENED`` / ``CLICKED``: and an open (or click: a click proves
  an open) / a click was recorded for that enrollment's step.

The rollup stores these, so a report reads one narrow table (``query.py``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    Table,
    and_,
    any_,
    case,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql

from sequencer.reporting.rules import NEGATIVE, POSITIVE, Rules
from sequencer.reporting.sqlfuncs import fold
from sequencer.store.models import Event, Message, ReportSend

ROLLUP: Table = ReportSend.__table__  # type: ignore[assignment]
EVENTS: Table = Event.__table__  # type: ignore[assignment]
MESSAGES: Table = Message.__table__  # type: ignore[assignment]
BOUNCE_KINDS = ("hard_bounce", "soft_bounce", "blocked")
REPLY, UNSUBSCRIBE, MEETING = "reply", "unsubscribe", "meeting_booked"
ANSWER_KINDS = (REPLY, UNSUBSCRIBE, MEETING)
OPEN, CLICK = "open", "click"
MARKED = "reply_marked"  # a rep's mark: changes a verdict, so the prospect is looked at again
RELEVANT_KINDS = (*BOUNCE_KINDS, *ANSWER_KINDS, OPEN, CLICK, MARKED)

DELIVERED, REPLIED, POSITIVE_BIT, NEGATIVE_BIT, UNSUBSCRIBED, MEETING_BIT = 1, 2, 4, 8, 16, 32
OPEN_BASE, OPENED, CLICK_BASE, CLICKED = 64, 128, 256, 512
FLAG_NAMES = {"delivered": DELIVERED, "replied": REPLIED, "positive": POSITIVE_BIT,
              "negative": NEGATIVE_BIT, "unsubscribed": UNSUBSCRIBED, "meetings": MEETING_BIT,
              "open_base": OPEN_BASE, "opened": OPENED, "click_base": CLICK_BASE,
              "clicked": CLICKED}


def facts(dialect: str, rules: Rules, tracked_opens: Collection[int],
          tracked_clicks: Collection[int], prospects: Collection[int] | None = None,
          *, sends: Table | None = None) -> Select[Any]:
    """``(mid, flags, first_reply_at)`` for the rollup's rows (of ``prospects``), or for
    those of ``sends``, a table of the same shape (the rebuild's staging table)."""
    sends = ROLLUP if sends is None else sends
    s = sends.alias("s")
    bounced = _bounced(prospects)
    answers = _answers(_attributed(dialect, rules, bounced, prospects, sends))
    engaged = _engaged(prospects)
    delivered = or_(bounced.c.at.is_(None), bounced.c.at < s.c.sent_at)

    def bit(condition: ColumnElement[bool], value: int) -> ColumnElement[int]:
        return case((condition, value), else_=0)

    def answered(column: Any, value: int) -> ColumnElement[int]:
        return bit(and_(delivered, column == 1), value)

    opens = and_(delivered, _in(s.c.sequence_version_id, tracked_opens))
    clicks = and_(delivered, _in(s.c.sequence_version_id, tracked_clicks))
    flags = (bit(delivered, DELIVERED) + answered(answers.c.replied, REPLIED)
             + answered(answers.c.positive, POSITIVE_BIT)
             + answered(answers.c.negative, NEGATIVE_BIT)
             + answered(answers.c.unsubscribed, UNSUBSCRIBED)
             + answered(answers.c.meetings, MEETING_BIT)
             + bit(opens, OPEN_BASE) + bit(and_(opens, engaged.c.step.is_not(None)), OPENED)
             + bit(clicks, CLICK_BASE) + bit(and_(clicks, engaged.c.clicked == 1), CLICKED))
    statement = (select(s.c.message_pk.label("mid"), flags.label("flags"),
                        case((delivered, answers.c.first_reply_at)).label("first_reply_at"))
                 .select_from(s.outerjoin(bounced, bounced.c.mid == s.c.message_pk)
                              .outerjoin(answers, answers.c.mid == s.c.message_pk)
                              .outerjoin(engaged, and_(engaged.c.enrollment_id == s.c.enrollment_id,
                                                       engaged.c.step == s.c.step_id))))
    if prospects is not None:
        statement = statement.where(s.c.prospect_id.in_(prospects))
    return statement


def _in(column: Any, values: Collection[int]) -> ColumnElement[bool]:
    return column.in_(sorted(values)) if values else false()


def _not_delayed(events: FromClause) -> ColumnElement[bool]:
    return func.coalesce(events.c.payload["delayed"].as_boolean(), false()) == false()


def _bounced(prospects: Collection[int] | None) -> Any:
    """Per email (by primary key), when the latest bounce matched to it arrived."""
    b, m = EVENTS.alias("b"), MESSAGES.alias("bm")
    statement = (select(m.c.id.label("mid"), func.max(b.c.occurred_at).label("at"))
                 .select_from(b.join(m, m.c.message_id == b.c.message_id))
                 .where(b.c.kind.in_(BOUNCE_KINDS), _not_delayed(b)).group_by(m.c.id))
    if prospects is not None:
        statement = statement.where(b.c.prospect_id.in_(prospects))
    return statement.cte("bounced")


def _later_bounce(pk: Any, sent_at: Any) -> ColumnElement[bool]:
    b, m = EVENTS.alias("b2"), MESSAGES.alias("m2")
    return (select(b.c.id).select_from(m.join(b, b.c.message_id == m.c.message_id))
            .where(m.c.id == pk, b.c.kind.in_(BOUNCE_KINDS), b.c.occurred_at >= sent_at,
                   _not_delayed(b)).exists())


def _attributed(dialect: str, rules: Rules, bounced: Any,
                prospects: Collection[int] | None, sends: Table) -> Any:
    r, mm, bmm, s2 = (EVENTS.alias("r"), MESSAGES.alias("mm"), bounced.alias("bmm"),
                      sends.alias("s2"))
    matched = case((and_(mm.c.sent_at.is_not(None),
                         or_(bmm.c.at.is_(None), bmm.c.at < mm.c.sent_at)), mm.c.id))
    by_time = (select(s2.c.message_pk)
               .where(s2.c.prospect_id == r.c.prospect_id, s2.c.sent_at <= r.c.occurred_at,
                      ~_later_bounce(s2.c.message_pk, s2.c.sent_at))
               .order_by(s2.c.sent_at.desc(), s2.c.message_pk.desc()).limit(1)
               .correlate(r).scalar_subquery())
    statement = (select(func.coalesce(matched, by_time).label("mid"), r.c.kind,
                        r.c.occurred_at, _verdict(dialect, r, rules).label("verdict"))
                 .select_from(r.outerjoin(mm, mm.c.message_id == r.c.message_id)
                              .outerjoin(bmm, bmm.c.mid == mm.c.id))
                 .where(r.c.kind.in_(ANSWER_KINDS), r.c.prospect_id.is_not(None)))
    if prospects is not None:
        statement = statement.where(r.c.prospect_id.in_(prospects))
    # Computed once, not once per reference (PostgreSQL would inline it otherwise).
    return statement.cte("attributed").prefix_with("MATERIALIZED", dialect="postgresql")


def _verdict(dialect: str, r: Any, rules: Rules) -> ColumnElement[str | None]:
    """The rep's mark when there is one, else the rules on the reply's text."""
    mark = r.c.payload["rep_mark"].as_string()
    text = fold(r.c.payload["reply_text"].as_string())
    return case((r.c.kind != REPLY, None), (mark.in_((POSITIVE, NEGATIVE)), mark),
                (_mentions(dialect, text, rules.negative), NEGATIVE),
                (_mentions(dialect, text, rules.positive), POSITIVE), else_=None)


def _mentions(dialect: str, text: ColumnElement[str], phrases: Sequence[str]
              ) -> ColumnElement[bool]:
    """Whether ``text`` contains any of ``phrases``: ``LIKE ANY (array)`` on PostgreSQL
    (several times faster than one regular expression), a chain of ``LIKE`` on SQLite."""
    if not phrases:
        return false()
    patterns = [f"%{_escape_like(p)}%" for p in phrases]
    if dialect == "postgresql":
        return text.like(any_(postgresql.array([literal(p) for p in patterns])))
    return or_(*(text.like(p, escape="\\") for p in patterns))


def _escape_like(phrase: str) -> str:
    return phrase.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _answers(attributed: Any) -> Any:
    a = attributed
    is_reply = a.c.kind == REPLY

    def flag(condition: ColumnElement[bool], name: str) -> Any:
        return func.max(case((condition, 1), else_=0)).label(name)

    return (select(a.c.mid, flag(is_reply, "replied"),
                   func.min(case((is_reply, a.c.occurred_at))).label("first_reply_at"),
                   flag(and_(is_reply, a.c.verdict == POSITIVE), "positive"),
                   flag(and_(is_reply, a.c.verdict == NEGATIVE), "negative"),
                   flag(a.c.kind == UNSUBSCRIBE, "unsubscribed"),
                   flag(a.c.kind == MEETING, "meetings"))
            .where(a.c.mid.is_not(None)).group_by(a.c.mid).cte("answers"))


def _engaged(prospects: Collection[int] | None) -> Any:
    o = EVENTS.alias("o")
    step = o.c.payload["step"].as_string()
    statement = (select(o.c.enrollment_id, step.label("step"),
                        func.max(case((o.c.kind == CLICK, 1), else_=0)).label("clicked"))
                 .where(o.c.kind.in_((OPEN, CLICK)), o.c.enrollment_id.is_not(None))
                 .group_by(o.c.enrollment_id, step))
    if prospects is not None:
        statement = statement.where(o.c.prospect_id.in_(prospects))
    return statement.cte("engaged")
