"""``/v1/sequences``: the published sequences, their versions and steps; checking a draft
as ``sequencer validate`` does; publishing a definition (admin).

The routes are thin: ``sequencer.services.sequence_catalog`` does the work.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from sequencer.api.auth import AdminDep, ReadDep
from sequencer.api.deps import AppDep, bounded_body
from sequencer.api.errors import ApiError, not_found
from sequencer.api.idempotency import MAX_KEY_LENGTH, Idempotency, idempotency
from sequencer.api.pagination import PageDep, Paginated
from sequencer.api.views import ViewOut
from sequencer.services import sequence_catalog as catalog

router = APIRouter(prefix="/v1", tags=["sequences"])
MAX_SOURCE_BYTES = 1 * 2**20
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no token, or not a valid one"},
    403: {"description": "the token's scope is too small"},
    404: {"description": "no such sequence or version"},
}
Name = Annotated[str, Path(max_length=200, pattern=r"^[^\x00/]+$",
                           description="the sequence's name")]
Version = Annotated[str, Path(max_length=64, pattern=r"^[^\x00/]+$",
                              description="the version (content hash), or `latest`")]


class Counts(BaseModel):
    active: int
    paused: int
    finished: int
    exited: int


class StepOut(ViewOut):
    id: str
    type: str
    wait: str = Field(description="after the previous step: '2 business days', '0 days'")
    variants: list[str] = Field(description="'id: template' of each variant (emails)")
    thread: str | None
    goto: str | None
    otherwise: str | None = Field(description="a branch's else")
    instructions: str | None


class VersionOut(ViewOut):
    id: int
    version: str
    created_at: datetime
    path: str | None


class SequenceOut(BaseModel):
    name: str
    latest_version: str
    latest_version_id: int
    versions: int = Field(description="how many versions were published")
    updated_at: datetime
    enrollments: Counts = Field(description="enrollments by status, every version")


class SequenceDetailOut(BaseModel):
    name: str
    description: str
    versions: list[VersionOut] = Field(description="oldest first")
    steps: list[StepOut] = Field(description="the latest version's steps")
    enrollments: Counts


class VersionDetailOut(BaseModel):
    name: str
    id: int
    version: str
    created_at: datetime
    path: str | None
    source: str = Field(description="the YAML definition as published")
    steps: list[StepOut]
    enrollments: Counts = Field(description="this version's enrollments by status")


class ProblemOut(ViewOut):
    file: str
    line: int = Field(description="1-based; 0 when unknown")
    message: str
    severity: Literal["error", "warning"]
    rule: str | None = Field(description="the lint's code, for warnings")


class ValidationOut(BaseModel):
    valid: bool = Field(description="no errors (warnings allowed)")
    name: str | None
    version: str | None = Field(description="the version it would be published as")
    problems: list[ProblemOut]


class PublishedOut(BaseModel):
    name: str
    version: str
    version_id: int
    created: bool = Field(description="false: this exact definition was published before")
    warnings: list[ProblemOut]


class Source(BaseModel):
    source: str = Field(max_length=MAX_SOURCE_BYTES, description="the YAML definition")
    filename: str = Field(default="draft.yaml", max_length=200, pattern=r"^[^\x00]*$",
                          description="names the file in problems")


YAML_BODY = {"requestBody": {"required": True, "content": {
    "application/yaml": {"schema": {"type": "string"},
                         "example": "name: demo\nschedule: ...\nsteps: ...\n"},
    "text/yaml": {"schema": {"type": "string"}},
    "application/json": {"schema": Source.model_json_schema()}}}}


@router.get("/sequences", response_model=Paginated[SequenceOut], summary="List sequences",
            responses=ERRORS)
def list_sequences(principal: ReadDep, app: AppDep, page: PageDep) -> Paginated[SequenceOut]:
    """Each published sequence with its latest version, how many versions it has, and its
    live enrollments by status. Ordered by latest version id."""
    found = sorted(catalog.list_sequences(app), key=lambda s: s.latest_version_id)
    rows = [s for s in found if page.after is None or s.latest_version_id > page.after]
    items, cursor = page.page(rows[:page.limit + 1], key=lambda s: s.latest_version_id)
    return Paginated[SequenceOut](items=[SequenceOut(
        name=s.name, latest_version=s.latest_version, latest_version_id=s.latest_version_id,
        versions=s.versions, updated_at=s.updated_at, enrollments=Counts(**s.enrollments))
        for s in items], next_cursor=cursor)


@router.get("/sequences/{name}", response_model=SequenceDetailOut, summary="Show a sequence",
            responses=ERRORS)
def show_sequence(name: Name, principal: ReadDep, app: AppDep) -> SequenceDetailOut:
    """Its versions (ids, hashes, when published) and the steps of the latest."""
    found = catalog.sequence_detail(app, name)
    if found is None:
        raise not_found(f"sequence {name!r}")
    return SequenceDetailOut(name=found.name, description=found.description,
                             versions=[VersionOut.of(v) for v in found.versions],
                             steps=[StepOut.of(s) for s in found.steps],
                             enrollments=Counts(**found.enrollments))


@router.get("/sequences/{name}/versions/{version}", response_model=VersionDetailOut,
            summary="Show one version of a sequence", responses=ERRORS)
def show_version(name: Name, version: Version, principal: ReadDep,
                 app: AppDep) -> VersionDetailOut:
    """The version's source YAML and steps (`latest` for the newest)."""
    found = catalog.version_detail(app, name, version)
    if found is None:
        raise not_found(f"version {version!r} of sequence {name!r}")
    info = found.info
    return VersionDetailOut(name=found.name, id=info.id, version=info.version,
                            created_at=info.created_at, path=info.path, source=found.source,
                            steps=[StepOut.of(s) for s in found.steps],
                            enrollments=Counts(**found.enrollments))


@router.post("/sequences/validate", response_model=ValidationOut,
             summary="Check a draft sequence", openapi_extra=YAML_BODY,
             responses={**ERRORS, 415: {"description": "neither YAML nor JSON"}})
async def validate(request: Request, principal: ReadDep, app: AppDep) -> ValidationOut:
    """Every problem of a draft (YAML body, or JSON `{"source": ...}`), found as
    `sequencer validate` finds them, templates included. Nothing is stored."""
    source = await _source(request)
    report = catalog.validate_draft(source.source, source.filename,
                                    templates_root=app.templates)
    return ValidationOut(valid=report.valid, name=report.name, version=report.version,
                         problems=[ProblemOut.of(p) for p in report.problems])


@router.post("/sequences", status_code=201, response_model=PublishedOut,
             summary="Publish a sequence (admin)", openapi_extra=YAML_BODY,
             responses={**ERRORS, 415: {"description": "neither YAML nor JSON"},
                        422: {"description": "the definition has errors (invalid_sequence, "
                              "each problem in details)"}})
async def publish(request: Request, principal: AdminDep, app: AppDep) -> Any:
    """Publish a YAML definition: a changed definition becomes a new version (`created`),
    the same one is found again. Running enrollments keep the version they started on;
    new enrollments by name take the latest."""
    source = await _source(request)
    key = request.headers.get("idempotency-key")
    if key is not None and len(key) > MAX_KEY_LENGTH:
        raise ApiError(422, "invalid_request", f"Idempotency-Key: at most {MAX_KEY_LENGTH} "
                       "characters", details=[{"field": "header.idempotency-key",
                                               "message": "too long"}])
    keeper: Idempotency = await idempotency(request, principal, key)  # admin implies write

    def produce() -> PublishedOut:
        done = catalog.publish_text(app, source.source, source.filename)
        return PublishedOut(name=done.name, version=done.version, version_id=done.version_id,
                            created=done.created,
                            warnings=[ProblemOut.of(p) for p in done.problems])
    return keeper.run(source.model_dump(), 201, produce)


async def _source(request: Request) -> Source:
    raw = await bounded_body(request, MAX_SOURCE_BYTES, "sequence definition")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_input", "the body is not UTF-8 text") from None
    if "\x00" in text:
        raise ApiError(400, "invalid_input", "the body contains a NUL character")
    if kind in ("application/yaml", "text/yaml", "application/x-yaml", "text/plain"):
        return Source(source=text)
    if kind != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the YAML as application/yaml "
                       f"or text/yaml, or JSON {{\"source\": ...}}; not {kind or 'nothing'!r}")
    try:
        return Source.model_validate(json.loads(text))
    except ValueError as exc:
        raise ApiError(422, "invalid_request", "body: send JSON {\"source\": \"...\"}",
                       details=[{"field": "body.source", "message": str(exc)[:300]}]) from None
