"""The web app, mounted at ``/app``: server-rendered pages for reps and managers.

Pages (each needs a signed-in token; forms carry a CSRF value; read tokens see, not act):
``/app/login``, ``/app/logout``; the rep's day ``/app/`` (``/app/today``) and
``POST /app/tasks/{id}``; ``/app/prospects/{id}`` and
``POST /app/enrollments/{id}/{pause|resume|exit}``; the manager's ``/app/reports``,
``/app/sequences``, ``/app/sequences/{name}`` and ``/app/mailboxes``.

Routes call service functions only; templates live in ``templates/``, the one style
sheet in ``static/``. See docs/web.md.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from sequencer.web import manager, rep, signin
from sequencer.web.deps import PREFIX
from sequencer.web.render import STATIC

__all__ = ["router"]

router = APIRouter(prefix=PREFIX, include_in_schema=False)
router.include_router(signin.router)
router.include_router(rep.router)
router.include_router(manager.router)


@router.get("/static/app.css")
def stylesheet() -> Response:
    return Response((STATIC / "app.css").read_bytes(), media_type="text/css",
                    headers={"Cache-Control": "public, max-age=3600",
                             "X-Content-Type-Options": "nosniff"})
