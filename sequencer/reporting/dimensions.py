"""The ``--by`` values and the key columns each one puts in a breakdown.

A breakdown is keyed by the union of its dimensions' columns, in the order given:
``step`` is keyed by (sequence, step) so that two sequences' ``intro`` steps never
merge, and ``variant`` by (sequence, step, variant). ``--by sequence --by step --by
variant`` and ``--by variant`` are therefore the same cross breakdown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sequencer.errors import InputError

DIMENSIONS: dict[str, tuple[str, ...]] = {
    "sequence": ("sequence",),
    "version": ("sequence", "version"),
    "step": ("sequence", "step"),
    "variant": ("sequence", "step", "variant"),
    "mailbox": ("mailbox",),
    "owner": ("owner",),
    "hour": ("local_hour",),
    "weekday": ("local_weekday",),
    "week": ("week",),
}
SEGMENT = "segment:"
# Prospect columns a segment may name; any other name is read from the custom fields.
PROSPECT_COLUMNS = ("title", "industry", "country", "city", "company", "stage", "timezone")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CHOICES = (*DIMENSIONS, "segment:FIELD")


def key_columns(by: Iterable[str]) -> tuple[str, ...]:
    """The ordered, de-duplicated key columns of the breakdown ``by``.

    Raises:
        InputError: an unknown dimension or a segment field that is not a plain name.
    """
    keys: list[str] = []
    for name in by:
        for key in _keys_of(name.strip()):
            if key not in keys:
                keys.append(key)
    return tuple(keys)


def _keys_of(name: str) -> tuple[str, ...]:
    if name in DIMENSIONS:
        return DIMENSIONS[name]
    if name.startswith(SEGMENT):
        field = name[len(SEGMENT):]
        if not _FIELD.match(field):
            raise InputError(f"--by {name}: a segment is a prospect field name, such as "
                             "segment:industry or segment:plan")
        return (f"{SEGMENT}{field}",)
    raise InputError(f"--by {name}: choose from {', '.join(CHOICES)}")


def label(key: str, value: object) -> str:
    """How a key's value reads in a table or a chart."""
    if value is None or value == "":
        return "(none)"
    if key == "local_weekday" and isinstance(value, int) and 0 <= value < len(WEEKDAYS):
        return WEEKDAYS[value]
    if key == "local_hour" and isinstance(value, int):
        return f"{value:02d}:00"
    if key == "version" and isinstance(value, str):
        return value[:10]
    return str(value)


def heading(key: str) -> str:
    """A column heading for a key."""
    if key.startswith(SEGMENT):
        return key[len(SEGMENT):]
    return {"local_hour": "local hour", "local_weekday": "local weekday",
            "week": "week of"}.get(key, key)
