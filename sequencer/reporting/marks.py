"""A rep's verdict on a reply: positive or negative, overriding the phrase rules.

The mark is kept on the reply event itself (``payload.rep_mark``, with
``rep_note`` and ``rep_marked_at``), so the report reads it where it reads the
reply's text; each change is also recorded as a ``reply_marked`` event, which
tells the rollup to look at that prospect again and keeps who-changed-what.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from sequencer.errors import InputError
from sequencer.reporting.rules import NEGATIVE, POSITIVE
from sequencer.services.app import App
from sequencer.store.models import Event, Prospect


@dataclass(frozen=True, slots=True)
class Marked:
    """The reply marked, its verdict, and whether this call changed anything."""

    reply_event_id: int
    verdict: str
    changed: bool
    reply_text: str | None = None


def mark_reply(app: App, email: str, positive: bool, *, note: str | None = None,
               reply_event_id: int | None = None) -> Marked:
    """Mark the latest reply of the prospect at ``email`` (or their reply event
    ``reply_event_id``) positive or negative.

    Idempotent: marking it the same way again (with the same note) changes nothing.

    Raises:
        InputError: no prospect with that address, or no (such) reply from them.
    """
    verdict = POSITIVE if positive else NEGATIVE
    now = app.clock.now()
    with app.sessions.begin() as session:
        prospect = session.scalars(select(Prospect).where(
            Prospect.email_key == email.strip().lower())).first()
        if prospect is None:
            raise InputError(f"no prospect {email}")
        query = select(Event).where(Event.prospect_id == prospect.id, Event.kind == "reply")
        if reply_event_id is not None:
            query = query.where(Event.id == reply_event_id)
        reply = session.scalars(query.order_by(Event.occurred_at.desc(), Event.id.desc())
                                .limit(1).with_for_update()).first()
        if reply is None:
            raise InputError(f"{email} has not replied" if reply_event_id is None
                             else f"{email} has no reply #{reply_event_id}")
        payload = dict(reply.payload or {})
        text = payload.get("reply_text")
        if payload.get("rep_mark") == verdict and payload.get("rep_note") == note:
            return Marked(reply.id, verdict, False, text)
        previous = payload.get("rep_mark")
        payload.update(rep_mark=verdict, rep_note=note, rep_marked_at=now.isoformat())
        reply.payload = payload  # a new dict: the JSON column sees the change
        session.add(Event(kind="reply_marked", source_key=f"reply_marked:{uuid.uuid4().hex}",
                          prospect_id=prospect.id, enrollment_id=reply.enrollment_id,
                          message_id=reply.message_id, mailbox_id=reply.mailbox_id,
                          occurred_at=now,
                          payload={"reply_event": reply.id, "verdict": verdict,
                                   "previous": previous, "note": note}))
        return Marked(reply.id, verdict, True, text)
