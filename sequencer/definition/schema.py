"""The JSON Schema of a sequence file, for editors (``sequencer schema``).

Kept beside the parser and tested against it: every example validates, and the
keys listed here are the keys the parser knows.
"""

from __future__ import annotations

from typing import Any

from sequencer.definition.learned import LEARNED_KEYS, MAX_EXPLORE, MAX_HOURS
from sequencer.definition.model import Segment, StepType
from sequencer.definition.parse import (
    COMMON_STEP_KEYS,
    EXIT_WORDS,
    LIMIT_KEYS,
    SCHEDULE_KEYS,
    STEP_KEYS,
    TOP_KEYS,
    VARIANT_KEYS,
)

WAIT = {
    "description": "e.g. '30 minutes', '4 hours', '3 days', '2 business days', '1 week', or 0",
    "oneOf": [
        {"type": "string",
         "pattern": r"^\s*\d+\s*(minutes?|mins?|m|hours?|hrs?|h|days?|d|business[ _-]?days?|bd"
                    r"|weeks?|w)\s*$"},
        {"const": 0},
    ],
}
WINDOW = {"type": "string", "pattern": r"^\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}\s*$",
          "description": "HH:MM-HH:MM in the prospect's local time; an end before the start "
                         "crosses midnight"}
TEXT = {"type": "string", "minLength": 1}
LEARNED_WINDOWS: dict[str, Any] = {
    "description": "opt in to send windows learned from this sequence's replies",
    "oneOf": [{"type": "boolean"}, {
        "type": "object", "additionalProperties": False,
        "properties": {
            "enabled": {"type": "boolean"},
            "segment": {"enum": [s.value for s in Segment]},
            "min_sends": {"type": "integer", "minimum": 1},
            "min_slot_sends": {"type": "integer", "minimum": 1},
            "explore": {"type": "number", "minimum": 0, "maximum": MAX_EXPLORE},
            "hours": {"type": "integer", "minimum": 1, "maximum": MAX_HOURS},
        },
    }],
}
FLAGS = {"type": "boolean"}

STEP_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,62}$"},
    "wait": WAIT,
    "at": {"type": "string", "format": "date", "description": "exact local date, YYYY-MM-DD"},
    "if_past": {"enum": ["skip", "send"]},
    "instructions": TEXT,
    "template": TEXT,
    "subject": TEXT,
    "thread": TEXT,
    "variants": {
        "type": "array", "minItems": 1,
        "items": {
            "type": "object", "additionalProperties": False, "required": ["template"],
            "properties": {"id": {"type": ["string", "integer"]}, "template": TEXT,
                           "subject": TEXT, "weight": {"type": "integer", "minimum": 0}},
        },
    },
    "if": {"type": "string", "description": "e.g. clicked(intro) and not replied"},
    "goto": TEXT,
    "else": TEXT,
}


def _step_schema(kind: StepType) -> dict[str, Any]:
    keys = COMMON_STEP_KEYS + STEP_KEYS[kind]
    properties = {k: STEP_PROPERTIES[k] for k in keys if k != "type"}
    properties["type"] = {"const": kind.value}
    required = ["id", "type"] + (["if", "goto"] if kind is StepType.BRANCH else [])
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False,
                              "required": required, "properties": properties}
    return {"if": {"properties": {"type": {"const": kind.value}}, "required": ["type"]},
            "then": schema}


def sequence_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a sequence file."""
    assert set(VARIANT_KEYS) <= set(STEP_PROPERTIES["variants"]["items"]["properties"])
    properties: dict[str, Any] = {
        "name": TEXT,
        "description": {"type": "string"},
        "schedule": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "windows": {"type": "object", "additionalProperties": {
                    "oneOf": [{"type": "array", "items": WINDOW}, WINDOW]}},
                "timezone": {"type": "string", "description": "IANA zone, e.g. Europe/Paris"},
                "country": {"type": "string", "pattern": "^[A-Za-z]{2,3}$"},
                "holidays": {"oneOf": [{"const": "prospect_country"}, {"const": "none"},
                                       {"const": False}, {"type": "string",
                                                          "pattern": "^[A-Za-z]{2,3}$"}]},
                "business_days": {"type": "string"},
                "jitter": WAIT,
                "learned_windows": LEARNED_WINDOWS,
            },
        },
        "exit_on": {"type": "array", "items": {"oneOf": [
            {"enum": list(EXIT_WORDS)},
            {"type": "object", "additionalProperties": False, "required": ["stage"],
             "properties": {"stage": {"oneOf": [{"type": "array", "items": TEXT}, TEXT]}}},
        ]}},
        "pause_on": {"type": "object", "additionalProperties": False, "properties": {
            "out_of_office": {"oneOf": [FLAGS, {
                "type": "object", "additionalProperties": False,
                "properties": {"resume_after_return": {"oneOf": [WAIT, {"type": "integer"}]},
                               "default_days": {"oneOf": [WAIT, {"type": "integer"}]}}}]}}},
        "limits": {"type": "object", "additionalProperties": False, "properties": {
            "one_active_sequence": FLAGS,
            "reenroll": {"type": "string", "pattern": r"^(never|always|after\s+.+)$"},
            "max_touches_per_week": {"type": "integer", "minimum": 1},
            "max_soft_bounces": {"type": "integer", "minimum": 0},
        }},
        "compliance": {"type": "object", "additionalProperties": False, "properties": {
            "unsubscribe_footer": FLAGS, "physical_address": FLAGS}},
        "tracking": {"type": "object", "additionalProperties": False, "properties": {
            "opens": FLAGS, "clicks": FLAGS}},
        "custom_fields": {"type": "array", "items": {"type": "string",
                                                     "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}},
        "steps": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["id", "type"],
            "properties": {"type": {"enum": [t.value for t in StepType]}},
            "allOf": [_step_schema(kind) for kind in StepType],
        }},
    }
    assert set(properties) == set(TOP_KEYS)
    assert set(properties["schedule"]["properties"]) == set(SCHEDULE_KEYS)
    assert set(properties["limits"]["properties"]) == set(LIMIT_KEYS)
    assert set(LEARNED_WINDOWS["oneOf"][1]["properties"]) == set(LEARNED_KEYS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://sequencer.dev/schema/sequence.json",
        "title": "sequencer sequence",
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "steps"],
        "properties": properties,
    }
