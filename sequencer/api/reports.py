"""``/v1/reports``: the reply report, the funnel, A/B verdicts and learned windows, as
JSON or CSV (``?format=csv`` or ``Accept: text/csv``), the same figures as the CLI's."""

from __future__ import annotations

import csv
import io
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime

from sequencer.api.auth import ReadDep
from sequencer.api.deps import AppDep
from sequencer.api.errors import ApiError
from sequencer.errors import InputError
from sequencer.reporting import formats
from sequencer.reporting.abtest import ab_verdicts
from sequencer.reporting.dimensions import CHOICES, key_columns
from sequencer.reporting.funnel import funnel
from sequencer.reporting.funnel_csv import to_csv as funnel_csv
from sequencer.reporting.report import report
from sequencer.services.learned_report import windows_report

router = APIRouter(prefix="/v1/reports", tags=["reports"])

Format = Annotated[Literal["json", "csv"] | None, Query(
    description="json (default) or csv; `Accept: text/csv` also asks for csv")]
Sequence = Annotated[str | None, Query(min_length=1, max_length=200,
                                       description="only this sequence (by name)")]
Since = Annotated[AwareDatetime | None, Query(description="only what happened since "
                                              "(ISO 8601 with an offset)")]
DOCS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}},
          "description": "JSON, or CSV with a filename when asked"},
    401: {"description": "no token, or not a valid one"},
    403: {"description": "the token's scope is too small"},
    422: {"description": "an unknown breakdown or a bad parameter; `details` names it"},
}


def _wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    return "text/csv" in request.headers.get("accept", "")


def _answer(request: Request, fmt: str | None, name: str, data: Any,
            to_csv: Any) -> Response:
    if _wants_csv(request, fmt):
        return Response(to_csv(data), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{_safe(name)}.csv"'})
    return JSONResponse(data)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:100]


def _not_found(exc: InputError) -> ApiError:
    return ApiError(404, "not_found", str(exc))


@router.get("/replies", summary="Reply rates by any breakdown", responses=DOCS,
            response_model=dict[str, Any])
def replies(request: Request, app: AppDep, principal: ReadDep,
            by: Annotated[str, Query(max_length=200, description=(
                "comma-separated dimensions: " + ", ".join(CHOICES)))] = "sequence",
            sequence: Sequence = None, since: Since = None,
            format: Format = None) -> Response:
    """Reply and positive-reply rates with counts and 95% intervals, as `sequencer report`
    (definitions in the JSON's `definitions`)."""
    dims = tuple(d.strip() for d in by.split(",") if d.strip()) or ("sequence",)
    try:
        key_columns(dims)
    except InputError as exc:
        raise ApiError(422, "invalid_request", f"by: {exc}".replace("--by ", ""), details=[
            {"field": "query.by", "message": f"choose from {', '.join(CHOICES)}"}]) from exc
    result = report(app, dims, sequence=sequence, since=since)
    if _wants_csv(request, format):
        return _answer(request, format, "replies", result, formats.to_csv)
    return JSONResponse(formats.as_json(result))


@router.get("/funnel", summary="The sales funnel", responses=DOCS,
            response_model=dict[str, Any])
def funnel_report(request: Request, app: AppDep, principal: ReadDep,
                  by: Annotated[Literal["sequence", "source"], Query()] = "sequence",
                  sequence: Sequence = None, since: Since = None,
                  format: Format = None) -> Response:
    """Dial connect, positive reply, meeting, acceptance and close rates, stage velocity
    and the qualified pipeline, per group and in total, as `sequencer funnel`."""
    data = funnel(app, sequence=sequence, by=by, since=since)
    return _answer(request, format, "funnel", data, funnel_csv)


def _ab_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["step", "variant", "delivered", "replied", "positive", "weight",
                     "winner"])
    for step in data["steps"]:
        for arm in step.get("arms", []):
            writer.writerow([step.get("step"), arm.get("variant"), arm.get("delivered"),
                             arm.get("replied"), arm.get("positive"), arm.get("weight"),
                             step.get("winner")])
    return out.getvalue()


@router.get("/ab", summary="A/B verdicts of a sequence", responses={
    **DOCS, 404: {"description": "no such sequence, or none of its steps has variants"}},
    response_model=dict[str, Any])
def ab(request: Request, app: AppDep, principal: ReadDep,
       sequence: Annotated[str, Query(min_length=1, max_length=200)],
       format: Format = None) -> Response:
    """Is the difference between variants real, and how much more data each arm needs
    (docs/ab-tests.md), as `sequencer ab SEQUENCE --format json`."""
    try:
        data = ab_verdicts(app, sequence)
    except InputError as exc:
        raise _not_found(exc) from exc
    return _answer(request, format, f"ab-{sequence}", data, _ab_csv)


def _windows_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["segment", "field", "value"])
    for segment in data["segments"]:
        name = segment.get("segment", "")
        for key, value in segment.items():
            if key != "segment":
                writer.writerow([name, key, value])
    return out.getvalue()


@router.get("/windows", summary="Learned send windows of a sequence", responses={
    **DOCS, 404: {"description": "no sequence of that name was published"}},
    response_model=dict[str, Any])
def windows(request: Request, app: AppDep, principal: ReadDep,
            sequence: Annotated[str, Query(min_length=1, max_length=200)],
            format: Format = None) -> Response:
    """What each segment learned, from how many sends, and where the configured windows
    still apply, as `sequencer windows SEQUENCE`."""
    try:
        data = windows_report(app, sequence)
    except InputError as exc:
        raise _not_found(exc) from exc
    return _answer(request, format, f"windows-{sequence}", data, _windows_csv)
