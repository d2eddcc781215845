"""``/v1/enrollments``: enroll one or many, list, explain, pause, resume, exit, history.

The routes are thin: ``sequencer.services.enrollment_actions`` enrolls through the CSV
enrollment's own pipeline and acts under the enrollment's row lock;
``sequencer.services.timeline`` tells the history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from sequencer.api.auth import ReadDep, WriteDep
from sequencer.api.deps import AppDep
from sequencer.api.errors import ApiError, not_found
from sequencer.api.idempotency import IdempotencyDep
from sequencer.api.pagination import MAX_ID, PageDep, Paginated
from sequencer.api.prospects import (
    Custom,
    ProspectFields,
    Text,
    TimelineOut,
    entries_page,
)
from sequencer.api.views import ViewOut
from sequencer.errors import InputError
from sequencer.services import enrollment_actions as actions
from sequencer.services.enrollment_actions import MAX_ITEMS, EnrollmentView, Missing
from sequencer.services.timeline import enrollment_history

router = APIRouter(prefix="/v1", tags=["enrollments"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no token, or not a valid one"},
    403: {"description": "the token's scope is too small"},
    404: {"description": "no such enrollment"},
}
ACT_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS, 409: {"description": "the enrollment's status does not allow it (conflict)"}}
EnrollmentId = Annotated[int, Path(ge=1, le=MAX_ID, description="the enrollment's id")]
Status = Literal["active", "paused", "finished", "exited"]
Reason = Annotated[Text, Field(min_length=1, max_length=200)]


class EnrollItem(ProspectFields):
    """A prospect by id, or by email (created when new, with these fields)."""
    prospect_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    # Loose on purpose: a bad email or zone skips this item (with its reason), it does
    # not refuse the whole request.
    email: Annotated[Text | None, Field(max_length=1000)] = None
    timezone: Annotated[Text | None, Field(max_length=200)] = None
    custom: Custom = Field(default_factory=dict)

    @model_validator(mode="after")
    def one_of(self) -> EnrollItem:
        if (self.prospect_id is None) == (self.email is None):
            raise ValueError("give either prospect_id or email")
        return self


class EnrollIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sequence: Annotated[Text, Field(min_length=1, max_length=200,
                                    description="enrolls into its latest version")]
    mailbox: Annotated[Text, Field(min_length=1, max_length=320,
                                   description="the sending mailbox's address")]
    prospects: list[EnrollItem] = Field(min_length=1, max_length=MAX_ITEMS)


class ItemOut(BaseModel):
    index: int
    email: str | None
    status: Literal["enrolled", "skipped"]
    prospect_id: int | None
    enrollment_id: int | None
    code: str | None = Field(description="why skipped: invalid_email, unknown_timezone, "
                             "invalid_field, unknown_prospect, suppressed, do_not_contact, "
                             "already_active, duplicate_in_file, ...")
    reason: str | None


class EnrollOut(BaseModel):
    sequence: str
    version: str
    enrolled: int
    skipped: int
    items: list[ItemOut]


class EnrollmentOut(ViewOut):
    id: int
    prospect_id: int
    email: str
    sequence: str
    version: str
    version_id: int
    mailbox: str
    status: Status
    current_step: str | None
    next_run_at: datetime | None
    schedule_note: str | None = Field(description="why next_run_at is then")
    pause_reason: str | None
    resume_at: datetime | None
    exit_reason: str | None
    started_at: datetime
    ended_at: datetime | None


class EnrollmentDetailOut(EnrollmentOut):
    next_step: str | None = Field(description="the step that comes next, and its type")
    why: str = Field(description="what it waits for (as `sequencer explain` says)")


class PauseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason = "paused by hand"
    until: AwareDatetime | None = Field(default=None, description="resume by itself then "
                                        "(with a zone); else until resumed")


class ExitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason = "exited by hand"


@router.post("/enrollments", status_code=201, response_model=EnrollOut,
             summary="Enroll one or many prospects",
             responses={**ERRORS, 422: {"description": "no such sequence or mailbox, or a "
                                        "malformed body (the field is named)"}})
async def enroll(body: EnrollIn, app: AppDep, idempotency: IdempotencyDep) -> Any:
    """Enroll up to 1,000 prospects (by id, or by email: created when new) into the
    latest version of a sequence, from a mailbox. Each item answers enrolled (with the
    enrollment's id) or skipped with the reason `sequencer enroll` gives: invalid email,
    unknown time zone, suppressed, do-not-contact, already active, duplicate."""
    items = [item.model_dump(exclude_none=True) for item in body.prospects]

    def produce() -> EnrollOut:
        try:
            done = actions.enroll_items(app, body.sequence, body.mailbox, items)
        except InputError as exc:
            field = "body.sequence" if str(exc).startswith("no sequence") else "body.mailbox"
            raise ApiError(422, "invalid_request", str(exc),
                           details=[{"field": field, "message": str(exc)}]) from None
        return EnrollOut(sequence=done.sequence, version=done.version, enrolled=done.enrolled,
                         skipped=done.skipped, items=[ItemOut(
                             index=i.index, email=i.email,
                             status=i.status,  # type: ignore[arg-type]  # the two
                             prospect_id=i.prospect_id, enrollment_id=i.enrollment_id,
                             code=i.code, reason=i.reason) for i in done.items])
    return await run_in_threadpool(idempotency.run, body, 201, produce)


@router.get("/enrollments", response_model=Paginated[EnrollmentOut],
            summary="List enrollments", responses=ERRORS)
def list_enrollments(principal: ReadDep, app: AppDep, page: PageDep,
                     sequence: Annotated[Text | None, Query(max_length=200)] = None,
                     status: Status | None = None,
                     prospect_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                     mailbox: Annotated[Text | None, Query(max_length=320)] = None,
                     ) -> Paginated[EnrollmentOut]:
    """Enrollments by id, filtered by sequence name, status, prospect or mailbox."""
    rows = actions.list_enrollments(app, limit=page.limit + 1, after=page.after,
                                    sequence=sequence, status=status,
                                    prospect_id=prospect_id, mailbox=mailbox)
    items, cursor = page.page(rows, key=lambda r: r.id)
    return Paginated[EnrollmentOut](items=[EnrollmentOut.of(e) for e in items],
                                    next_cursor=cursor)


@router.get("/enrollments/{enrollment_id}", response_model=EnrollmentDetailOut,
            summary="Show an enrollment and why it waits", responses=ERRORS)
def show_enrollment(enrollment_id: EnrollmentId, principal: ReadDep,
                    app: AppDep) -> EnrollmentDetailOut:
    """Its status, current step, next run, and why it has not happened yet: the window it
    waits for in the prospect's time, the mailbox cap, the pause, the rep's task..."""
    found = actions.enrollment_detail(app, enrollment_id)
    if found is None:
        raise not_found(f"enrollment #{enrollment_id}")
    return EnrollmentDetailOut(**EnrollmentOut.of(found.enrollment).model_dump(),
                               next_step=found.next_step, why=found.why)


@router.post("/enrollments/{enrollment_id}/pause", response_model=EnrollmentOut,
             summary="Pause an enrollment", responses=ACT_ERRORS)
def pause(enrollment_id: EnrollmentId, body: PauseIn, principal: WriteDep,
          app: AppDep) -> EnrollmentOut:
    """Pause an active (or paused) enrollment, until `until` or until resumed."""
    return _acting(lambda: actions.pause_enrollment(app, enrollment_id, body.reason,
                                                    body.until, by=principal.name))


@router.post("/enrollments/{enrollment_id}/resume", response_model=EnrollmentOut,
             summary="Resume a paused enrollment", responses=ACT_ERRORS)
def resume(enrollment_id: EnrollmentId, principal: WriteDep, app: AppDep) -> EnrollmentOut:
    """Its current step goes out in its next send window."""
    return _acting(lambda: actions.resume_enrollment(app, enrollment_id, by=principal.name))


@router.post("/enrollments/{enrollment_id}/exit", response_model=EnrollmentOut,
             summary="End an enrollment", responses=ACT_ERRORS)
def exit_(enrollment_id: EnrollmentId, body: ExitIn, principal: WriteDep,
          app: AppDep) -> EnrollmentOut:
    """End an active or paused enrollment for good, with a reason."""
    return _acting(lambda: actions.exit_enrollment(app, enrollment_id, body.reason,
                                                   by=principal.name))


@router.get("/enrollments/{enrollment_id}/history", response_model=Paginated[TimelineOut],
            summary="An enrollment's history", responses=ERRORS)
def history(enrollment_id: EnrollmentId, principal: ReadDep, app: AppDep,
            page: PageDep) -> Paginated[TimelineOut]:
    """What happened to this enrollment, oldest first: enrolled, each email (with its
    subject), tasks and outcomes, answers, pauses, resumes, the end."""
    entries = enrollment_history(app, enrollment_id)
    if not entries:
        raise not_found(f"enrollment #{enrollment_id}")
    return entries_page(entries, page)


def _acting(act: Any) -> EnrollmentOut:
    try:
        view: EnrollmentView = act()
    except Missing as exc:
        raise not_found(exc.what) from None
    return EnrollmentOut.of(view)
