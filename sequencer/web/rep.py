"""The rep's pages: today's tasks with one-click outcomes, a prospect's page with their
enrollments and timeline, and pausing, resuming or exiting an enrollment."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sequencer.errors import EngineError, InputError
from sequencer.services.app import App
from sequencer.services.enrollment_actions import (
    EnrollmentView,
    Missing,
    enrollment_detail,
    exit_enrollment,
    list_enrollments,
    pause_enrollment,
    resume_enrollment,
)
from sequencer.services.prospect_admin import get_prospect
from sequencer.services.task_queue import close_task, get_task, outcomes_of, rep_day, rep_zone
from sequencer.services.timeline import prospect_timeline
from sequencer.web.deps import PREFIX, UserDep, WebAppDep, refuse
from sequencer.web.render import message, page

router = APIRouter()

# The order buttons appear in: the likeliest outcome of a call first.
OUTCOME_ORDER = ("connected", "voicemail", "no_answer", "wrong_number", "done")
SKIP = "skipped"
ENROLLMENT_ACTIONS = {"pause": "Pause", "resume": "Resume", "exit": "Exit"}
MAX_ENROLLMENTS = 200  # a prospect is in a handful; the page stays bounded anyway


def buttons_of(kind: str) -> tuple[str, ...]:
    """The one-click outcomes of a task kind, in button order (skip comes separately)."""
    allowed = outcomes_of(kind)  # none for fix_template: the rep cannot close it with a click
    return tuple(o for o in OUTCOME_ORDER if o in allowed)


@router.get("/", response_class=HTMLResponse)
@router.get("/today", response_class=HTMLResponse)
def today(request: Request, user: UserDep, app: WebAppDep, done: int | None = None
          ) -> Response:
    owner = user.owner
    zone = rep_zone(app, owner) if owner else None
    tasks = rep_day(app, owner) if owner else []
    now = app.clock.now()
    start = (datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
             if zone else now)
    rows = [{"task": t, "overdue": t.due_at < start, "outcomes": buttons_of(t.kind)}
            for t in tasks]
    return page(request, "today.html", user, title="Today", rows=rows,
                zone=str(zone) if zone else "UTC", day=now.astimezone(zone) if zone else now,
                overdue=sum(1 for r in rows if r["overdue"]), result=_result(app, done))


def _result(app: App, task_id: int | None) -> dict[str, Any] | None:
    """What a completed task did: its outcome and the enrollment's status and next step."""
    if task_id is None:
        return None
    task = get_task(app, task_id)
    if task is None or task.state == "open":
        return None
    detail = enrollment_detail(app, task.enrollment_id)
    return {"task": task, "next_step": detail.next_step if detail else None,
            "why": detail.why if detail else None}


@router.post("/tasks/{task_id}")
def work_task(request: Request, task_id: int, user: UserDep, app: WebAppDep,
              outcome: Annotated[str, Form()] = "", notes: Annotated[str, Form()] = "",
              csrf: Annotated[str, Form()] = "") -> Response:
    refused = refuse(request, user, csrf)
    if refused is not None:
        return refused
    try:
        done = close_task(app, task_id, outcome, notes.strip() or None)
    except (InputError, EngineError) as exc:
        return message(request, user, 409, "That did not work", str(exc))
    if done is None:
        return message(request, user, 404, "No such task", f"There is no task #{task_id}.")
    return RedirectResponse(f"{PREFIX}/today?done={task_id}#result", 303)


@router.get("/prospects/{prospect_id}", response_class=HTMLResponse)
def prospect(request: Request, prospect_id: int, user: UserDep, app: WebAppDep,
             did: str | None = None) -> Response:
    card = get_prospect(app, prospect_id)
    if card is None:
        return message(request, user, 404, "No such prospect",
                       f"There is no prospect #{prospect_id}.")
    name = " ".join(p for p in (card.first_name, card.last_name) if p) or card.email
    enrollments: list[EnrollmentView] = list_enrollments(app, limit=MAX_ENROLLMENTS,
                                                         prospect_id=prospect_id)
    return page(request, "prospect.html", user, title=name, name=name, card=card,
                enrollments=enrollments, timeline=prospect_timeline(app, prospect_id),
                actions=ENROLLMENT_ACTIONS, did=did if did in ENROLLMENT_ACTIONS else None)


@router.post("/enrollments/{enrollment_id}/{action}")
def act(request: Request, enrollment_id: int, action: str, user: UserDep, app: WebAppDep,
        csrf: Annotated[str, Form()] = "") -> Response:
    refused = refuse(request, user, csrf)
    if refused is not None:
        return refused
    by = f"{user.label} (web app)"
    try:
        if action == "pause":
            done = pause_enrollment(app, enrollment_id, f"paused by {user.label}", by=by)
        elif action == "resume":
            done = resume_enrollment(app, enrollment_id, by=by)
        elif action == "exit":
            done = exit_enrollment(app, enrollment_id, f"exited by {user.label}", by=by)
        else:
            raise Missing(f"action {action!r} (pause, resume or exit)")
    except Missing as exc:
        return message(request, user, 404, "Not found", str(exc))
    except (InputError, EngineError) as exc:
        return message(request, user, 409, "That did not work", str(exc))
    return RedirectResponse(f"{PREFIX}/prospects/{done.prospect_id}?did={action}#enrollments",
                            303)
