"""What every page and form of the web app needs: a signed-in user, a checked form."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from sequencer.services.app import App
from sequencer.web.render import message
from sequencer.web.session import WebUser, csrf_ok, current_user

PREFIX = "/app"


def signed_in(request: Request) -> WebUser:
    """The signed-in user; anyone else is sent to the sign-in page (303), then back."""
    user = current_user(request)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, "sign in first",
                            headers={"Location": f"{PREFIX}/login?next={quote(target)}"})
    return user


def the_app(request: Request) -> App:
    app: App = request.app.state.app
    return app


UserDep = Annotated[WebUser, Depends(signed_in)]
WebAppDep = Annotated[App, Depends(the_app)]


def forged(request: Request, user: WebUser, csrf: str) -> HTMLResponse | None:
    """A 403 page when the form lacks the session's CSRF value, else None."""
    if csrf_ok(request, user, csrf):
        return None
    return message(request, user, 403, "This form has expired",
                   "The form was not sent from this session (its security value is "
                   "missing or wrong). Go back, reload the page and try again.")


def refuse(request: Request, user: WebUser, csrf: str) -> HTMLResponse | None:
    """A 403 page when the form lacks the session's CSRF value or the token may only read;
    None when the action may go ahead."""
    refused = forged(request, user, csrf)
    if refused is not None:
        return refused
    if not user.can_act:
        return message(request, user, 403, "Your token can only read",
                       f"The token {user.token.name!r} has the {user.token.scope!r} scope: it "
                       "can see everything but change nothing. Sign in with a write token "
                       "(sequencer token create NAME --scope write --owner YOU) to act.")
    return None


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path inside the app, never another site."""
    if target and target.startswith(f"{PREFIX}/") and not target.startswith("//") \
            and "\\" not in target and "\n" not in target and "\r" not in target:
        return target
    return f"{PREFIX}/"
