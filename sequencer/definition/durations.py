"""Parsing of waits ("2 business days", "4h") and window ranges ("08:00-10:00")."""

from __future__ import annotations

import re

from sequencer.definition.model import WEEKDAY_NAMES, Wait, WaitUnit, Window

_WAIT = re.compile(
    r"^\s*(\d+)\s*(minutes?|mins?|m|hours?|hrs?|h|days?|d|business[ _-]?days?|bd|weeks?|w)\s*$",
    re.IGNORECASE,
)
_UNITS = {
    "m": WaitUnit.MINUTES, "min": WaitUnit.MINUTES, "minute": WaitUnit.MINUTES,
    "h": WaitUnit.HOURS, "hr": WaitUnit.HOURS, "hour": WaitUnit.HOURS,
    "d": WaitUnit.DAYS, "day": WaitUnit.DAYS,
    "bd": WaitUnit.BUSINESS_DAYS, "businessday": WaitUnit.BUSINESS_DAYS,
    "w": WaitUnit.WEEKS, "week": WaitUnit.WEEKS,
}


def parse_wait(value: object) -> Wait:
    """Parse a wait such as ``3 days``, ``2 business days``, ``4 hours``, ``30m`` or ``0``.

    Raises:
        ValueError: the text is not a wait.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return Wait(0, WaitUnit.DAYS)
    if not isinstance(value, str):
        raise ValueError(f"a wait is text such as '2 business days', not {value!r}")
    match = _WAIT.match(value)
    if match is None:
        if value.strip() == "0":
            return Wait(0, WaitUnit.DAYS)
        raise ValueError(
            f"cannot read wait {value!r}: use minutes, hours, days, business days or weeks, "
            "as in '2 business days'"
        )
    unit_text = re.sub(r"[ _-]", "", match.group(2).lower()).rstrip("s")
    unit_text = {"businessday": "businessday"}.get(unit_text, unit_text)
    return Wait(int(match.group(1)), _UNITS[unit_text])


_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def parse_clock(text: str) -> int:
    """Minutes from midnight for ``HH:MM`` (``24:00`` allowed as an end)."""
    match = _CLOCK.match(text)
    if match is None:
        raise ValueError(f"{text.strip()!r} is not a time of day (HH:MM)")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{text.strip()!r} is not a time of day (HH:MM)")
    return hours * 60 + minutes


def parse_window(text: object) -> Window:
    """Parse ``HH:MM-HH:MM``; an end at or before the start crosses midnight.

    Raises:
        ValueError: not a window, or one that opens and closes at the same time.
    """
    if not isinstance(text, str) or text.count("-") != 1:
        raise ValueError(f"a window is text such as '08:00-10:00', not {text!r}")
    start_text, end_text = text.split("-")
    start, end = parse_clock(start_text), parse_clock(end_text)
    if start == 1440:
        raise ValueError(f"window {text!r} cannot open at 24:00")
    if end == start:
        raise ValueError(f"window {text!r} opens and closes at the same time, so it never opens")
    if end < start:
        end += 1440
    return Window(start, end)


_DAY_ALIASES = {
    "daily": tuple(range(7)),
    "everyday": tuple(range(7)),
    "weekdays": (0, 1, 2, 3, 4),
    "weekends": (5, 6),
}


def parse_days(text: object) -> tuple[int, ...]:
    """Weekday numbers (Monday is 0) for ``mon-fri``, ``mon,wed,fri``, ``sat`` or ``weekdays``.

    Raises:
        ValueError: an unknown day name.
    """
    if not isinstance(text, str):
        raise ValueError(f"days are named like 'mon-fri', not {text!r}")
    key = text.strip().lower().replace(" ", "")
    if key in _DAY_ALIASES:
        return _DAY_ALIASES[key]
    days: list[int] = []
    for part in key.split(","):
        if "-" in part:
            first, last = (_day(x) for x in part.split("-", 1))
            span = (last - first) % 7
            days.extend((first + i) % 7 for i in range(span + 1))
        else:
            days.append(_day(part))
    return tuple(dict.fromkeys(days))


def _day(name: str) -> int:
    short = name[:3]
    if short not in WEEKDAY_NAMES or not ("monday tuesday wednesday thursday friday "
                                          "saturday sunday").count(name):
        raise ValueError(f"unknown day {name!r} (use mon, tue, wed, thu, fri, sat, sun)")
    return WEEKDAY_NAMES.index(short)
