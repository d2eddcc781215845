"""Applying what a CRM told us: each stage change or meeting, once per CRM event id.

The body was verified and mapped by ``sequencer.crm``; here each event goes through
``record_stage`` / ``record_meeting`` (the same path as ``sequencer record``), keyed
``crm:<source>:<event id>`` so that a webhook delivered twice changes nothing the
second time. Each item is applied in its own transaction: one that is refused (an
unknown prospect, a time in the future) does not undo the others, and the answer
lists every item as applied, duplicate or refused, with the reason and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sequencer.crm.inbound import CrmEvent, ItemError, Parsed
from sequencer.crm.stages import STAGES_FILE, STAGES_VARIABLE, StageMap, parse_stage_map
from sequencer.errors import InputError
from sequencer.reporting.lifecycle import Lifecycle
from sequencer.services.actions import record_meeting, record_stage
from sequencer.services.app import App
from sequencer.settings import config_file


@dataclass
class CrmReport:
    """What became of each item of a CRM's request."""

    applied: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)

    def as_data(self) -> dict[str, Any]:
        return {"applied": self.applied, "duplicates": self.duplicates, "refused": self.refused}


def load_stage_map(environ: Mapping[str, str] | None = None, cwd: Path | None = None
                   ) -> StageMap:
    """The CRM stage map in force: ``$SEQUENCER_CRM_STAGES``, else ``./crm_stages.yaml``,
    else the defaults.

    Raises:
        InputError: the variable names a missing file, or the file is invalid.
    """
    path = config_file(STAGES_VARIABLE, STAGES_FILE, environ, cwd)
    if path is None:
        return StageMap()
    return parse_stage_map(path.read_text("utf-8"), where=str(path))


def apply_crm_events(app: App, source: str, parsed: Parsed, *,
                     lifecycle: Lifecycle | None = None) -> CrmReport:
    """Apply every mapped event of ``parsed``, each once; refusals are reported, not raised."""
    report = CrmReport(refused=[e.as_data() for e in parsed.errors])
    for event in parsed.events:
        try:
            recorded = _apply(app, source, event, lifecycle)
        except InputError as exc:
            report.refused.append(ItemError(event.index, event.id, _field_of(source, exc),
                                            str(exc)).as_data())
            continue
        entry = {"index": event.index, "id": event.id, "type": event.kind,
                 "email": event.email, "stage": event.stage,
                 "enrollments": [{"sequence": s, "status": st} for s, st in recorded.enrollments]}
        (report.duplicates if recorded.duplicate else report.applied).append(entry)
    report.refused.sort(key=lambda e: e["index"])
    return report


def _apply(app: App, source: str, event: CrmEvent, lifecycle: Lifecycle | None) -> Any:
    key = f"crm:{source}:{event.id}"
    if event.kind == "meeting_booked":
        return record_meeting(app, event.email, at=event.occurred_at, key=key)
    assert event.stage is not None  # mapped by sequencer.crm.inbound
    return record_stage(app, event.email, event.stage, value=event.value,
                        currency=event.currency, at=event.occurred_at, lifecycle=lifecycle,
                        key=key)


def _field_of(source: str, exc: InputError) -> str:
    """The item's field a refusal of the recording service is about."""
    text = str(exc)
    if text.startswith("no prospect"):
        return {"hubspot": "email", "salesforce": "Email"}.get(source, "email")
    if "future" in text or "time zone" in text:
        return {"hubspot": "occurredAt", "salesforce": "LastModifiedDate"}.get(
            source, "occurred_at")
    if "value" in text:
        return {"salesforce": "Amount"}.get(source, "value")
    return "(item)"
