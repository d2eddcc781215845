"""Plain data with source lines, and a collector of problems.

The YAML reader at the edge turns a file into plain Python data plus a map from
each value's path (``("steps", 2, "goto")``) to its line. The parser reports
problems by path; this module turns paths into lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sequencer.errors import Problem, Severity

Path = tuple[str | int, ...]


def with_article(word: str) -> str:
    """``an email``, ``a call``."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


@dataclass
class Report:
    """Collects every problem found in one file, located by path."""

    file: str
    lines: Mapping[Path, int]
    problems: list[Problem] = field(default_factory=list)
    step_paths: dict[str, Path] = field(default_factory=dict)
    anchors: dict[tuple[str, ...], Path] = field(default_factory=dict)
    raw: Mapping[Path, str] = field(default_factory=dict)  # how booleans were spelled

    def line(self, path: Path) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        while path:
            found = self.lines.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return self.lines.get((), 1)

    def key_line(self, path: Path) -> int:
        """The line where the key of ``path`` is written (for unknown keys)."""
        return self.lines.get((*path, "<key>"), self.line(path))

    def error(self, path: Path, message: str, *, code: str = "", at_key: bool = False) -> None:
        line = self.key_line(path) if at_key else self.line(path)
        self.problems.append(Problem(self.file, line, message, Severity.ERROR, code))

    def warn(self, path: Path, message: str, *, code: str) -> None:
        self.problems.append(Problem(self.file, self.line(path), message, Severity.WARNING, code))

    def anchor(self, *key: str) -> Path | None:
        """Where a value that has no path of its own was written (a variant, a day's windows)."""
        return self.anchors.get(key)

    @property
    def has_errors(self) -> bool:
        return any(p.severity is Severity.ERROR for p in self.problems)
