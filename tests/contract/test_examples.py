"""Every shipped sequence validates and every template it names renders for sample prospects."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sequencer.render import Renderer
from sequencer.render.context import SAMPLE_PROSPECTS, SAMPLE_SENDER, template_context
from sequencer.validation import check_file, expand, validate_paths

ROOT = Path(__file__).resolve().parents[2]
SEQUENCES = expand([ROOT / "sequences"])
TEMPLATES = ROOT / "templates"
REQUIRED = {"cold-outbound", "inbound-fast-follow-up", "nurture-two-year", "re-engagement"}


def test_the_four_teaching_examples_are_shipped() -> None:
    names = {path.stem for path in SEQUENCES}
    assert names >= REQUIRED


@pytest.mark.parametrize("path", SEQUENCES, ids=lambda p: p.stem)
def test_each_example_sequence_validates_without_errors(path: Path) -> None:
    definition, problems = check_file(path)
    assert definition is not None, "\n".join(p.format() for p in problems)


def _templated_steps() -> list[tuple[str, str, str, str | None]]:
    cases = []
    for path in SEQUENCES:
        definition, _ = check_file(path)
        assert definition is not None
        for step in definition.steps:
            for variant in step.variants:
                cases.append((path.stem, step.id, variant.template, variant.subject))
    return cases


@pytest.mark.parametrize("sequence,step,template,subject", _templated_steps(),
                         ids=lambda v: str(v))
@pytest.mark.parametrize("prospect", SAMPLE_PROSPECTS, ids=lambda p: p["email"])
def test_each_template_renders_for_full_and_sparse_prospects(
    sequence: str, step: str, template: str, subject: str | None, prospect: dict[str, str]
) -> None:
    renderer = Renderer(TEMPLATES)
    context = template_context(prospect, sender=SAMPLE_SENDER,
                               custom={"pain_point": "reply tracking"} if "@globex" in
                               prospect["email"] else {},
                               unsubscribe_url="https://example.com/u/token")
    body = renderer.render_file(template, context)
    assert body.strip()
    assert not re.search(r"\b(Hi|Hello|Hey|Dear)\s*,", body), body  # never "Hi ,"
    assert "None" not in body
    if subject:
        rendered = renderer.render_text(subject, context)
        assert rendered.strip() and "\n" not in rendered


def test_the_whole_sequences_folder_has_no_errors() -> None:
    result = validate_paths([ROOT / "sequences"])
    assert not result.errors, "\n".join(p.format() for p in result.errors)


def test_a_bare_optional_field_fails_to_render_instead_of_sending_hi_comma(
    tmp_path: Path,
) -> None:
    (tmp_path / "t.j2").write_text("Hi {{ prospect.first_name }},\n", "utf-8")
    renderer = Renderer(tmp_path)
    context = template_context({"email": "x@y.example"}, sender=SAMPLE_SENDER)
    from sequencer.render import RenderError

    with pytest.raises(RenderError, match="first_name"):
        renderer.render_file("t.j2", context)
