"""A rep's queue of manual steps, as the API and the web app read it.

A task belongs to its ``assignee``: the owner of the mailbox its enrollment sends
from when the task was made (``Mailbox.owner``; giving a mailbox an owner later
hands its open tasks to them). The filters read ``tasks.assignee`` alone, so a rep's
queue is one index range (``ix_tasks_assignee``) however many tasks the team has.

A rep's local day is the day in their mailboxes' time zone (UTC when they own none):
"due today" is everything open due before their local midnight, overdue included.

Completing or skipping a task is :func:`sequencer.services.actions.complete_task`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, Connection, Select, bindparam, select

from sequencer.definition.model import TASK_OUTCOMES, StepType
from sequencer.errors import EngineError, InputError
from sequencer.services.actions import complete_task
from sequencer.services.app import App
from sequencer.store.models import Enrollment, Mailbox, Prospect, Task

UTC_ZONE = ZoneInfo("UTC")
STATES = ("open", "done", "skipped")


@dataclass(frozen=True, slots=True)
class TaskItem:
    id: int
    kind: str  # call, manual_email, linkedin_connect, ..., or fix_template
    step: str
    due_at: datetime
    state: str  # open, done, skipped
    outcome: str | None
    notes: str | None
    assignee: str | None  # the task's own, else its mailbox's owner
    prospect_id: int
    prospect_email: str
    prospect_name: str | None
    company: str | None
    phone: str | None
    linkedin_url: str | None
    prospect_timezone: str | None
    sequence: str
    enrollment_id: int
    enrollment_status: str
    instructions: str | None
    draft_subject: str | None
    draft_body: str | None
    completed_at: datetime | None

    @property
    def outcomes(self) -> tuple[str, ...]:
        """What the task may be completed with."""
        return outcomes_of(self.kind)


_COLUMNS = (Task.id, Task.kind, Task.step_id, Task.due_at, Task.state, Task.outcome,
            Task.notes, Task.assignee, Task.enrollment_id, Task.instructions,
            Task.draft_subject, Task.draft_body, Task.completed_at,
            Prospect.id.label("prospect_id"), Prospect.email, Prospect.first_name,
            Prospect.last_name, Prospect.company, Prospect.phone, Prospect.linkedin_url,
            Prospect.timezone, Enrollment.sequence_name, Enrollment.status)


def _query() -> Select[*tuple[Any, ...]]:
    """Tasks with their prospect and enrollment, as plain columns: a page of tasks is
    read on every list, and loading ORM objects cost more than the query."""
    return (select(*_COLUMNS)
            .join(Enrollment, Enrollment.id == Task.enrollment_id)
            .join(Prospect, Prospect.id == Enrollment.prospect_id))


def _item(row: Any) -> TaskItem:
    (id_, kind, step, due_at, state, outcome, notes, assignee, enrollment_id, instructions,
     draft_subject, draft_body, completed_at, prospect_id, email, first_name, last_name,
     company, phone, linkedin_url, timezone, sequence, status) = row  # _COLUMNS' order
    name = " ".join(p for p in (first_name, last_name) if p) or None
    return TaskItem(
        id=id_, kind=kind, step=step, due_at=due_at, state=state, outcome=outcome,
        notes=notes, assignee=assignee, prospect_id=prospect_id, prospect_email=email,
        prospect_name=name, company=company, phone=phone, linkedin_url=linkedin_url,
        prospect_timezone=timezone, sequence=sequence, enrollment_id=enrollment_id,
        enrollment_status=status, instructions=instructions, draft_subject=draft_subject,
        draft_body=draft_body, completed_at=completed_at)


# A page's filters, each compared with a bound parameter of its own name.
_FILTERS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "state": lambda: Task.state == bindparam("state"),
    "assignee": lambda: Task.assignee == bindparam("assignee"),
    "kind": lambda: Task.kind == bindparam("kind"),
    "due_from": lambda: Task.due_at >= bindparam("due_from"),
    "due_until": lambda: Task.due_at < bindparam("due_until"),
    "after_id": lambda: Task.id > bindparam("after_id"),
}


@cache
def _page_query(filters: frozenset[str]) -> Select[*tuple[Any, ...]]:
    """The page query with these ``_FILTERS``, built once and then only bound: building
    a statement, and matching a rebuilt one to its cached compilation, cost more than
    running it."""
    query = _query()
    for name in sorted(filters):
        query = query.where(_FILTERS[name]())
    return query.order_by(Task.id).limit(bindparam("limit"))


@cache
def _zone_query() -> Select[str]:
    return select(Mailbox.timezone).where(Mailbox.owner == bindparam("owner")).order_by(
        Mailbox.id)


def _aware(value: datetime | None, name: str) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise InputError(f"{name}: {value.isoformat()} has no time zone "
                         "(add Z or an offset like +02:00)")


def _reading(app: App) -> Connection:
    """A connection for reads that need no transaction of their own: each statement sees
    the store as it is, and no BEGIN or ROLLBACK costs a round trip."""
    return app.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def task_page(app: App, *, assignee: str | None = None, state: str | None = "open",
              due_from: datetime | None = None, due_until: datetime | None = None,
              today: bool = False, today_of: str | None = None, kind: str | None = None,
              after_id: int | None = None, limit: int = 50) -> list[TaskItem]:
    """Tasks ordered by id, after ``after_id``, at most ``limit`` (ask ``limit + 1`` to
    know whether there is another page). ``state=None`` is every state; ``due_from``
    is inclusive, ``due_until`` exclusive; ``today`` keeps only the tasks due before the
    end of the local day of the rep ``today_of`` (of UTC without one); ``assignee`` as
    the module says.

    Raises:
        InputError: an unknown state, a naive datetime, a limit below 1.
    """
    if state is not None and state not in STATES:
        raise InputError(f"state: {state!r} is not one of {', '.join(STATES)}")
    _aware(due_from, "due_from")
    _aware(due_until, "due_until")
    if limit < 1:
        raise InputError(f"limit: {limit} is below 1")
    with _reading(app) as connection:
        if today:
            zone = _zone_of(connection, today_of) if today_of else UTC_ZONE
            end = day_end(zone, app.clock.now())
            due_until = min(due_until, end) if due_until else end
        given = {"state": state, "assignee": assignee, "kind": kind, "due_from": due_from,
                 "due_until": due_until, "after_id": after_id}
        bound = {name: value for name, value in given.items() if value is not None}
        rows = connection.execute(_page_query(frozenset(bound)), {**bound, "limit": limit})
        return [_item(row) for row in rows]


def get_task(app: App, task_id: int) -> TaskItem | None:
    with _reading(app) as connection:
        row = connection.execute(_query().where(Task.id == task_id)).first()
        return _item(row) if row is not None else None


def rep_zone(app: App, owner: str) -> ZoneInfo:
    """The zone of the mailboxes ``owner`` owns (the most common, if they differ), else UTC."""
    with _reading(app) as connection:
        return _zone_of(connection, owner)


def _zone_of(connection: Connection, owner: str) -> ZoneInfo:
    zones = list(connection.scalars(_zone_query(), {"owner": owner}))
    for name, _ in Counter(z for z in zones if z).most_common():
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return UTC_ZONE


def day_end(zone: ZoneInfo, now: datetime) -> datetime:
    """The first instant of the day after ``now``'s local day in ``zone`` (aware)."""
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=zone)


def rep_day(app: App, owner: str, *, now: datetime | None = None) -> list[TaskItem]:
    """The rep's open tasks due before the end of their local today, overdue included,
    soonest due first."""
    now = now or app.clock.now()
    _aware(now, "now")
    with _reading(app) as connection:
        until = day_end(_zone_of(connection, owner), now)
        query = (_query().where(Task.state == "open", Task.assignee == owner,
                                Task.due_at < until)
                 .order_by(Task.due_at, Task.id))
        return [_item(row) for row in connection.execute(query)]


class TaskClosedError(EngineError):
    """The task is done or skipped already: it cannot be closed again."""


class OutcomeError(InputError):
    """An outcome that does not fit the task's kind; ``allowed`` are the ones that do."""

    def __init__(self, message: str, allowed: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allowed = allowed


@cache  # a handful of kinds, asked for each task of every list
def outcomes_of(kind: str) -> tuple[str, ...]:
    """The outcomes a task of ``kind`` may be completed with (none for ``fix_template``)."""
    try:
        return tuple(sorted(TASK_OUTCOMES.get(StepType(kind), frozenset())))
    except ValueError:
        return ()


def close_task(app: App, task_id: int, outcome: str, notes: str | None = None
               ) -> TaskItem | None:
    """Complete an open task with ``outcome`` (``"skipped"`` skips it) through
    :func:`sequencer.services.actions.complete_task`; the task as it is then, or None
    when there is no such task.

    Raises:
        TaskClosedError: the task is closed already (or asks to fix a template).
        OutcomeError: an outcome its kind does not have.
    """
    task = get_task(app, task_id)
    if task is None:
        return None
    _check_open(task)
    allowed = outcomes_of(task.kind)
    if outcome != "skipped" and outcome not in allowed:
        raise OutcomeError(f"outcome: {outcome!r} is not an outcome of a {task.kind} task "
                           f"(use {', '.join(allowed)})", allowed)
    try:
        complete_task(app, task_id, outcome, notes)
    except InputError:
        found = get_task(app, task_id)  # closed by someone else in the meantime?
        if found is not None:
            _check_open(found)
        raise
    return get_task(app, task_id)


def _check_open(task: TaskItem) -> None:
    if task.state != "open":
        raise TaskClosedError(f"task #{task.id} is {task.state} already"
                              + (f" ({task.outcome})" if task.outcome else ""))
    if task.kind == "fix_template":
        raise TaskClosedError(f"task #{task.id} asks to fix a template: fix it, then "
                              "resume the enrollment")
