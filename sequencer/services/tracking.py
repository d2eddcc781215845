"""Opens and clicks: recorded once each, told to the engine as facts, never a status change.

Opens are unreliable (image proxies fetch every pixel, privacy features block them),
so they only feed branches that ask for them and the reports that say so.
"""

from __future__ import annotations

from sequencer.engine import events as ev
from sequencer.engine.advance import advance
from sequencer.runtime.effects import apply
from sequencer.runtime.executor import lock_enrollment
from sequencer.services.app import App
from sequencer.services.learned import definition_for
from sequencer.store.codec import read_state
from sequencer.store.models import Enrollment, Event
from sequencer.store.upsert import insert_ignoring


def record_engagement(app: App, run_key: str, kind: str, *, source_key: str,
                      detail: dict[str, object] | None = None) -> bool:
    """Record an ``open`` or ``click`` of the email of ``run_key`` ("enrollment:step:round").

    Returns whether it was new. An unknown run (a deleted enrollment) is ignored.
    """
    enrollment_id, step = _run(run_key)
    if enrollment_id is None or step is None:
        return False
    now = app.clock.now()
    with app.sessions.begin() as session:
        if session.get(Enrollment, enrollment_id) is None:
            return False
        row = lock_enrollment(session, enrollment_id)
        inserted = session.execute(insert_ignoring(session, Event, ("source_key",)).returning(
            Event.id), [{"kind": kind, "source_key": source_key[:500],
                         "prospect_id": row.prospect_id, "enrollment_id": row.id,
                         "mailbox_id": row.mailbox_id, "occurred_at": now,
                         "payload": {"step": step, **(detail or {})}}]).first()
        if inserted is None:
            return False
        event: ev.Event = ev.Clicked(step) if kind == "click" else ev.Opened(step)
        definition = definition_for(session, app, row)
        apply(session, row, advance(definition, read_state(row), event, now=now,
                                    calendar=app.calendar), now=now)
    return True


def _run(run_key: str) -> tuple[int | None, str | None]:
    parts = run_key.split(":")
    if len(parts) != 3 or not parts[0].isdigit():
        return None, None
    return int(parts[0]), parts[1]
