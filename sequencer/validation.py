"""``sequencer validate``: read sequence files and their templates, report every problem.

Ties the edge (files, YAML, Jinja2, the holidays package) to the pure parser
and checks. Nothing here sends, stores or schedules.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sequencer.calendars import country_exists
from sequencer.definition import Definition, LintPolicy, Report, check_definition
from sequencer.definition.located import Path as DataPath
from sequencer.definition.model import StepType
from sequencer.definition.parse import parse_definition
from sequencer.errors import DefinitionError, InputError, Problem, Severity
from sequencer.render.analysis import analyse_template, field_problem, is_optional
from sequencer.sources import load_yaml

SEQUENCE_SUFFIXES = (".yaml", ".yml")
WARNING_CODES = ("unsubscribe-path", "touch-density", "window-hours", "merge-fallback",
                 "thread-subject")


@dataclass
class ValidationResult:
    files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    definitions: dict[Path, Definition] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]


def zone_exists(name: str) -> bool:
    if not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files named, and the sequence files inside directories named.

    Raises:
        InputError: a path does not exist.
    """
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in SEQUENCE_SUFFIXES))
        elif path.exists():
            out.append(path)
        else:
            raise InputError(f"{path}: no such file or directory")
    return out


def find_templates_root(sequence_file: Path) -> Path:
    """The ``templates/`` directory beside the sequence's folder or one of its parents."""
    for folder in sequence_file.resolve().parents:
        candidate = folder / "templates"
        if candidate.is_dir():
            return candidate
    return Path("templates")


def validate_paths(
    paths: Sequence[Path],
    *,
    policy: LintPolicy = LintPolicy(),
    promote: frozenset[str] = frozenset(),
    templates_root: Path | None = None,
) -> ValidationResult:
    """Validate every sequence file under ``paths``; ``promote`` turns warning codes into errors."""
    result = ValidationResult(files=expand(paths))
    for path in result.files:
        definition, problems = check_file(path, policy=policy, templates_root=templates_root)
        result.problems.extend(_promote(p, promote) for p in problems)
        if definition is not None:
            result.definitions[path] = definition
    return result


def _promote(problem: Problem, promote: frozenset[str]) -> Problem:
    if problem.severity is Severity.WARNING and ("all" in promote or problem.code in promote):
        return replace(problem, severity=Severity.ERROR)
    return problem


def check_file(
    path: Path, *, policy: LintPolicy = LintPolicy(), templates_root: Path | None = None
) -> tuple[Definition | None, list[Problem]]:
    """Every problem of one sequence file (and its templates), and the definition if usable."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(file, 0, f"cannot read the file: {exc}")]
    return check_text(text, file, policy=policy,
                      templates_root=templates_root or find_templates_root(path))


def check_text(
    text: str, file: str, *, policy: LintPolicy = LintPolicy(), templates_root: Path | None = None
) -> tuple[Definition | None, list[Problem]]:
    """``check_file`` for text already read (a stored sequence version)."""
    booleans: dict[DataPath, str] = {}
    data, lines, problems = load_yaml(text, file, booleans)
    if data is None:
        return None, problems
    report = Report(file, lines, problems, raw=booleans)
    definition = parse_definition(data, report, zone_exists=zone_exists,
                                  country_exists=country_exists)
    if definition is not None:
        check_definition(definition, report, policy)
        TemplateChecks(definition, report, templates_root or Path("templates")).run()
    problems = sorted(report.problems, key=lambda p: (p.file != file, p.file, p.line))
    usable = definition is not None and not any(
        p.severity is Severity.ERROR for p in problems)
    return (definition if usable else None), problems


def load_definition(path: Path, *, templates_root: Path | None = None) -> Definition:
    """The definition in ``path``.

    Raises:
        DefinitionError: the file has errors (warnings are allowed).
    """
    definition, problems = check_file(path, templates_root=templates_root)
    if definition is None:
        raise DefinitionError([p for p in problems if p.severity is Severity.ERROR])
    return definition


def _display(path: Path, *, like: str) -> str:
    """``path`` in the style the user named the sequence: relative (to the working
    directory, when inside it) if they typed a relative path, else absolute."""
    absolute, here = os.path.abspath(path), os.path.abspath(Path.cwd())
    if Path(like).is_absolute() or not absolute.startswith(here + os.sep):
        return absolute
    return os.path.relpath(absolute, here)


class TemplateChecks:
    """Template existence, syntax, merge fields and unsubscribe paths for one definition."""

    def __init__(self, definition: Definition, report: Report, root: Path) -> None:
        self.definition = definition
        self.report = report
        self.root = root

    def run(self) -> None:
        for step in self.definition.steps:
            base: DataPath = self.report.step_paths.get(step.id, ("steps",))
            uses_unsubscribe = False
            subjects_checked: set[DataPath] = set()
            for variant in step.variants:
                vpath = self.report.anchor("variant", step.id, variant.id) or base
                uses_unsubscribe |= self.template(step.id, variant.template, (*vpath, "template"))
                spath = self.report.anchor("subject", step.id, variant.id) or (*vpath, "subject")
                if variant.subject and spath not in subjects_checked:
                    subjects_checked.add(spath)
                    self.subject(step.id, variant.subject, spath)
            if step.type is StepType.EMAIL and step.variants and not uses_unsubscribe \
                    and not self.definition.compliance.unsubscribe_footer:
                self.report.warn(base, f"automatic email {step.id!r} has no unsubscribe path: "
                                 "its template has no {{ unsubscribe_url }} and the sequence "
                                 "turns the unsubscribe footer off", code="unsubscribe-path")

    def template(self, step_id: str, name: str, path: DataPath) -> bool:
        """Check one template file; returns whether it links to ``unsubscribe_url``."""
        file = self.root / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            self.report.error(path, f"step {step_id!r}: template {name!r} must be a path inside "
                              f"{self.root}")
            return False
        if not file.is_file():
            self.report.error(path, f"step {step_id!r}: template {name!r} not found in "
                              f"{self.root}")
            return False
        analysis = analyse_template(file.read_text(encoding="utf-8"))
        shown = _display(file, like=self.report.file)
        used_at = f"{self.report.file}:{self.report.line(path)}"
        if analysis.syntax_error is not None:
            line, message = analysis.syntax_error
            self.report.problems.append(Problem(
                shown, line, f"template syntax error: {message} (used by step {step_id!r} "
                f"at {used_at})"))
            return False
        for use in analysis.uses:
            self.field(step_id, use.name, use.has_fallback, shown, use.line, used_at)
        return "unsubscribe_url" in analysis.names()

    def subject(self, step_id: str, text: str, path: DataPath) -> None:
        analysis = analyse_template(text)
        line = self.report.line(path)
        if analysis.syntax_error is not None:
            self.report.error(path, f"step {step_id!r}: subject does not parse: "
                              f"{analysis.syntax_error[1]}")
            return
        for use in analysis.uses:
            self.field(step_id, use.name, use.has_fallback, self.report.file, line)

    def field(self, step_id: str, name: str, has_fallback: bool, file: str, line: int,
              used_at: str | None = None) -> None:
        problem = field_problem(name, self.definition.custom_fields)
        where = f" at {used_at}" if used_at else ""
        if problem is not None:
            self.report.problems.append(Problem(file, line, f"{problem} (used by step "
                                                f"{step_id!r}{where})"))
        elif is_optional(name) and not has_fallback:
            self.report.problems.append(Problem(
                file, line, f"merge field {name!r} has no fallback, but prospects may lack it; "
                "write {{ " + name + " | default(\"...\") }} or guard it with {% if %}",
                Severity.WARNING, "merge-fallback"))
