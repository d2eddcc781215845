"""Sequence definitions: the model, the parser from plain data, and whole-file checks.

Pure: standard library only. Reading YAML and templates happens at the edge
(``sequencer.sources`` and ``sequencer.render``).
"""

from sequencer.definition.checks import LintPolicy, check_definition
from sequencer.definition.located import Report
from sequencer.definition.model import Definition, Schedule, Step, StepType, Variant, Wait, Window
from sequencer.definition.parse import parse_definition

__all__ = [
    "Definition",
    "LintPolicy",
    "Report",
    "Schedule",
    "Step",
    "StepType",
    "Variant",
    "Wait",
    "Window",
    "check_definition",
    "parse_definition",
]
