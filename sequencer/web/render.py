"""Rendering the web app's pages: one Jinja2 environment (autoescape on), the
filters that put times in a reader's zone, and the headers every page carries."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from sequencer.web.session import WebUser

HERE = Path(__file__).parent
STATIC = HERE / "static"
# No script at all, styles from our own file (the embedded report inlines its own).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; frame-src 'self'; form-action 'self'; "
                               "frame-ancestors 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local(moment: datetime | None, zone_name: str | None = None,
          fmt: str = "%a %d %b %H:%M") -> str:
    """``moment`` in the zone named (UTC when none or unknown), e.g. 'Mon 23 Nov 09:15'."""
    if moment is None:
        return "-"
    return moment.astimezone(zone(zone_name)).strftime(fmt)


def _label(value: str | None) -> str:
    return (value or "").replace("_", " ")


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(("html",), default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["local"] = local
    env.filters["label"] = _label
    return env


ENV = _environment()


def page(request: Request, template: str, user: WebUser | None, *, status: int = 200,
         title: str = "", **context: Any) -> HTMLResponse:
    """``template`` rendered with the user, the current path and ``context``."""
    html = ENV.get_template(template).render(
        user=user, title=title, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def message(request: Request, user: WebUser | None, status: int, heading: str,
            text: str) -> HTMLResponse:
    """A page that says what went wrong and where to go next."""
    return page(request, "message.html", user, status=status, title=heading,
                heading=heading, text=text)
