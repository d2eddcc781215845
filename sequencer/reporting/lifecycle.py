"""Lifecycle stages: their names and order, and what a stay in each one lasted.

A prospect climbs a ladder of stages (lead → MQL → SRL → SQL → opportunity →
customer by default) and may fall off it into a *lost* stage. The ladder is the
team's to name: ``lifecycle.yaml`` in the working directory, or the file named by
``SEQUENCER_LIFECYCLE`` (see docs/funnel.md). Stage changes are ``stage_changed``
events; the prospect's ``stage`` column is where they are now.

Everything here is pure except :func:`load_lifecycle`, the one function that reads
the environment and a file.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from sequencer.errors import InputError
from sequencer.settings import config_file

LIFECYCLE_VARIABLE = "SEQUENCER_LIFECYCLE"
LIFECYCLE_FILE = "lifecycle.yaml"
DEFAULT_STAGES = ("lead", "MQL", "SRL", "SQL", "opportunity", "customer")
_KEYS = ("stages", "qualified", "opportunity", "won", "lost", "currency", "source_field")


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """The ladder of stages and the rungs the funnel measures.

    ``qualified`` starts the qualified pipeline (sales acceptance counts meetings that
    reach it), ``opportunity`` is the base of the close rate and ``won`` its top; a
    ``lost`` stage is off the ladder and leaves the pipeline.
    """

    stages: tuple[str, ...] = DEFAULT_STAGES
    qualified: str = "SQL"
    opportunity: str = "opportunity"
    won: str = "customer"
    lost: tuple[str, ...] = ("lost",)
    currency: str = "USD"  # of a value recorded without one
    source_field: str = "source"  # the custom field (CSV column) a prospect's source is in
    _by_key: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        known = {s.casefold(): s for s in (*self.stages, *self.lost)}
        object.__setattr__(self, "_by_key", known)

    @property
    def known(self) -> tuple[str, ...]:
        return (*self.stages, *self.lost)

    def resolve(self, name: str) -> str:
        """The configured spelling of ``name`` (matched case-insensitively).

        Raises:
            InputError: not a stage of this lifecycle; the message lists the known ones.
        """
        found = self._by_key.get(name.strip().casefold())
        if found is None:
            raise InputError(f"unknown stage {name!r}: the stages are "
                             f"{', '.join(self.known)} (configure them in {LIFECYCLE_FILE} "
                             f"or ${LIFECYCLE_VARIABLE})")
        return found

    def rank(self, name: str | None) -> int | None:
        """The stage's place on the ladder (0 = first); None when lost or unknown."""
        found = self._by_key.get((name or "").strip().casefold())
        return self.stages.index(found) if found in self.stages else None

    def reached(self, name: str | None, rung: str) -> bool:
        """Whether ``name`` is ``rung`` or a stage past it on the ladder."""
        rank = self.rank(name)
        return rank is not None and rank >= self.stages.index(rung)

    def in_pipeline(self, name: str | None) -> bool:
        """At or past the qualified stage, not yet won, not lost: the open pipeline."""
        rank = self.rank(name)
        return (rank is not None and self.stages.index(self.qualified) <= rank
                < self.stages.index(self.won))

    def as_data(self) -> dict[str, Any]:
        return {"stages": list(self.stages), "qualified": self.qualified,
                "opportunity": self.opportunity, "won": self.won, "lost": list(self.lost),
                "currency": self.currency, "source_field": self.source_field}


def parse_lifecycle(text: str, *, where: str = LIFECYCLE_FILE) -> Lifecycle:
    """A lifecycle from YAML text; keys left out keep their defaults.

    Raises:
        InputError: the text is not a mapping of known keys, or the rungs do not fit
            the ladder; every problem is listed.
    """
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{where}: not valid YAML ({exc})") from exc
    if not isinstance(data, Mapping):
        raise InputError(f"{where}: expected a mapping of {', '.join(_KEYS)}")
    problems = [f"unknown key {k!r} (known: {', '.join(_KEYS)})" for k in data if k not in _KEYS]
    values: dict[str, Any] = {}
    for key in ("stages", "lost"):
        if key in data:
            names = data[key]
            if not isinstance(names, list) or not all(isinstance(n, str) and n.strip()
                                                      for n in names):
                problems.append(f"{key!r} must be a list of stage names")
                continue
            values[key] = tuple(n.strip() for n in names)
    for key in ("qualified", "opportunity", "won", "currency", "source_field"):
        if key in data:
            if not isinstance(data[key], str) or not data[key].strip():
                problems.append(f"{key!r} must be a name")
                continue
            values[key] = data[key].strip()
    if not problems:
        problems = _ladder_problems(Lifecycle(**values))
    if problems:
        raise InputError(f"{where}: " + "; ".join(problems))
    return Lifecycle(**values)


def _ladder_problems(lifecycle: Lifecycle) -> list[str]:
    problems = []
    keys = [s.casefold() for s in lifecycle.known]
    if not lifecycle.stages:
        return ["'stages' must name at least one stage"]
    if len(set(keys)) != len(keys):
        problems.append("a stage is named twice (names are compared case-insensitively)")
    ranks = []
    for rung in ("qualified", "opportunity", "won"):
        name = getattr(lifecycle, rung)
        if name not in lifecycle.stages:
            problems.append(f"{rung}: {name!r} is not one of the stages "
                            f"({', '.join(lifecycle.stages)})")
        else:
            ranks.append(lifecycle.stages.index(name))
    if len(ranks) == 3 and not ranks[0] <= ranks[1] <= ranks[2]:
        problems.append("the stages must come in the order qualified, opportunity, won")
    return problems


def load_lifecycle(environ: Mapping[str, str] | None = None, cwd: Path | None = None
                   ) -> Lifecycle:
    """The lifecycle in force: ``$SEQUENCER_LIFECYCLE``, else ``./lifecycle.yaml``, else
    the defaults.

    Raises:
        InputError: the variable names a missing file, or the file is invalid.
    """
    path = config_file(LIFECYCLE_VARIABLE, LIFECYCLE_FILE, environ, cwd)
    if path is None:
        return Lifecycle()
    return parse_lifecycle(path.read_text("utf-8"), where=str(path))


# -- velocity ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StageChange:
    prospect_id: int
    stage: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Velocity:
    stage: str
    median_days: float | None
    stays: int  # completed stays measured (left for another stage)
    current: int  # prospects in the stage now, their stay still running


def velocity(changes: Iterable[StageChange], lifecycle: Lifecycle,
             since: datetime | None = None) -> list[Velocity]:
    """Median days in each stage: from the change into it to the next change of the same
    prospect. Repeating the stage a prospect is already in does not restart the stay;
    stays that began before ``since`` are left out."""
    by_prospect: dict[int, list[StageChange]] = {}
    for change in sorted(changes, key=lambda c: c.at):
        history = by_prospect.setdefault(change.prospect_id, [])
        if not history or history[-1].stage != change.stage:
            history.append(change)
    stays: dict[str, list[float]] = {}
    current: dict[str, int] = {}
    for history in by_prospect.values():
        for entered, left in itertools.pairwise(history):
            if since is None or entered.at >= since:
                days = (left.at - entered.at).total_seconds() / 86400
                stays.setdefault(entered.stage, []).append(days)
        current[history[-1].stage] = current.get(history[-1].stage, 0) + 1
    return [Velocity(stage, _median(stays.get(stage, ())), len(stays.get(stage, ())),
                     current.get(stage, 0)) for stage in lifecycle.known]


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None
