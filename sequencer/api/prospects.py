"""``/v1/prospects``: create, list, read, update and import prospects; their timeline.

The routes are thin: ``sequencer.services.prospect_admin`` checks and stores (the CSV
enrollment's checks: email, IANA time zone, country), ``sequencer.services.timeline``
tells what happened.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

from sequencer.api.auth import ReadDep, WriteDep
from sequencer.api.deps import AppDep, bounded_body
from sequencer.api.errors import ApiError, not_found
from sequencer.api.idempotency import IdempotencyDep
from sequencer.api.pagination import MAX_ID, PageDep, Paginated
from sequencer.api.views import ViewOut
from sequencer.errors import InputError
from sequencer.services import prospect_admin as admin
from sequencer.services.prospect_admin import ImportOutcome, ProspectExists, ProspectView
from sequencer.services.prospects import ProspectRow
from sequencer.services.timeline import TimelineEntry, prospect_exists, prospect_timeline

router = APIRouter(prefix="/v1", tags=["prospects"])
MAX_IMPORT_BYTES = 5 * 2**20
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no token, or not a valid one"},
    403: {"description": "the token's scope is too small"},
    404: {"description": "no such prospect"},
}


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


def _checked(field: str) -> AfterValidator:
    def check(value: str | None) -> str | None:
        value = _no_nul(value)
        if value is None:
            return None
        value = value.strip() or None
        if value is not None and field == "country":
            value = value.upper()
        problem = admin.problem_of(field, value)
        if problem is not None:
            raise ValueError(problem)
        return value
    return AfterValidator(check)


Text = Annotated[str, AfterValidator(_no_nul)]  # a string PostgreSQL can store
ProspectId = Annotated[int, Path(ge=1, le=MAX_ID, description="the prospect's id")]
Email = Annotated[str, Field(max_length=320, examples=["ann@acme.example"]),
                  _checked("email")]


FirstName = Annotated[str | None, Field(max_length=120), _checked("first_name")]
LastName = Annotated[str | None, Field(max_length=120), _checked("last_name")]
Title = Annotated[str | None, Field(max_length=200), _checked("title")]
Company = Annotated[str | None, Field(max_length=200), _checked("company")]
Phone = Annotated[str | None, Field(max_length=60), _checked("phone")]
LinkedIn = Annotated[str | None, Field(max_length=500), _checked("linkedin_url")]
City = Annotated[str | None, Field(max_length=120), _checked("city")]
Country = Annotated[str | None, Field(max_length=3, description="ISO 3166 code, e.g. FR",
                                      examples=["US"]), _checked("country")]
Zone = Annotated[str | None, Field(max_length=64, description="IANA time zone",
                                   examples=["America/New_York"]), _checked("timezone")]
Industry = Annotated[str | None, Field(max_length=120), _checked("industry")]
Owner = Annotated[str | None, Field(max_length=120), _checked("owner")]
Stage = Annotated[str | None, Field(max_length=60), _checked("stage")]
CustomValue = str | int | float | bool | None
Custom = Annotated[dict[Annotated[str, Field(max_length=100)], CustomValue],
                   Field(max_length=100, description="custom fields for templates "
                         "(string, number, boolean)")]


class ProspectFields(BaseModel):
    """The optional fields a prospect is given the same way everywhere (create, update,
    enroll by email); the time zone, custom fields and flags differ per use."""
    model_config = ConfigDict(extra="forbid")
    first_name: FirstName = None
    last_name: LastName = None
    title: Title = None
    company: Company = None
    phone: Phone = None
    linkedin_url: LinkedIn = None
    city: City = None
    country: Country = None
    industry: Industry = None
    owner: Owner = None
    stage: Stage = None


class ProspectIn(ProspectFields):
    email: Email
    timezone: Zone = None
    custom: Custom = Field(default_factory=dict)
    do_not_contact: bool = False


class ProspectPatch(ProspectFields):
    """Only the fields sent change; null clears a field. ``custom`` merges key by key
    (a null value removes that key)."""
    timezone: Zone = None
    custom: Custom | None = None
    do_not_contact: bool | None = None


# The service's view is the answer as is: pydantic reads the dataclass's fields.
ProspectOut = ProspectView


class ImportRow(BaseModel):
    line: int | None = Field(description="the CSV line (the header is line 1)")
    index: int | None = Field(description="the item's position in the JSON list (from 0)")
    email: str
    outcome: Literal["created", "updated", "refused"]
    prospect_id: int | None
    reason: str | None = Field(description="why refused, naming the field")


class ImportResult(BaseModel):
    created: int
    updated: int
    refused: int
    rows: list[ImportRow]


class TimelineOut(ViewOut):
    at: datetime
    kind: str = Field(description="enrolled, email_sent, task_created, task_completed, "
                      "task_skipped, reply, auto_reply, hard_bounce, soft_bounce, blocked, "
                      "unsubscribe, open, click, meeting_booked, stage_changed, "
                      "manual_pause, manual_resume, manual_exit, finished, exited, ...")
    summary: str
    sequence: str | None
    enrollment_id: int | None
    step: str | None


@router.post("/prospects", status_code=201, response_model=ProspectOut,
             summary="Create a prospect",
             responses={**ERRORS, 409: {"description": "the email is known (already_exists; "
                                        "details name the existing id)"}})
def create_prospect(body: ProspectIn, app: AppDep, idempotency: IdempotencyDep) -> Any:
    """One new prospect. The email must be new (case-insensitively): a known one answers
    409 `already_exists` with the existing prospect's id in `details`."""
    fields = body.model_dump(exclude={"email", "custom", "do_not_contact"})
    row = ProspectRow(0, body.email, fields, dict(body.custom))

    def produce() -> ProspectOut:
        try:
            return admin.create_prospect(app, row, do_not_contact=body.do_not_contact)
        except ProspectExists as exc:
            raise ApiError(409, "already_exists", str(exc), details=[{
                "field": "body.email", "message": str(exc),
                "existing_id": exc.existing_id}]) from None
    return idempotency.run(body, 201, produce)


@router.get("/prospects", response_model=Paginated[ProspectOut], summary="List prospects",
            responses=ERRORS)
def list_prospects(principal: ReadDep, app: AppDep, page: PageDep,
                   email: Annotated[Text | None, Query(max_length=320)] = None,
                   owner: Annotated[Text | None, Query(max_length=120)] = None,
                   stage: Annotated[Text | None, Query(max_length=60)] = None,
                   company: Annotated[Text | None, Query(max_length=200)] = None,
                   ) -> Paginated[ProspectOut]:
    """Prospects by id; each filter matches exactly (the email whatever its case)."""
    rows = admin.list_prospects(app, limit=page.limit + 1, after=page.after, email=email,
                                owner=owner, stage=stage, company=company)
    items, cursor = page.page(rows, key=lambda r: r.id)
    return Paginated[ProspectOut](items=items, next_cursor=cursor)


@router.get("/prospects/{prospect_id}", response_model=ProspectOut, summary="Show a prospect",
            responses=ERRORS)
def get_prospect(prospect_id: ProspectId, principal: ReadDep, app: AppDep) -> ProspectOut:
    found = admin.get_prospect(app, prospect_id)
    if found is None:
        raise not_found(f"prospect #{prospect_id}")
    return found


@router.patch("/prospects/{prospect_id}", response_model=ProspectOut,
              summary="Update a prospect", responses=ERRORS)
def update_prospect(prospect_id: ProspectId, body: ProspectPatch, principal: WriteDep,
                    app: AppDep) -> ProspectOut:
    """Change the fields sent (null clears one); `custom` merges, a null value removes a
    key; `do_not_contact: true` keeps the prospect out of every future enrollment."""
    changes = body.model_dump(exclude_unset=True)
    if changes.get("do_not_contact", False) is None:
        raise ApiError(422, "invalid_request", "do_not_contact: true or false, not null",
                       details=[{"field": "body.do_not_contact", "message": "not null"}])
    found = admin.update_prospect(app, prospect_id, changes)
    if found is None:
        raise not_found(f"prospect #{prospect_id}")
    return found


IMPORT_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {
        "type": "array", "maxItems": admin.MAX_IMPORT,
        "items": {"type": "object", "required": ["email"],
                  "properties": {"email": {"type": "string"},
                                 "custom": {"type": "object"}},
                  "additionalProperties": True}}},
    "text/csv": {"schema": {"type": "string"},
                 "example": "email,first_name,company,timezone,country\n"
                            "ann@acme.example,Ann,Acme,America/New_York,US\n"}}}}


@router.post("/prospects/import", status_code=201, response_model=ImportResult,
             summary="Import prospects (JSON list or CSV)", openapi_extra=IMPORT_BODY,
             responses={**ERRORS, 415: {"description": "neither JSON nor CSV"}})
async def import_prospects(request: Request, app: AppDep,
                           idempotency: IdempotencyDep) -> Any:
    """Create or update prospects by email: a JSON list of up to 1,000 prospects (the
    fields of `POST /v1/prospects`), or a `text/csv` body with the columns `sequencer
    enroll` reads (`email`, `first_name`, ..., any other column a custom field). Each row
    answers created, updated or refused (with the line or index and the reason); a bad
    row never stops the others. Empty fields keep what is stored; custom fields merge."""
    raw = await bounded_body(request, MAX_IMPORT_BYTES, "import")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_input", "the body is not UTF-8 text") from None
    try:
        if kind in ("text/csv", "application/csv"):
            rows, by = admin.rows_from_csv(text), "line"
        elif kind in ("application/json", ""):
            rows, by = _json_rows(text), "index"
        else:
            raise ApiError(415, "unsupported_media_type", f"send application/json or "
                           f"text/csv, not {kind!r}")
    except InputError as exc:
        raise ApiError(400, "invalid_input", str(exc)) from None

    def produce() -> ImportResult:
        return _import_result(admin.import_prospects(app, rows), by)
    return idempotency.run({"type": kind, "body": text}, 201, produce)


@router.get("/prospects/{prospect_id}/timeline", response_model=Paginated[TimelineOut],
            summary="A prospect's timeline", responses=ERRORS)
def timeline(prospect_id: ProspectId, principal: ReadDep, app: AppDep,
             page: PageDep) -> Paginated[TimelineOut]:
    """Everything that happened to the prospect, oldest first: enrollments, emails sent
    (with subject), tasks and their outcomes, replies, out-of-office answers, bounces,
    unsubscribes, meetings, stage changes, pauses, resumes and exits."""
    if not prospect_exists(app, prospect_id):
        raise not_found(f"prospect #{prospect_id}")
    return entries_page(prospect_timeline(app, prospect_id), page)


def entries_page(entries: list[TimelineEntry], page: Any) -> Paginated[TimelineOut]:
    start = page.after or 0  # the cursor is the position of the last entry given
    numbered = list(enumerate(entries, start=1))[start:start + page.limit + 1]
    items, cursor = page.page(numbered, key=lambda item: item[0])
    return Paginated[TimelineOut](items=[TimelineOut.of(e) for _, e in items],
                                  next_cursor=cursor)


def _json_rows(text: str) -> list[ProspectRow]:
    try:
        data = json.loads(text)
    except ValueError:
        raise InputError("the body is not JSON (or send text/csv)") from None
    if isinstance(data, dict) and isinstance(data.get("prospects"), list):
        data = data["prospects"]
    if not isinstance(data, list):
        raise InputError("send a JSON list of prospects")
    if len(data) > admin.MAX_IMPORT:
        raise InputError(f"at most {admin.MAX_IMPORT} prospects a request (got {len(data)})")
    try:
        items = _ITEMS.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"item {where}: {first['msg']}") from None
    return [admin.row_of(i, item) for i, item in enumerate(items)]


def _import_result(outcomes: list[ImportOutcome], by: str) -> ImportResult:
    rows = [ImportRow(line=o.line if by == "line" else None,
                      index=o.line if by == "index" else None, email=o.email,
                      outcome=o.outcome,  # type: ignore[arg-type]  # the service's three
                      prospect_id=o.prospect_id, reason=o.reason) for o in outcomes]
    count = {k: sum(1 for r in rows if r.outcome == k) for k in ("created", "updated",
                                                                  "refused")}
    return ImportResult(created=count["created"], updated=count["updated"],
                        refused=count["refused"], rows=rows)


_ITEMS = TypeAdapter(list[dict[str, CustomValue | dict[str, CustomValue]]])
