"""Signing in with an API token, and out again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sequencer.web.deps import PREFIX, forged, safe_next, signed_in
from sequencer.web.render import SECURITY_HEADERS, page
from sequencer.web.session import (
    LOGIN_COOKIE,
    LOGIN_MINUTES,
    SESSION_COOKIE,
    SESSION_HOURS,
    current_user,
    login_csrf_ok,
    login_nonce,
    new_session,
    secure_cookies,
)

if TYPE_CHECKING:  # sequencer.api imports this package: no cycle at run time
    from sequencer.api.auth import TokenCache

router = APIRouter()


def _login_page(request: Request, next_path: str, *, status: int = 200,
                error: str | None = None) -> HTMLResponse:
    cookie, csrf = login_nonce(request)
    response = page(request, "login.html", None, status=status, title="Sign in",
                    next_path=safe_next(next_path), csrf=csrf, error=error)
    response.set_cookie(LOGIN_COOKIE, cookie, max_age=LOGIN_MINUTES * 60, path=PREFIX,
                        httponly=True, samesite="strict", secure=secure_cookies(request))
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> Response:
    if current_user(request) is not None:
        return RedirectResponse(safe_next(next), 303)
    return _login_page(request, next)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, token: Annotated[str, Form()] = "",
          csrf: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "",
          ) -> Response:
    if not login_csrf_ok(request, csrf):
        return _login_page(request, next, status=403, error=(
            "The sign-in form had expired or was not sent from this page. Try again."))
    cache: TokenCache = request.app.state.token_cache
    info = cache.verify(request.app.state.app, token.strip()) if token.strip() else None
    if info is None:
        return _login_page(request, next, status=401, error=(
            "That token is not valid: unknown, revoked or mistyped. Tokens look like "
            "sqt_… and are made with `sequencer token create NAME --owner YOU`."))
    response = RedirectResponse(safe_next(next), 303, headers=SECURITY_HEADERS)
    response.set_cookie(SESSION_COOKIE, new_session(request, token.strip()),
                        max_age=SESSION_HOURS * 3600, path=PREFIX, httponly=True,
                        samesite="strict", secure=secure_cookies(request))
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    user = signed_in(request)
    refused = forged(request, user, csrf)
    if refused is not None:
        return refused
    response = RedirectResponse(f"{PREFIX}/login", 303, headers=SECURITY_HEADERS)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX, httponly=True, samesite="strict",
                           secure=secure_cookies(request))
    return response
