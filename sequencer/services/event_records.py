"""What the events API needs around ``actions.record_stage``/``record_meeting`` and
``reporting.marks.mark_reply``: is there such a prospect, and which reply an event id is."""

from __future__ import annotations

from sqlalchemy import select

from sequencer.reporting.marks import Marked, mark_reply
from sequencer.services.app import App
from sequencer.store.models import Event, Prospect


class NotFoundError(LookupError):
    """No such prospect or reply; ``str()`` names it."""


def has_prospect(app: App, email: str) -> bool:
    with app.sessions() as session:
        return session.scalar(select(Prospect.id).where(
            Prospect.email_key == email.strip().lower())) is not None


def mark(app: App, *, positive: bool, email: str | None = None, event_id: int | None = None,
         note: str | None = None) -> Marked:
    """Mark the latest reply of ``email``, or the reply event ``event_id``, positive or
    negative.

    Raises:
        NotFoundError: no such prospect, no reply from them, or no reply event ``event_id``.
        InputError: as ``mark_reply``.
    """
    if event_id is not None:
        with app.sessions() as session:
            email = session.scalar(select(Prospect.email).join(
                Event, Event.prospect_id == Prospect.id).where(
                Event.id == event_id, Event.kind == "reply"))
        if email is None:
            raise NotFoundError(f"reply event #{event_id}")
    if email is None or not has_prospect(app, email):
        raise NotFoundError(f"prospect {email}")
    return mark_reply(app, email, positive, note=note, reply_event_id=event_id)
