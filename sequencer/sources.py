"""Reading sequence files: YAML text to plain data plus the line of every value.

This is the edge between files and the pure definition parser. PyYAML's
composer gives each node its position; we keep those lines, and report
duplicate keys, which YAML loaders otherwise let the last one win silently.
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Any

import yaml

from sequencer.definition.located import Path
from sequencer.errors import Problem

try:  # the C loader is several times faster where libyaml is present
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


def load_yaml(
    text: str, file: str, booleans: dict[Path, str] | None = None
) -> tuple[Any, dict[Path, int], list[Problem]]:
    """Parse YAML ``text``; returns the data, a line map and the problems found.

    ``booleans``, when given, receives how each boolean was spelled (``NO`` is
    Norway to a sales team and ``false`` to YAML 1.1).
    """
    lines: dict[Path, int] = {}
    problems: list[Problem] = []
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at_end = mark is not None and mark.index >= len(text.rstrip())
        if exc.context_mark is not None and (mark is None or at_end):
            mark = exc.context_mark  # an unclosed quote or bracket: point at where it opens
        line = mark.line + 1 if mark is not None else 1
        detail = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        return None, lines, [Problem(file, line, f"YAML syntax error: {detail}")]
    except yaml.YAMLError as exc:
        return None, lines, [Problem(file, 1, f"YAML error: {exc}")]
    if node is None:
        return None, lines, [Problem(file, 1, "the file is empty")]
    constructor = yaml.constructor.SafeConstructor()
    spelled: dict[Path, str] = booleans if booleans is not None else {}
    data = _walk(node, (), lines, problems, constructor, file, spelled)
    return data, lines, problems


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int], problems: list[Problem],
          ctor: yaml.constructor.SafeConstructor, file: str, spelled: dict[Path, str]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = ctor.construct_object(key_node, deep=True)
            key_path = (*path, key)
            if key in out:
                problems.append(Problem(file, key_node.start_mark.line + 1,
                                        f"duplicate key {key!r} (first on line "
                                        f"{lines[(*key_path, '<key>')]})"))
                continue
            lines[(*key_path, "<key>")] = key_node.start_mark.line + 1
            out[key] = _walk(value_node, key_path, lines, problems, ctor, file, spelled)
            if isinstance(value_node, yaml.ScalarNode) or value_node.flow_style:
                lines[key_path] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, (*path, i), lines, problems, ctor, file, spelled)
                for i, item in enumerate(node.value)]
    try:
        value = ctor.construct_object(node, deep=True)
        if isinstance(value, bool):
            spelled[path] = str(node.value)
        return value
    except (ValueError, yaml.constructor.ConstructorError):
        return node.value  # e.g. 2027-02-30: the parser then says what it expected there


def read_text(path: FsPath) -> str:
    return path.read_text(encoding="utf-8")
