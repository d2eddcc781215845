"""The published sequences as people browse them: names, versions, steps, live counts;
checking a draft the way ``sequencer validate`` does, and publishing one given as text.

Plain frozen dataclasses out, for the API and the web app alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import ColumnElement

from sequencer.definition.model import Definition, Step, WaitUnit
from sequencer.errors import Problem, Severity
from sequencer.services.app import App
from sequencer.services.sequences import definition_of, publish_source
from sequencer.store.models import Enrollment, SequenceVersion
from sequencer.validation import check_text

STATUSES = ("active", "paused", "finished", "exited")


@dataclass(frozen=True, slots=True)
class StepInfo:
    id: str
    type: str
    wait: str  # "2 business days", "0 days" for the first step
    variants: tuple[str, ...]  # "a: cold/intro_a.j2"
    thread: str | None
    goto: str | None
    otherwise: str | None
    instructions: str | None


@dataclass(frozen=True, slots=True)
class VersionInfo:
    id: int
    version: str
    created_at: datetime
    path: str | None


@dataclass(frozen=True, slots=True)
class SequenceSummary:
    name: str
    latest_version: str
    latest_version_id: int
    versions: int
    updated_at: datetime  # when the latest version was published
    enrollments: dict[str, int]  # by status: active, paused, finished, exited (every version)


@dataclass(frozen=True, slots=True)
class SequenceDetail:
    name: str
    description: str
    versions: tuple[VersionInfo, ...]  # oldest first
    steps: tuple[StepInfo, ...]  # of the latest version
    enrollments: dict[str, int]


@dataclass(frozen=True, slots=True)
class VersionDetail:
    name: str
    info: VersionInfo
    source: str
    steps: tuple[StepInfo, ...]
    enrollments: dict[str, int]  # of this version


@dataclass(frozen=True, slots=True)
class DraftProblem:
    file: str
    line: int
    message: str
    severity: str  # error, warning
    rule: str | None


@dataclass(frozen=True, slots=True)
class DraftReport:
    valid: bool  # no errors (warnings allowed, as for sequencer validate)
    name: str | None  # the sequence's name when it parsed
    version: str | None  # the version it would be published as
    problems: tuple[DraftProblem, ...]


@dataclass(frozen=True, slots=True)
class Published:
    name: str
    version: str
    version_id: int
    created: bool  # False: this exact definition was published before
    problems: tuple[DraftProblem, ...]  # the warnings


def list_sequences(app: App) -> list[SequenceSummary]:
    """Every published sequence by name, with its latest version and live counts."""
    with app.sessions() as session:
        versions = session.execute(select(
            SequenceVersion.name, SequenceVersion.id, SequenceVersion.version,
            SequenceVersion.created_at).order_by(SequenceVersion.name, SequenceVersion.id)).all()
        counts = _counts(session, Enrollment.sequence_name)
    latest: dict[str, tuple[int, str, datetime]] = {}
    total: dict[str, int] = {}
    for name, version_id, version, created in versions:
        latest[name] = (version_id, version, created)
        total[name] = total.get(name, 0) + 1
    return [SequenceSummary(name, version, version_id, total[name], created,
                            counts.get(name, _zero()))
            for name, (version_id, version, created) in latest.items()]


def sequence_detail(app: App, name: str) -> SequenceDetail | None:
    """A sequence's versions and the steps of its latest; None when never published."""
    with app.sessions() as session:
        rows = session.scalars(select(SequenceVersion).where(SequenceVersion.name == name)
                               .order_by(SequenceVersion.id)).all()
        if not rows:
            return None
        definition = definition_of(session, app, rows[-1].id)
        counts = _counts(session, Enrollment.sequence_name, Enrollment.sequence_name == name)
        return SequenceDetail(name, definition.description,
                              tuple(_info(r) for r in rows), steps_of(definition),
                              counts.get(name, _zero()))


def version_detail(app: App, name: str, version: str) -> VersionDetail | None:
    """One version (by its content hash, or ``latest``): its source YAML and steps."""
    with app.sessions() as session:
        query = select(SequenceVersion).where(SequenceVersion.name == name)
        query = (query.order_by(SequenceVersion.id.desc()).limit(1) if version == "latest"
                 else query.where(SequenceVersion.version == version))
        row = session.scalars(query).first()
        if row is None:
            return None
        definition = definition_of(session, app, row.id)
        counts = _counts(session, Enrollment.sequence_version_id,
                         Enrollment.sequence_version_id == row.id)
        return VersionDetail(name, _info(row), row.source, steps_of(definition),
                             counts.get(row.id, _zero()))


def validate_draft(text: str, filename: str = "draft.yaml", *,
                   templates_root: Path | None = None) -> DraftReport:
    """Every problem of a draft, as ``sequencer validate`` finds them; nothing stored."""
    definition, problems = check_text(text, filename, templates_root=templates_root)
    return DraftReport(not any(p.severity is Severity.ERROR for p in problems),
                       definition.name if definition else None,
                       definition.version if definition else None, _problems(problems))


def publish_text(app: App, text: str, filename: str = "api.yaml") -> Published:
    """Publish a definition given as text: a changed definition becomes a new version,
    the same one is found again; enrollments keep the version they started on.

    Raises:
        DefinitionError: the text has errors (each one a ``Problem``).
    """
    with app.sessions.begin() as session:
        version, definition, created = publish_source(session, app, text, filename)
        _, problems = check_text(text, filename, templates_root=app.templates)
        return Published(definition.name, definition.version, version.id, created,
                         _problems(problems))


def steps_of(definition: Definition) -> tuple[StepInfo, ...]:
    return tuple(_step(s) for s in definition.steps)


def _step(step: Step) -> StepInfo:
    unit = step.wait.unit.value.replace("_", " ")
    if step.wait.amount == 1 and unit.endswith("s"):
        unit = unit[:-1]
    wait = (f"until {step.at.isoformat()}" if step.at is not None
            else f"{step.wait.amount} {unit}" if step.wait.unit is not WaitUnit.DAYS
            or step.wait.amount else "0 days")
    return StepInfo(step.id, step.type.value, wait,
                    tuple(f"{v.id}: {v.template}" for v in step.variants), step.thread,
                    step.goto, step.otherwise, step.instructions)


def _info(row: SequenceVersion) -> VersionInfo:
    return VersionInfo(row.id, row.version, row.created_at, row.path)


def _zero() -> dict[str, int]:
    return dict.fromkeys(STATUSES, 0)


def _counts(session: Session, key: InstrumentedAttribute[Any], *where: ColumnElement[bool]
            ) -> dict[Any, dict[str, int]]:
    query = select(key, Enrollment.status, func.count()).group_by(key, Enrollment.status)
    if where:
        query = query.where(*where)
    out: dict[Any, dict[str, int]] = {}
    for found, status, count in session.execute(query):
        out.setdefault(found, _zero())[status] = count
    return out


def _problems(problems: Sequence[Problem]) -> tuple[DraftProblem, ...]:
    return tuple(DraftProblem(p.file, p.line, p.message, p.severity.value, p.code or None)
                 for p in problems)
