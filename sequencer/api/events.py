"""``/v1/events``: CRM facts and a rep's verdicts, told to every enrollment concerned.

A stage change or a meeting goes through ``services.actions.record_stage`` /
``record_meeting`` (each sequence exits or branches as it says); a reply mark goes
through the same ``mark_reply`` as ``sequencer record reply``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field, model_validator

from sequencer.api.deps import AppDep
from sequencer.api.errors import ApiError, not_found
from sequencer.api.idempotency import IdempotencyDep
from sequencer.api.pagination import MAX_ID
from sequencer.errors import InputError
from sequencer.reporting.lifecycle import load_lifecycle
from sequencer.services.actions import Recorded, record_meeting, record_stage
from sequencer.services.app import App
from sequencer.services.event_records import NotFoundError, has_prospect, mark

router = APIRouter(prefix="/v1/events", tags=["events"])

Email = Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$",
                             examples=["ann@acme.example"])]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no token, or not a valid one"},
    403: {"description": "the token's scope is too small (write is needed)"},
    404: {"description": "no prospect with that email (or no such reply)"},
    422: {"description": "a field is missing or wrong; `details` names it"},
}


class StageIn(BaseModel):
    email: Email
    stage: str = Field(min_length=1, max_length=60, examples=["opportunity"],
                       description="a stage of the lifecycle (reporting/lifecycle.yaml)")
    value: float | None = Field(default=None, ge=0, le=1e13, allow_inf_nan=False,
                                description="the deal's value, if any")
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$", examples=["USD"])
    occurred_at: AwareDatetime | None = Field(default=None, description="when it happened "
                                              "(ISO 8601 with an offset; default now)")


class MeetingIn(BaseModel):
    email: Email
    occurred_at: AwareDatetime | None = None


class EnrollmentTold(BaseModel):
    sequence: str
    status: str = Field(description="the enrollment's status afterwards")


class RecordedOut(BaseModel):
    email: str
    stage: str | None = Field(description="the prospect's stage now")
    from_stage: str | None
    enrollments: list[EnrollmentTold]


class ReplyMarkIn(BaseModel):
    email: Email | None = None
    event_id: int | None = Field(default=None, ge=1, le=MAX_ID,
                                 description="the reply event to mark (any reply)")
    mark: Literal["positive", "negative"]
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _one_target(self) -> ReplyMarkIn:
        if (self.email is None) == (self.event_id is None):
            raise ValueError("give either email or event_id (one of them)")
        return self


class ReplyMarkOut(BaseModel):
    reply_event_id: int
    mark: str
    changed: bool = Field(description="false when it was marked so already")


def _checked(app: App, email: str, occurred_at: Any) -> None:
    if not has_prospect(app, email):
        raise not_found(f"prospect {email}")
    if occurred_at is not None and occurred_at > app.clock.now():
        raise ApiError(422, "invalid_request", "occurred_at: in the future; record what "
                       "has happened", details=[{"field": "body.occurred_at",
                                                 "message": "in the future"}])


def _out(email: str, recorded: Recorded) -> RecordedOut:
    return RecordedOut(email=email, stage=recorded.stage, from_stage=recorded.from_stage,
                       enrollments=[EnrollmentTold(sequence=s, status=st)
                                    for s, st in recorded.enrollments])


@router.post("/stage", status_code=201, response_model=RecordedOut, responses=ERRORS,
             summary="Record a stage change")
def stage(app: AppDep, idempotency: IdempotencyDep, body: StageIn) -> JSONResponse:
    """The prospect reached a lifecycle stage (a deal value optional). Every enrollment
    of theirs hears of it: sequences whose `exit_on` lists the stage exit."""
    _checked(app, body.email, body.occurred_at)
    lifecycle = load_lifecycle()
    try:
        lifecycle.resolve(body.stage)
    except InputError as exc:
        raise ApiError(422, "invalid_request", f"stage: {exc}",
                       details=[{"field": "body.stage", "message": str(exc)}]) from exc
    return idempotency.run(body, 201, lambda: _out(body.email, record_stage(
        app, body.email, body.stage, value=body.value, currency=body.currency,
        at=body.occurred_at, lifecycle=lifecycle)))


@router.post("/meeting", status_code=201, response_model=RecordedOut, responses=ERRORS,
             summary="Record a meeting booked")
def meeting(app: AppDep, idempotency: IdempotencyDep, body: MeetingIn) -> JSONResponse:
    """A meeting was booked with the prospect: sequences that exit on `meeting_booked` do."""
    _checked(app, body.email, body.occurred_at)
    return idempotency.run(body, 201, lambda: _out(body.email, record_meeting(
        app, body.email, at=body.occurred_at)))


@router.post("/reply-mark", status_code=201, response_model=ReplyMarkOut,
             responses=ERRORS,
             summary="Mark a reply positive or negative")
def reply_mark(app: AppDep, idempotency: IdempotencyDep, body: ReplyMarkIn) -> JSONResponse:
    """A rep's verdict on a reply: the prospect's latest (by email) or the one named by
    its event id; it overrides the phrase rules in every report."""
    def produce() -> ReplyMarkOut:
        try:
            marked = mark(app, positive=body.mark == "positive", email=body.email,
                          event_id=body.event_id, note=body.note)
        except NotFoundError as exc:
            raise not_found(str(exc)) from exc
        except InputError as exc:  # the prospect has not replied
            raise ApiError(404, "not_found", str(exc)) from exc
        return ReplyMarkOut(reply_event_id=marked.reply_event_id, mark=marked.verdict,
                            changed=marked.changed)
    return idempotency.run(body, 201, produce)
