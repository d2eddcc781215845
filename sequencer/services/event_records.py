"""What the events API needs around ``actions.record_stage``/``record_meeting`` and
``reporting.marks.mark_reply``: is there such a prospect, and which reply an event id is."""

from __future__ import annotations

from sqlalchemy import select

from sequencer.errors import EngineError
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
    """Mark the latest reply of ``email``, or the reply ``event_id`` (which must be its
    prospect's latest: that is the reply ``mark_reply`` marks), positive or negative.

    Raises:
        NotFoundError: no such prospect, no reply from them, or no reply event ``event_id``.
        EngineError: ``event_id`` is a reply, but not its prospect's latest.
        InputError: as ``mark_reply``.
    """
    if event_id is not None:
        with app.sessions() as session:
            found = session.execute(select(Event.prospect_id, Prospect.email).join(
                Prospect, Prospect.id == Event.prospect_id).where(
                Event.id == event_id, Event.kind == "reply")).first()
            if found is None:
                raise NotFoundError(f"reply event #{event_id}")
            latest = session.scalar(select(Event.id).where(
                Event.prospect_id == found[0], Event.kind == "reply")
                .order_by(Event.occurred_at.desc(), Event.id.desc()).limit(1))
        if latest != event_id:
            raise EngineError(f"event #{event_id} is not {found[1]}'s latest reply "
                              f"(#{latest}): only the latest can be marked")
        email = found[1]
    if email is None or not has_prospect(app, email):
        raise NotFoundError(f"prospect {email}")
    return mark_reply(app, email, positive, note=note)
