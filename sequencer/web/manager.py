"""The manager's pages: the reply-rate report with its charts, sequences with their
live counts and a calendar preview of their next touches, mailboxes against caps."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from sequencer.reporting.html import render_html
from sequencer.reporting.page import page_reports
from sequencer.services.sequence_catalog import list_sequences, sequence_detail
from sequencer.services.status import status
from sequencer.services.web_preview import PreviewTouch, sequence_preview
from sequencer.web.deps import UserDep, WebAppDep
from sequencer.web.render import SECURITY_HEADERS, message, page, zone

router = APIRouter()

# The report is our own self-contained HTML (inline CSS and SVG, no script).
REPORT_HEADERS = {**SECURITY_HEADERS, "X-Frame-Options": "SAMEORIGIN",
                  "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                             "frame-ancestors 'self'; base-uri 'none'"}


def _since(text: str) -> datetime | None:
    """A ``YYYY-MM-DD`` filter as the start of that UTC day; ValueError when malformed."""
    if not text.strip():
        return None
    return datetime.combine(date.fromisoformat(text.strip()), time(0), tzinfo=UTC)


@router.get("/reports", response_class=HTMLResponse)
def reports(request: Request, user: UserDep, app: WebAppDep, sequence: str = "",
            since: str = "") -> Response:
    try:
        _since(since)
    except ValueError:
        return message(request, user, 400, "Which day?",
                       f"{since!r} is not a date: write it as YYYY-MM-DD.")
    names = [s.name for s in list_sequences(app)]
    return page(request, "reports.html", user, title="Reports", names=names,
                sequence=sequence if sequence in names else "", since=since.strip())


@router.get("/reports/view", response_class=HTMLResponse)
def report_view(request: Request, user: UserDep, app: WebAppDep, sequence: str = "",
                since: str = "") -> Response:
    try:
        start = _since(since)
    except ValueError:
        return message(request, user, 400, "Which day?",
                       f"{since!r} is not a date: write it as YYYY-MM-DD.")
    report = page_reports(app, sequence=sequence or None, since=start)
    return HTMLResponse(render_html(report), headers=REPORT_HEADERS)


@router.get("/sequences", response_class=HTMLResponse)
def sequences(request: Request, user: UserDep, app: WebAppDep) -> Response:
    return page(request, "sequences.html", user, title="Sequences",
                sequences=list_sequences(app))


@router.get("/sequences/{name}", response_class=HTMLResponse)
def sequence(request: Request, name: str, user: UserDep, app: WebAppDep) -> Response:
    detail = sequence_detail(app, name)
    preview = sequence_preview(app, name)
    if detail is None or preview is None:
        return message(request, user, 404, "No such sequence",
                       f"No sequence named {name!r} has been published.")
    return page(request, "sequence.html", user, title=name, detail=detail, preview=preview,
                days=_by_local_day(preview.touches))


def _by_local_day(touches: tuple[PreviewTouch, ...]) -> list[tuple[date, list[PreviewTouch]]]:
    """Touches grouped by the day they land on in each prospect's own time zone."""
    days: dict[date, list[PreviewTouch]] = defaultdict(list)
    for touch in touches:
        days[touch.at.astimezone(zone(touch.timezone)).date()].append(touch)
    return sorted(days.items())


@router.get("/mailboxes", response_class=HTMLResponse)
def mailboxes(request: Request, user: UserDep, app: WebAppDep) -> Response:
    return page(request, "mailboxes.html", user, title="Mailboxes",
                mailboxes=status(app)["mailboxes"])
