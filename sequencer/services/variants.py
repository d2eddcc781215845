"""Declaring the winner of an A/B test: a new version of the sequence, for new enrollments.

The sequence file is the source of truth (it is user content, versioned in git), so
the change is written into the file itself: the winner's weight becomes 100 and
every other variant's 0 (kept, so the step never empties and the test's history
still reads), with a comment above the step's ``variants`` saying when and what
the weights were. Only those spans of text change; every other byte, comment
included, stays as it was. The new file is checked before it replaces the old one,
then published: new enrollments pin the new version and get the winner; running
enrollments keep the version they pinned and the variant they were assigned.

An ``ab_winner`` event records each declaration (from and to version, weights before).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from sequencer.definition.model import Definition, Step
from sequencer.errors import DefinitionError, InputError, Severity
from sequencer.services.app import App
from sequencer.services.sequences import publish
from sequencer.store.models import Event, SequenceVersion
from sequencer.store.upsert import insert_ignoring
from sequencer.validation import check_text

WINNER_WEIGHT = 100
WINNER_EVENT = "ab_winner"


@dataclass
class Declared:
    """What declaring a winner did, for the caller to show."""

    sequence: str
    step: str
    winner: str
    path: Path
    from_version: str
    to_version: str
    changed: bool  # False when the winner already had every new enrollment
    weights_before: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Edit:
    start: int
    end: int
    text: str


def declare_winner(app: App, sequence: str | Path, step: str, variant: str) -> Declared:
    """Make ``variant`` the only variant new enrollments in ``step`` get.

    ``sequence`` is the sequence file, or the name of a published sequence whose
    file is still where it was published from.

    Raises:
        InputError: no such sequence, file, step or variant, or a step without variants.
        DefinitionError: the file has errors (nothing is changed).
    """
    path = sequence_file(app, sequence)
    text = path.read_bytes().decode("utf-8")  # as is: CRLF line ends stay CRLF
    definition = _definition(text, path, app)
    chosen = _step_with_variants(definition, step)
    ids = [v.id for v in chosen.variants]
    if variant not in ids:
        raise InputError(f"step {step!r} of {definition.name} has no variant {variant!r} "
                         f"(its variants: {', '.join(ids)})")
    before = {v.id: v.weight for v in chosen.variants}
    wanted = {v: WINNER_WEIGHT if v == variant else 0 for v in ids}
    result = Declared(definition.name, step, variant, path, definition.version,
                      definition.version, changed=before != wanted, weights_before=before)
    if result.changed:
        note = (f"A/B winner {variant!r} declared {app.clock.now():%Y-%m-%d} "
                f"(sequencer ab declare); weights were "
                + ", ".join(f"{k}: {w}" for k, w in before.items()))
        new_text = with_weights(text, step, ids, wanted, note=note)
        _check_new(new_text, path, app, step, wanted)
        _replace_file(path, new_text)
    with app.sessions.begin() as session:
        _, published = publish(session, app, path)
        result.to_version = published.version
        if result.changed:
            _record(session, result, app.clock.now())
    return result


def sequence_file(app: App, sequence: str | Path) -> Path:
    """The file of ``sequence``: a path as given, or where a published name came from.

    Raises:
        InputError: neither an existing file nor a published sequence with its file.
    """
    given = Path(sequence)
    if given.is_file():
        return given
    with app.sessions() as session:
        latest = session.scalars(select(SequenceVersion).where(
            SequenceVersion.name == str(sequence)).order_by(
            SequenceVersion.created_at.desc(), SequenceVersion.id.desc())).first()
    if latest is None:
        raise InputError(f"{sequence!r} is neither a sequence file nor the name of a "
                         f"published sequence")
    if latest.path is None or not Path(latest.path).is_file():
        raise InputError(f"sequence {sequence!r} was published from {latest.path or 'text'}, "
                         f"which is not there any more: give the path of its file")
    return Path(latest.path)


def with_weights(text: str, step: str, ids: list[str], weights: dict[str, int], *,
                 note: str | None = None) -> str:
    """``text`` with the weights of ``step``'s variants set, everything else untouched.

    ``ids`` are the step's variant ids in file order (as the parser names them, so
    variants written without an id are found by position).

    Raises:
        InputError: the step's variants are not where a plain file has them (an alias).
    """
    variants_key, items = _variant_nodes(text, step, len(ids))
    newline = "\r\n" if "\r\n" in text else "\n"
    edits = [_weight_edit(text, item, weights[i], newline)
             for i, item in zip(ids, items, strict=True)]
    if note is not None:
        line_start = text.rfind("\n", 0, variants_key.start_mark.index) + 1
        indent = " " * variants_key.start_mark.column
        edits.append(_Edit(line_start, line_start, f"{indent}# {note}{newline}"))
    for edit in sorted((e for e in edits if e is not None), key=lambda e: -e.start):
        text = text[:edit.start] + edit.text + text[edit.end:]
    return text


def _definition(text: str, path: Path, app: App) -> Definition:
    definition, problems = check_text(text, str(path), templates_root=app.templates)
    if definition is None:
        raise DefinitionError([p for p in problems if p.severity is Severity.ERROR])
    return definition


def _step_with_variants(definition: Definition, step: str) -> Step:
    if step not in definition.index:
        raise InputError(f"{definition.name} has no step {step!r} "
                         f"(its steps: {', '.join(s.id for s in definition.steps)})")
    found = definition.step(step)
    if len(found.variants) < 2:
        raise InputError(f"step {step!r} of {definition.name} has no variants to choose "
                         f"from: there is no A/B test to decide")
    return found


def _variant_nodes(text: str, step: str, count: int
                   ) -> tuple[yaml.Node, list[yaml.MappingNode]]:
    """The ``variants`` key node of ``step`` and its items, with their places in ``text``."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    steps = _value(root, "steps")
    for node in steps.value if isinstance(steps, yaml.SequenceNode) else []:
        if isinstance(node, yaml.MappingNode) and _scalar(_value(node, "id")) == step:
            key = next(k for k, _ in node.value if _scalar(k) == "variants")
            items = _value(node, "variants")
            if items is None:
                break
            inside = node.start_mark.index <= items.start_mark.index <= node.end_mark.index
            if isinstance(items, yaml.SequenceNode) and inside and len(items.value) == count:
                return key, list(items.value)
    raise InputError(f"cannot find the variants of step {step!r} written out in the file "
                     f"(an alias or a merge key?): set the weights by hand")


def _weight_edit(text: str, item: yaml.MappingNode, weight: int, newline: str
                 ) -> _Edit | None:
    current = _value(item, "weight")
    if current is not None:
        if _scalar(current) == str(weight):
            return None
        return _Edit(current.start_mark.index, current.end_mark.index, str(weight))
    if item.flow_style:  # {template: x.j2}: add ", weight: N" before the brace
        brace = text.rindex("}", item.start_mark.index, item.end_mark.index)
        before = text[item.start_mark.index + 1:brace].rstrip()
        joiner = ", " if before and not before.endswith(",") else (
            "" if text[brace - 1] in " \t" else " ")
        return _Edit(brace, brace, f"{joiner}weight: {weight}")
    first_key = item.value[0][0]  # a block mapping: a line of its own, before the first key
    indent = " " * first_key.start_mark.column
    return _Edit(first_key.start_mark.index, first_key.start_mark.index,
                 f"weight: {weight}{newline}{indent}")


def _value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if _scalar(k) == key), None)


def _scalar(node: yaml.Node | None) -> str | None:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def _check_new(text: str, path: Path, app: App, step: str, wanted: dict[str, int]) -> None:
    """The edited file must be valid and say exactly what was meant, or nothing is written."""
    definition = _definition(text, path, app)
    got = {v.id: v.weight for v in definition.step(step).variants}
    if got != wanted:  # pragma: no cover - a bug in the edit, never the user's
        raise InputError(f"editing {path} went wrong (weights {got}, meant {wanted}): "
                         f"the file is unchanged")


def _replace_file(path: Path, text: str) -> None:
    """Write ``text`` over ``path`` at once: a crash leaves the old file or the new one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _record(session: Session, result: Declared, now: datetime) -> None:
    session.execute(insert_ignoring(session, Event, ("source_key",)), [{
        "kind": WINNER_EVENT,
        "source_key": f"{WINNER_EVENT}:{result.sequence}:{result.to_version}:{result.step}"[:500],
        "occurred_at": now,
        "payload": {"sequence": result.sequence, "step": result.step, "variant": result.winner,
                    "from_version": result.from_version, "to_version": result.to_version,
                    "weights_before": result.weights_before, "path": str(result.path)}}])
