"""The team's editable rule set that reads a reply's text as positive or negative.

The rules are phrases per language in a YAML (or JSON) file: ``reporting/
positive_rules.yaml`` in the working directory when present, else the default
shipped beside this module. ``verdict`` applies them to one text in Python (for
tests and for the CLI's explanations); ``query.py`` applies the very same rules in
SQL, through ``Rules.negative`` and ``Rules.positive``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from sequencer.errors import InputError

DEFAULT_RULES = Path(__file__).resolve().parent / "positive_rules.yaml"
LOCAL_RULES = Path("reporting") / "positive_rules.yaml"
POSITIVE, NEGATIVE = "positive", "negative"
_APOSTROPHES = ("'", "\u2019")


@dataclass(frozen=True, slots=True)
class Rules:
    """Lower-cased phrases; ``source`` says which file they came from."""

    positive: tuple[str, ...]
    negative: tuple[str, ...]
    source: str = ""

    @property
    def digest(self) -> str:
        """A hash of the phrases: the rollup recomputes verdicts when it changes."""
        text = json.dumps([sorted(self.positive), sorted(self.negative)], ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def verdict(self, text: str | None) -> str | None:
        """``negative``, ``positive`` or None (no phrase found); negatives first."""
        folded = (text or "").lower()
        if any(phrase in folded for phrase in self.negative):
            return NEGATIVE
        if any(phrase in folded for phrase in self.positive):
            return POSITIVE
        return None


def load_rules(path: Path | None = None) -> Rules:
    """The rules in ``path``; without one, the working directory's, else the default.

    Raises:
        InputError: the file is missing, unreadable, or not shaped as documented.
    """
    chosen = path or (LOCAL_RULES if LOCAL_RULES.is_file() else DEFAULT_RULES)
    try:
        text = chosen.read_text("utf-8")
        data = json.loads(text) if chosen.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise InputError(f"{chosen}: cannot read the reply rules: {exc}") from exc
    if not isinstance(data, Mapping):
        raise InputError(f"{chosen}: expected 'positive:' and 'negative:' lists by language")
    source = ("the phrase list shipped with sequencer (sequencer/reporting/"
              "positive_rules.yaml)" if chosen == DEFAULT_RULES else str(chosen))
    return Rules(_phrases(data.get(POSITIVE), chosen, POSITIVE),
                 _phrases(data.get(NEGATIVE), chosen, NEGATIVE), source)


def _phrases(section: object, path: Path, name: str) -> tuple[str, ...]:
    if section is None:
        return ()
    groups: Iterable[object] = (section.values() if isinstance(section, Mapping)
                                else [section])
    found: list[str] = []
    for group in groups:
        if not isinstance(group, list) or not all(isinstance(p, str) for p in group):
            raise InputError(f"{path}: '{name}' must map each language to a list of phrases")
        for phrase in group:
            found.extend(_spellings(phrase.strip().lower()))
    return tuple(dict.fromkeys(p for p in found if p))


def _spellings(phrase: str) -> list[str]:
    """The phrase, and with a typographic apostrophe where it has a straight one."""
    if _APOSTROPHES[0] in phrase:
        return [phrase, phrase.replace(*_APOSTROPHES)]
    return [phrase]
