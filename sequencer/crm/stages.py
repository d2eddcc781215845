"""CRM stage names → lifecycle stages: a documented mapping the team may edit.

Each source has its own table (``generic``, ``hubspot``, ``salesforce``), matched
case-insensitively. A CRM name with no entry is taken as a lifecycle stage name
itself (so ``SQL`` works from every source); a name that is neither is refused,
naming the file to edit. Overrides come from ``crm_stages.yaml`` in the working
directory or the file ``$SEQUENCER_CRM_STAGES`` names (read by the service, not
here), shaped like :data:`DEFAULT_MAP`; an entry mapped to ``null`` removes a default.

Pure, except that it parses YAML text handed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import yaml

from sequencer.errors import InputError
from sequencer.reporting.lifecycle import Lifecycle

STAGES_VARIABLE = "SEQUENCER_CRM_STAGES"
STAGES_FILE = "crm_stages.yaml"
SOURCES = ("generic", "hubspot", "salesforce")

# The names each CRM ships with, mapped onto the default ladder
# (lead → MQL → SRL → SQL → opportunity → customer, and lost).
DEFAULT_MAP: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "generic": MappingProxyType({}),
    "hubspot": MappingProxyType({
        # lifecyclestage
        "subscriber": "lead", "lead": "lead", "marketingqualifiedlead": "MQL",
        "salesqualifiedlead": "SQL", "opportunity": "opportunity", "customer": "customer",
        "evangelist": "customer",
        # hs_lead_status
        "new": "lead", "open": "lead", "in_progress": "lead",
        "attempted_to_connect": "lead", "connected": "SRL", "open_deal": "opportunity",
        "unqualified": "lost", "bad_timing": "lost",
    }),
    "salesforce": MappingProxyType({
        # Opportunity.StageName
        "prospecting": "SQL", "qualification": "SQL", "needs analysis": "opportunity",
        "value proposition": "opportunity", "id. decision makers": "opportunity",
        "perception analysis": "opportunity", "proposal/price quote": "opportunity",
        "negotiation/review": "opportunity", "closed won": "customer", "closed lost": "lost",
        # Lead.Status
        "open - not contacted": "lead", "working - contacted": "MQL",
        "closed - converted": "SQL", "closed - not converted": "lost",
    }),
})


@dataclass(frozen=True, slots=True)
class StageMap:
    """The tables in force: source → (CRM name, case-folded) → lifecycle stage."""

    tables: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: DEFAULT_MAP)

    def to_lifecycle(self, source: str, name: str, lifecycle: Lifecycle) -> str:
        """The lifecycle stage a CRM's stage ``name`` stands for, in its configured spelling.

        Raises:
            InputError: neither mapped nor a lifecycle stage; the message says where to
                map it.
        """
        mapped = self.tables.get(source, {}).get(name.strip().casefold(), name)
        try:
            return lifecycle.resolve(mapped)
        except InputError as exc:
            how = (f"{name!r} is mapped to {mapped!r}, which is not a lifecycle stage"
                   if mapped != name else f"unknown stage {name!r}")
            raise InputError(f"{how}: map it under {source!r} in {STAGES_FILE} "
                             f"(or ${STAGES_VARIABLE}) to one of {', '.join(lifecycle.known)}"
                             ) from exc


def parse_stage_map(text: str, *, where: str = STAGES_FILE) -> StageMap:
    """The defaults with the overrides of a ``crm_stages.yaml`` text.

    Raises:
        InputError: not a mapping of sources to mappings of names; every problem listed.
    """
    try:
        data: Any = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{where}: not valid YAML ({exc})") from exc
    if not isinstance(data, Mapping):
        raise InputError(f"{where}: expected a mapping of {', '.join(SOURCES)} to stage names")
    problems: list[str] = []
    tables = {source: dict(DEFAULT_MAP[source]) for source in SOURCES}
    for source, entries in data.items():
        if source not in SOURCES:
            problems.append(f"unknown source {source!r} (known: {', '.join(SOURCES)})")
        elif not isinstance(entries, Mapping):
            problems.append(f"{source}: expected a mapping of CRM stage name to stage")
        else:
            problems += _merge(tables[source], source, entries)
    if problems:
        raise InputError(f"{where}: " + "; ".join(problems))
    return StageMap(MappingProxyType({s: MappingProxyType(t) for s, t in tables.items()}))


def _merge(table: dict[str, str], source: str, entries: Mapping[Any, Any]) -> list[str]:
    problems = []
    for name, stage in entries.items():
        key = str(name).strip().casefold()
        if stage is None:
            table.pop(key, None)
        elif isinstance(stage, str) and stage.strip():
            table[key] = stage.strip()
        else:
            problems.append(f"{source}.{name}: expected a stage name or null")
    return problems
