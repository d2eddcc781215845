"""Parsing ``schedule.learned_windows``: the opt-in to send windows learned from replies.

Kept apart from ``parse`` (which owns the rest of the schedule) so that the
settings, their defaults and their limits sit in one place.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from sequencer.definition.located import Path, Report
from sequencer.definition.model import LearnedWindows, Segment

LEARNED_KEYS = ("enabled", "segment", "min_sends", "min_slot_sends", "explore", "hours")
MAX_EXPLORE = 0.9  # some sends must follow what was learned, or learning is pointless
MAX_HOURS = 24
PATH: Path = ("schedule", "learned_windows")


def parse_learned_windows(raw: object, report: Report) -> LearnedWindows | None:
    """The settings of ``learned_windows``, or None when it is absent or not enabled.

    ``learned_windows: true`` opts in with every default; a mapping must say
    ``enabled: true``. Every bad value is reported; the default takes its place.
    """
    if raw is None or raw is False:
        return None
    if raw is True:
        return LearnedWindows()
    if not isinstance(raw, dict):
        report.error(PATH, "'learned_windows' is true, false or a mapping such as "
                     "{enabled: true, segment: country}")
        return None
    _known(raw, report)
    enabled = raw.get("enabled", False)
    if not isinstance(enabled, bool):
        report.error((*PATH, "enabled"), f"'enabled' must be true or false, not {enabled!r}")
        enabled = False
    defaults = LearnedWindows()
    settings = LearnedWindows(
        segment=_segment(raw.get("segment", defaults.segment.value), report),
        min_sends=_count(raw, "min_sends", defaults.min_sends, report, lowest=1),
        min_slot_sends=_count(raw, "min_slot_sends", defaults.min_slot_sends, report, lowest=1),
        explore=_share(raw.get("explore", defaults.explore), report, defaults.explore),
        hours=_count(raw, "hours", defaults.hours, report, lowest=1, highest=MAX_HOURS),
    )
    return settings if enabled else None


def _known(block: Mapping[str, Any], report: Report) -> None:
    for key in block:
        if key not in LEARNED_KEYS:
            hint = difflib.get_close_matches(str(key), LEARNED_KEYS, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            report.error((*PATH, key), f"unknown key {key!r} in learned_windows{suggestion}",
                         at_key=True)


def _segment(raw: object, report: Report) -> Segment:
    try:
        return Segment(str(raw))
    except ValueError:
        known = ", ".join(s.value for s in Segment)
        report.error((*PATH, "segment"), f"unknown segment {raw!r} (known: {known})")
        return Segment.COUNTRY


def _count(block: Mapping[str, Any], key: str, default: int, report: Report, *,
           lowest: int, highest: int | None = None) -> int:
    raw = block.get(key, default)
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < lowest \
            or (highest is not None and raw > highest):
        bound = f"between {lowest} and {highest}" if highest is not None \
            else f"a whole number of at least {lowest}"
        report.error((*PATH, key), f"{key!r} must be {bound}, not {raw!r}")
        return default
    return raw


def _share(raw: object, report: Report, default: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= MAX_EXPLORE:
        report.error((*PATH, "explore"), f"'explore' is the share of sends kept on the "
                     f"configured windows, from 0 to {MAX_EXPLORE}, not {raw!r}")
        return default
    return float(raw)
