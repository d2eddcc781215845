"""Email templates: a sandboxed Jinja2 environment, template analysis for ``validate``,
and rendering with compiled templates cached.

Rules (../shared/RELIABILITY.md §8): SandboxedEnvironment, Jinja2 >= 3.1.6, a
missing merge field without a fallback is an error (no "Hi ," ever leaves),
plain-data context, output-size cap.
"""

from sequencer.render.analysis import FieldUse, TemplateReport, analyse_template
from sequencer.render.environment import Renderer, RenderError, make_environment

__all__ = [
    "FieldUse",
    "RenderError",
    "Renderer",
    "TemplateReport",
    "analyse_template",
    "make_environment",
]
