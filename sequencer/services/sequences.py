"""Publishing sequence files as immutable versions, and loading a pinned version."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from sequencer.definition.model import Definition
from sequencer.errors import DefinitionError, Problem, Severity
from sequencer.services.app import App
from sequencer.store.models import SequenceVersion
from sequencer.validation import check_file, check_text


def publish(session: Session, app: App, path: Path) -> tuple[SequenceVersion, Definition]:
    """The stored version of the sequence in ``path``, stored now if its content is new.

    Raises:
        DefinitionError: the file has errors.
    """
    definition, problems = check_file(path, templates_root=app.templates)
    return _store(session, app, definition, problems, lambda: path.read_text("utf-8"),
                  str(path))


def publish_source(session: Session, app: App, text: str, filename: str
                   ) -> tuple[SequenceVersion, Definition, bool]:
    """``publish`` for a definition given as text (``filename`` names it in problems and
    is kept as its path); also says whether this version is new.

    Raises:
        DefinitionError: the text has errors.
    """
    definition, problems = check_text(text, filename, templates_root=app.templates)
    known = definition is not None and session.scalars(select(SequenceVersion.id).where(
        SequenceVersion.name == definition.name,
        SequenceVersion.version == definition.version)).first() is not None
    version, definition = _store(session, app, definition, problems, lambda: text, filename)
    return version, definition, not known


def _store(session: Session, app: App, definition: Definition | None,
           problems: list[Problem], source: Callable[[], str], path: str
           ) -> tuple[SequenceVersion, Definition]:
    if definition is None:
        raise DefinitionError([p for p in problems if p.severity is Severity.ERROR])
    found = session.scalars(select(SequenceVersion).where(
        SequenceVersion.name == definition.name,
        SequenceVersion.version == definition.version)).first()
    if found is None:
        found = SequenceVersion(name=definition.name, version=definition.version,
                                source=source(), path=path, created_at=app.clock.now())
        session.add(found)
        session.flush()
    app.definitions[found.id] = definition
    return found, definition


def definition_of(session: Session, app: App, version_id: int) -> Definition:
    """The definition an enrollment is pinned to (parsed once per process)."""
    cached = app.definitions.get(version_id)
    if cached is not None:
        return cached
    row = session.get(SequenceVersion, version_id)
    if row is None:
        raise DefinitionError([])
    definition, problems = check_text(row.source, row.path or row.name,
                                      templates_root=app.templates)
    if definition is None:
        raise DefinitionError([p for p in problems if p.severity is Severity.ERROR])
    app.definitions[version_id] = definition
    return definition
