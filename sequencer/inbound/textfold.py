"""Text folded for matching: lower case, accents removed, apostrophes and spaces unified.

The phrase tables of the auto-reply, unsubscribe and return-date readers are written
in this folded form ("desabonner", "zuruck", "manana"), so one pattern matches the
accented, the unaccented and the oddly encoded spelling of the same word.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_SPACES = re.compile(r"[^\S\n]+")  # every horizontal space, kept apart from line breaks


def fold(text: str) -> str:
    """``text`` in lower case, without diacritics, with one kind of apostrophe and space.

    Line breaks are kept (callers read lines); runs of other white space become one
    space. ``ß`` becomes ``ss`` (case folding); ``ø`` and the like are left alone.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_APOSTROPHES))
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACES.sub(" ", stripped.replace("\r\n", "\n").replace("\r", "\n"))
