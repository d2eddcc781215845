"""Edge cases of the sequence language found while writing the docs and examples."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sequencer.engine import actions as act
from sequencer.engine import events as ev
from sequencer.engine import start
from sequencer.engine.advance import advance
from sequencer.render import analyse_template
from sequencer.validation import check_file
from tests.unit.engine_helpers import definition

MONDAY = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # 08:00 in New York


def problems_of(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "t.j2").write_text("Hi {{ prospect.first_name | default('') }}")
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text), "utf-8")
    _, problems = check_file(path, templates_root=tmp_path / "templates")
    return [f"{p.line}: {p.message}" for p in problems if p.severity == "error"]


def test_a_step_id_starting_with_a_digit_can_be_named_in_a_condition(tmp_path: Path) -> None:
    found = problems_of(tmp_path, """\
        name: s
        steps:
          - {id: 2nd-call, type: call}
          - {id: b, type: branch, if: "outcome(2nd-call) == connected", goto: c}
          - {id: c, type: task}
        """)
    assert found == []


def test_out_of_office_durations_are_read_in_their_own_units(tmp_path: Path) -> None:
    found = problems_of(tmp_path, """\
        name: s
        pause_on: {out_of_office: {resume_after_return: 4 hours, default_days: 2 weeks}}
        steps: [{id: a, type: task}]
        """)
    assert found == ["2: 'resume_after_return' is counted in business days, not hours"]
    seq = definition("""\
        name: s
        pause_on: {out_of_office: {resume_after_return: 2 business days, default_days: 2 weeks}}
        steps: [{id: a, type: task}]
        """)
    assert (seq.pause.resume_business_days_after_return, seq.pause.default_pause_days) == (2, 14)


def test_threading_into_a_manual_email_is_refused(tmp_path: Path) -> None:
    found = problems_of(tmp_path, """\
        name: s
        steps:
          - {id: personal, type: manual_email}
          - {id: bump, type: email, thread: personal, template: t.j2}
        """)
    assert any(f.startswith("4: ") and "a manual email" in f for f in found)


def test_a_follow_up_whose_first_email_was_skipped_starts_with_that_subject() -> None:
    seq = definition("""\
        name: s
        schedule: {windows: {daily: ["00:00-24:00"]}, holidays: none}
        steps:
          - {id: call-1, type: call}
          - {id: check, type: branch, if: "outcome(call-1) == connected", goto: follow}
          - {id: intro, type: email, template: t.j2, subject: "About {{ prospect.company }}"}
          - {id: follow, type: email, thread: intro, template: t.j2}
        """)
    state = start(seq, timezone="UTC", country=None, seed=1, now=MONDAY).state
    state = advance(seq, state, ev.Due(), now=MONDAY).state
    decision = advance(seq, state, ev.TaskCompleted("call-1", "connected"), now=MONDAY)
    decision = advance(seq, decision.state, ev.Due(), now=MONDAY)
    send = next(a for a in decision.actions if isinstance(a, act.SendEmail))
    assert send.step == "follow"
    assert send.subject == "About {{ prospect.company }}" and send.in_reply_to is None


@pytest.mark.parametrize("source,fallbacks", [
    ("{% if prospect.title or prospect.company %}{{ prospect.company }}{% endif %}", [False]),
    ("{% if not prospect.company %}{{ prospect.company }}{% endif %}", [False]),
    ("{{ ' for ' ~ prospect.company if prospect.company else '' }}", [True]),
    ("{% if prospect.title and prospect.company %}{{ prospect.company }}{% endif %}", [True]),
])
def test_only_a_condition_that_ensures_a_field_counts_as_its_guard(
    source: str, fallbacks: list[bool]
) -> None:
    printed = [u.has_fallback for u in analyse_template(source).uses][-len(fallbacks):]
    assert printed == fallbacks


def test_a_variable_the_renderer_does_not_provide_is_an_error(tmp_path: Path) -> None:
    found = problems_of(tmp_path, """\
        name: s
        steps:
          - {id: a, type: email, template: t.j2, subject: "Hi {{ step.id }}"}
        """)
    assert len(found) == 1 and found[0].startswith("3: unknown variable 'step'")


def test_manual_email_variants_are_chosen_by_weight_and_hand_the_rep_their_subject() -> None:
    seq = definition("""\
        name: s
        schedule: {windows: {daily: ["00:00-24:00"]}, holidays: none}
        steps:
          - id: personal
            type: manual_email
            subject: "Quick idea"
            variants: [{template: a.j2, weight: 0}, {template: b.j2, weight: 1}]
        """)
    tasks = []
    for seed in range(20):
        state = start(seq, timezone="UTC", country=None, seed=seed, now=MONDAY).state
        tasks += [a for a in advance(seq, state, ev.Due(), now=MONDAY).actions
                  if isinstance(a, act.CreateTask)]
    assert {(t.template, t.variant, t.subject) for t in tasks} == {("b.j2", "b", "Quick idea")}


@pytest.mark.parametrize("line,expected", [
    ("schedule: {holidays: NO}", "YAML reads the country code NO as a boolean"),
    ("limits: {max_soft_bounces: -1}", "max_soft_bounces must be 0 or more"),
])
def test_values_that_would_silently_change_meaning_are_refused(
    tmp_path: Path, line: str, expected: str
) -> None:
    found = problems_of(tmp_path, f"name: s\n{line}\nsteps: [{{id: a, type: task}}]\n")
    assert any(f.startswith("2: ") and expected in f for f in found), found


def test_sent_of_a_step_that_is_not_an_email_is_refused(tmp_path: Path) -> None:
    found = problems_of(tmp_path, """\
        name: s
        steps:
          - {id: call-1, type: call}
          - {id: b, type: branch, if: "sent(call-1)", goto: c}
          - {id: c, type: task}
        """)
    assert any(f.startswith("4: ") and "tests a call step, not an email" in f for f in found)
