"""What a sequence has learned about its send windows, as plain data.

One function, ``windows_report``, for the CLI (``sequencer windows``) and for any
other reader (the HTML report may render it): per segment, the sample, the windows
in use and why, and the best-ranked local hours with their counts and rates.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from sequencer.definition.model import WEEKDAY_NAMES, LearnedWindows, Window
from sequencer.errors import InputError
from sequencer.services.app import App
from sequencer.services.learned import learnings
from sequencer.services.sequences import definition_of
from sequencer.store.models import SequenceVersion
from sequencer.timing.learned import Learning, RankedSlot

TOP_SLOTS = 5


def windows_report(app: App, sequence: str) -> dict[str, Any]:
    """The learned windows of the latest version of ``sequence``, segment by segment.

    A sequence that has not opted in is reported as well (``opted_in`` false), with
    what the default settings would learn from its history.

    Raises:
        InputError: no sequence of that name was ever published.
    """
    with app.sessions() as session:
        version = session.scalars(select(SequenceVersion).where(
            SequenceVersion.name == sequence).order_by(SequenceVersion.id.desc())).first()
        if version is None:
            raise InputError(f"no sequence {sequence!r} has been published (enroll into it "
                             "first)")
        definition = definition_of(session, app, version.id)
        found = learnings(session, app, definition, version.id)
    settings = definition.schedule.learned
    return {
        "sequence": sequence,
        "version": definition.version,
        "opted_in": settings is not None,
        "settings": _settings(settings or LearnedWindows()),
        "configured": windows_by_day(definition.schedule.windows),
        "segments": [_segment(learning) for learning in found],
    }


def windows_by_day(windows: tuple[tuple[Window, ...], ...]) -> dict[str, list[str]]:
    """``{"mon": ["08:00-10:00", ...], ...}`` for the days that have a window."""
    return {WEEKDAY_NAMES[day]: [w.label() for w in spans]
            for day, spans in enumerate(windows) if spans}


def _settings(settings: LearnedWindows) -> dict[str, Any]:
    return {"segment": settings.segment.value, "min_sends": settings.min_sends,
            "min_slot_sends": settings.min_slot_sends, "explore": settings.explore,
            "hours": settings.hours}


def _segment(learning: Learning) -> dict[str, Any]:
    return {
        "segment": learning.segment,
        "sends": learning.sends,
        "replies": learning.replies,
        "learned": learning.learned,
        "reason": learning.reason,
        "notes": list(learning.day_notes),
        "windows": windows_by_day(learning.windows),
        "top_slots": [_slot(slot) for slot in learning.ranked[:TOP_SLOTS]],
    }


def _slot(slot: RankedSlot) -> dict[str, Any]:
    return {"slot": slot.label(), "sends": slot.sends, "replies": slot.replies,
            "rate": round(slot.rate, 4), "score": round(slot.score, 4)}
