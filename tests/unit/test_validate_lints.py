"""Policy lints of ``sequencer validate``: warnings a team may promote to errors.

Each case is a minimal sequence (written to tmp_path with its templates) that
produces exactly one kind of policy warning and no error.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sequencer.cli.main import cli
from sequencer.definition import LintPolicy
from sequencer.errors import Problem, Severity
from sequencer.validation import WARNING_CODES, check_file, validate_paths

PLAIN = "Hello,\n\nA short note.\n\n{{ sender.signature }}\n"
WITH_UNSUBSCRIBE = PLAIN + "\nNot interested? {{ unsubscribe_url }}\n"


@dataclass(frozen=True)
class Case:
    code: str
    sequence: str
    templates: dict[str, str]
    file: str  # where the warning is reported: "seq.yaml" or a template name
    line: int

    def __str__(self) -> str:
        return self.code


CASES = [
    Case(
        "unsubscribe-path",
        """\
        name: no-unsubscribe
        compliance:
          unsubscribe_footer: false
        steps:
          - id: intro
            type: email
            template: plain.j2
            subject: hello
        """,
        {"plain.j2": PLAIN},
        "seq.yaml", 5,
    ),
    Case(
        "touch-density",
        """\
        name: dense
        steps:
          - id: t1
            type: task
          - id: t2
            type: task
            wait: 1 day
          - id: t3
            type: task
            wait: 1 day
          - id: t4
            type: task
            wait: 1 day
          - id: t5
            type: task
            wait: 1 day
        """,
        {},
        "seq.yaml", 14,
    ),
    Case(
        "window-hours",
        """\
        name: early-bird
        schedule:
          windows: {mon-fri: ["06:00-07:30"]}
        steps:
          - id: intro
            type: task
        """,
        {},
        "seq.yaml", 3,
    ),
    Case(
        "merge-fallback",
        """\
        name: no-fallback
        steps:
          - id: intro
            type: email
            template: greet.j2
            subject: hello
        """,
        {"greet.j2": "Hello,\n\nHi {{ prospect.first_name }}, a short note.\n\n"
                     "{{ sender.signature }}\n"},
        "greet.j2", 3,
    ),
    Case(
        "thread-subject",
        """\
        name: threads
        steps:
          - id: intro
            type: email
            template: plain.j2
            subject: hello
          - id: bump
            type: email
            wait: 2 days
            thread: intro
            template: plain.j2
            subject: a different subject
        """,
        {"plain.j2": PLAIN},
        "seq.yaml", 12,
    ),
]


def write(tmp_path: Path, sequence: str, templates: dict[str, str]) -> Path:
    root = tmp_path / "templates"
    root.mkdir()
    for name, text in templates.items():
        (root / name).write_text(text, encoding="utf-8")
    path = tmp_path / "seq.yaml"
    path.write_text(textwrap.dedent(sequence), encoding="utf-8")
    return path


def problems_of(path: Path, policy: LintPolicy = LintPolicy()) -> list[Problem]:
    _, problems = check_file(path, policy=policy, templates_root=path.parent / "templates")
    return problems


def validate(path: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["validate", str(path), "--templates", str(path.parent / "templates"), *args])


def test_the_cases_cover_every_warning_code() -> None:
    assert sorted(c.code for c in CASES) == sorted(WARNING_CODES)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_policy_lint_is_a_warning_with_its_code_at_its_line(
    tmp_path: Path, case: Case
) -> None:
    path = write(tmp_path, case.sequence, case.templates)
    problems = problems_of(path)
    assert [p for p in problems if p.severity is Severity.ERROR] == []
    assert {p.code for p in problems} == {case.code}, problems
    for problem in problems:
        assert problem.severity is Severity.WARNING
        assert Path(problem.file).name == case.file
        assert problem.line == case.line, problem.format()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_sequence_with_only_policy_warnings_is_still_usable(
    tmp_path: Path, case: Case
) -> None:
    path = write(tmp_path, case.sequence, case.templates)
    definition, _ = check_file(path, templates_root=tmp_path / "templates")
    assert definition is not None


@pytest.mark.parametrize("case", CASES, ids=str)
def test_validate_prints_a_policy_warning_and_exits_0(tmp_path: Path, case: Case) -> None:
    path = write(tmp_path, case.sequence, case.templates)
    result = validate(path)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stdout.splitlines() if ": warning: " in line]
    assert warnings, result.output
    assert all(line.endswith(f"[{case.code}]") for line in warnings), result.output
    assert result.stdout.splitlines()[-1].startswith("ok: ")
    assert "0 error(s)" in result.stdout


@pytest.mark.parametrize("case", CASES, ids=str)
def test_error_option_turns_that_warning_into_an_error_and_exits_1(
    tmp_path: Path, case: Case
) -> None:
    path = write(tmp_path, case.sequence, case.templates)
    result = validate(path, "--error", case.code)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stdout.splitlines() if line.endswith(f"[{case.code}]")]
    assert lines, result.output
    assert not any(": warning: " in line for line in lines), result.output
    assert not any(line.startswith("ok:") for line in result.output.splitlines())


@pytest.mark.parametrize("case", CASES, ids=str)
def test_strict_turns_every_warning_into_an_error_and_exits_1(
    tmp_path: Path, case: Case
) -> None:
    path = write(tmp_path, case.sequence, case.templates)
    result = validate(path, "--strict")
    assert result.exit_code == 1, result.output
    assert f"[{case.code}]" in result.stdout
    assert ": warning: " not in result.stdout


@pytest.mark.parametrize("case", CASES, ids=str)
def test_error_option_for_another_code_leaves_the_warning_a_warning(
    tmp_path: Path, case: Case
) -> None:
    path = write(tmp_path, case.sequence, case.templates)
    other = next(code for code in WARNING_CODES if code != case.code)
    result = validate(path, "--error", other)
    assert result.exit_code == 0, result.output
    assert ": warning: " in result.stdout


@pytest.mark.parametrize("case", CASES, ids=str)
def test_validate_paths_promotes_a_named_code_to_an_error(tmp_path: Path, case: Case) -> None:
    path = write(tmp_path, case.sequence, case.templates)
    result = validate_paths([path], promote=frozenset({case.code}),
                            templates_root=tmp_path / "templates")
    assert result.warnings == []
    assert result.errors and {p.code for p in result.errors} == {case.code}


def test_an_unknown_code_for_error_is_refused(tmp_path: Path) -> None:
    case = CASES[0]
    path = write(tmp_path, case.sequence, case.templates)
    result = validate(path, "--error", "no-such-lint")
    assert result.exit_code == 2
    assert "no-such-lint" in result.output


# -- touch density thresholds ---------------------------------------------------------

DENSE = next(c for c in CASES if c.code == "touch-density")


@pytest.mark.parametrize(
    ("args", "warned"),
    [
        ((), True),  # 5 touches on days 0..4 > 4 within 7 days
        (("--max-touches", "5"), False),
        (("--per-days", "4"), False),  # at most 4 touches fall within any 4 days
        (("--max-touches", "3", "--per-days", "4"), True),
        (("--max-touches", "1", "--per-days", "1"), False),  # one touch a day
        (("--max-touches", "1", "--per-days", "2"), True),
    ],
)
def test_touch_density_honours_max_touches_and_per_days(
    tmp_path: Path, args: tuple[str, ...], warned: bool
) -> None:
    path = write(tmp_path, DENSE.sequence, DENSE.templates)
    result = validate(path, *args)
    assert result.exit_code == 0, result.output
    assert ("[touch-density]" in result.stdout) is warned, result.output


def test_touch_density_warning_names_the_policy_thresholds(tmp_path: Path) -> None:
    path = write(tmp_path, DENSE.sequence, DENSE.templates)
    [problem] = problems_of(path, LintPolicy(max_touches=3, per_days=5))
    assert problem.code == "touch-density"
    assert "5 touches within 5 days" in problem.message
    assert "allows 3" in problem.message


def test_touch_density_is_an_error_with_error_option_and_custom_thresholds(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, DENSE.sequence, DENSE.templates)
    assert validate(path, "--max-touches", "5", "--error", "touch-density").exit_code == 0
    assert validate(path, "--max-touches", "4", "--error", "touch-density").exit_code == 1


# -- what does not warn ------------------------------------------------------------


def test_a_template_linking_to_unsubscribe_url_needs_no_footer(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.code == "unsubscribe-path")
    path = write(tmp_path, case.sequence, {"plain.j2": WITH_UNSUBSCRIBE})
    assert problems_of(path) == []


def test_the_default_unsubscribe_footer_is_an_unsubscribe_path(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.code == "unsubscribe-path")
    sequence = textwrap.dedent(case.sequence).replace(
        "compliance:\n  unsubscribe_footer: false\n", "")
    path = write(tmp_path, sequence, case.templates)
    assert problems_of(path) == []


def test_a_merge_field_with_a_default_needs_no_fallback_warning(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.code == "merge-fallback")
    path = write(tmp_path, case.sequence, {
        "greet.j2": "Hi {{ prospect.first_name | default('there') }},\n{{ sender.signature }}\n"})
    assert problems_of(path) == []


def test_a_merge_field_without_fallback_in_a_subject_warns_at_the_subject_line(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, """\
        name: subject-fallback
        steps:
          - id: intro
            type: email
            template: plain.j2
            subject: "about {{ prospect.company }}"
        """, {"plain.j2": PLAIN})
    [problem] = problems_of(path)
    assert (problem.code, problem.severity, problem.line) == (
        "merge-fallback", Severity.WARNING, 6)
    assert problem.file == str(path)


def test_a_follow_up_without_its_own_subject_threads_without_warning(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.code == "thread-subject")
    sequence = textwrap.dedent(case.sequence).replace("    subject: a different subject\n", "")
    path = write(tmp_path, sequence, case.templates)
    assert problems_of(path) == []


def test_window_hours_warning_points_at_the_day_whose_window_is_outside_hours(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, """\
        name: weekend-window
        schedule:
          windows:
            mon-fri: ["08:00-10:00"]
            sat: ["09:00-10:00"]
        steps:
          - id: intro
            type: task
        """, {})
    [problem] = problems_of(path)
    assert (problem.code, problem.severity) == ("window-hours", Severity.WARNING)
    assert "sat" in problem.message
    assert problem.line == 5, problem.format()
