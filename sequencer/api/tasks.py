"""``/v1/tasks``: a rep's queue of calls, LinkedIn touches and manual emails.

The routes are thin: ``sequencer.services.task_queue`` reads the queue and closes
tasks (through the same ``complete_task`` as ``sequencer task done``).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, Field
from starlette.concurrency import run_in_threadpool

from sequencer.api.auth import Principal, ReadDep, WriteDep
from sequencer.api.deps import AppDep
from sequencer.api.errors import ApiError, not_found
from sequencer.api.pagination import MAX_ID, PageDep, Paginated
from sequencer.api.views import ViewOut
from sequencer.services.task_queue import (
    OutcomeError,
    close_task,
    get_task,
    task_page,
)

router = APIRouter(prefix="/v1", tags=["tasks"])

TaskKind = Literal["call", "manual_email", "linkedin_connect", "linkedin_message",
                   "linkedin_view", "task", "fix_template"]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no token, or not a valid one"},
    403: {"description": "the token's scope is too small"},
    404: {"description": "no such task"},
}
TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="the task's id")]


class TaskOut(ViewOut):
    id: int
    kind: str = Field(description="call, manual_email, linkedin_connect, linkedin_message, "
                                  "linkedin_view, task, or fix_template (a template to fix)")
    step: str
    due_at: datetime
    state: Literal["open", "done", "skipped"]
    outcome: str | None
    notes: str | None
    assignee: str | None = Field(description="the task's assignee, else the owner of the "
                                             "mailbox its enrollment sends from")
    outcomes: list[str] = Field(description="the outcomes this task may be completed with")
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


class CompleteTask(BaseModel):
    outcome: str = Field(min_length=1, max_length=32, description="one of the task's "
                         "`outcomes`: connected, voicemail, no_answer or wrong_number for "
                         "a call; done or skipped for the others",
                         examples=["voicemail"])
    notes: str | None = Field(default=None, max_length=10_000)


class SkipTask(BaseModel):
    notes: str | None = Field(default=None, max_length=10_000)


def _assignee(principal: Principal, assignee: str | None) -> str | None:
    if assignee != "me":
        return assignee
    if principal.owner is None:
        raise ApiError(422, "invalid_request", "assignee: 'me' needs a token with an owner "
                       "(sequencer token create NAME --owner REP)",
                       details=[{"field": "query.assignee", "message": "this token has no owner"}])
    return principal.owner


@router.get("/tasks", response_model=Paginated[TaskOut], summary="List tasks",
            responses={k: v for k, v in ERRORS.items() if k != 404})
async def list_tasks(
    app: AppDep, principal: ReadDep, page: PageDep,
    assignee: Annotated[str | None, Query(min_length=1, max_length=120, description=(
        "a rep (`me`: the token's owner); a task without an assignee belongs to the owner "
        "of the mailbox it sends from"))] = None,
    state: Annotated[Literal["open", "done", "skipped", "all"], Query()] = "open",
    kind: Annotated[TaskKind | None, Query()] = None,
    due_from: Annotated[AwareDatetime | None, Query(description="due at or after (ISO "
                                                    "8601 with an offset)")] = None,
    due_until: Annotated[AwareDatetime | None, Query(description="due before (ISO 8601 "
                                                     "with an offset)")] = None,
    due: Annotated[Literal["today"] | None, Query(description=(
        "`today`: due before the end of the assignee's local day (the zone of their "
        "mailboxes; the token owner's without an assignee), overdue included"))] = None,
) -> Paginated[TaskOut]:
    """Tasks ordered by id, filtered by assignee, state, kind and due time."""
    who = _assignee(principal, assignee)
    rows = await run_in_threadpool(partial(
        task_page, app, assignee=who, state=None if state == "all" else state,
        due_from=due_from, due_until=due_until, today=due == "today",
        today_of=who or principal.owner, kind=kind, after_id=page.after, limit=page.limit + 1))
    items, cursor = page.page(rows, key=lambda r: r.id)
    return Paginated[TaskOut](items=[TaskOut.of(t) for t in items], next_cursor=cursor)


@router.get("/tasks/{task_id}", response_model=TaskOut, summary="Show a task",
            responses=ERRORS)
def show_task(app: AppDep, principal: ReadDep, task_id: TaskId) -> TaskOut:
    """One task, with its prospect and enrollment."""
    found = get_task(app, task_id)
    if found is None:
        raise not_found(f"task #{task_id}")
    return TaskOut.of(found)


def _close(app: AppDep, task_id: int, outcome: str, notes: str | None) -> TaskOut:
    try:
        found = close_task(app, task_id, outcome, notes)
    except OutcomeError as exc:
        raise ApiError(422, "invalid_outcome", str(exc), details=[
            {"field": "body.outcome", "message": f"use one of {', '.join(exc.allowed)}"}]
            ) from exc
    if found is None:
        raise not_found(f"task #{task_id}")
    return TaskOut.of(found)


CLOSE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS, 409: {"description": "the task is closed already"},
    422: {"description": "an outcome this kind of task does not have"}}


@router.post("/tasks/{task_id}/complete", response_model=TaskOut, summary="Complete a task",
             responses=CLOSE_ERRORS)
def complete(app: AppDep, principal: WriteDep, task_id: TaskId, body: CompleteTask) -> TaskOut:
    """Log the task's outcome; the enrollment moves on (a branch on the call's outcome
    reads it). The answer shows the enrollment's status afterwards."""
    return _close(app, task_id, body.outcome, body.notes)


@router.post("/tasks/{task_id}/skip", response_model=TaskOut, summary="Skip a task",
             responses=CLOSE_ERRORS)
def skip(app: AppDep, principal: WriteDep, task_id: TaskId,
         body: SkipTask | None = None) -> TaskOut:
    """Skip the task: the enrollment moves on without it."""
    return _close(app, task_id, "skipped", body.notes if body else None)
