"""Templates are user content: known sandbox escapes and resource exhaustion are refused
as render errors, which hold the step (RELIABILITY rule 8, test T18)."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest

from sequencer.render import Renderer, RenderError
from sequencer.render.context import template_context

CONTEXT = template_context({"first_name": "Ann", "company": "Acme"},
                           sender={"name": "Ana Ruiz"})
ESCAPES = [
    # CVE-2024-56326: str.format reached through a stored reference
    "{{ '{0.__class__.__init__.__globals__}'.format(prospect) }}",
    "{% set f = 'a{0.__class__}'.format %}{{ f(prospect) }}",
    # CVE-2025-27516: the attr filter fetching format
    "{{ ('{0.__class__.__mro__}' | attr('format'))(prospect) }}",
    "{{ prospect.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].system('id') }}",
    "{{ self._TemplateReference__context }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ prospect.items.__self__.__class__ }}",
]
EXHAUSTION = [
    "{{ 'x' * 1000000000 }}",
    "{{ 1000000000 * 'x' }}",
    "{{ [1] * 1000000000 }}",
    "{{ 9 ** 9999999 }}",
    "{% for i in range(10**9) %}{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{{ 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' }}{% endfor %}",
    "{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}",
]


def render(tmp_path: Path, text: str) -> str:
    return Renderer(tmp_path).render_text(text, CONTEXT, name="subject of intro")


def test_jinja2_is_a_version_without_the_known_sandbox_escapes() -> None:
    major, minor, patch = (int(p) for p in version("jinja2").split(".")[:3])
    assert (major, minor, patch) >= (3, 1, 6)


@pytest.mark.parametrize("payload", ESCAPES)
def test_known_sandbox_escapes_are_refused_as_render_errors(tmp_path: Path,
                                                            payload: str) -> None:
    with pytest.raises(RenderError) as caught:
        render(tmp_path, payload)
    assert "subject of intro" in str(caught.value)


@pytest.mark.parametrize("payload", EXHAUSTION)
def test_templates_that_would_exhaust_memory_or_time_are_refused(tmp_path: Path,
                                                                 payload: str) -> None:
    with pytest.raises(RenderError):
        render(tmp_path, payload)


def test_ordinary_templates_still_render_with_loops_and_arithmetic(tmp_path: Path) -> None:
    text = ("Hi {{ prospect.first_name }}, {{ '-' * 3 }} {{ 2 ** 10 }} "
            "{% for i in range(3) %}{{ i }}{% endfor %} {{ prospect.company | upper }}")

    assert render(tmp_path, text) == "Hi Ann, --- 1024 012 ACME"


def test_a_missing_field_without_a_fallback_is_an_error_not_hi_comma(tmp_path: Path) -> None:
    with pytest.raises(RenderError) as caught:
        render(tmp_path, "Hi {{ prospect.title }},")
    assert "prospect.title" in str(caught.value)
    assert render(tmp_path, "Hi {{ prospect.title | default('there') }},") == "Hi there,"
