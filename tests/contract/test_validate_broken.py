"""The contract of ``sequencer validate`` on broken sequence files.

Every file in ``tests/fixtures/broken/`` holds one problem (a few hold two or
more) and names, in its opening comment lines, where the problem must be reported::

    # expect: LINE: substring of the message
    # expect: template.j2:LINE: substring     (a problem inside a template file)

LINE is a line of the fixture itself (or of the named template under
``tests/fixtures/templates/``). Each expectation must come out as an ERROR at
exactly that line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from sequencer.cli.main import cli
from sequencer.errors import Problem, Severity
from sequencer.validation import check_file, validate_paths

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
BROKEN = FIXTURES / "broken"
TEMPLATES = FIXTURES / "templates"
SEQUENCES = ROOT / "sequences"

EXPECT = re.compile(r"^# expect: (?:(?P<file>[^:\s]+\.j2):)?(?P<line>\d+): (?P<text>\S.*)$")
OUTPUT_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<message>\S.*)$")


@dataclass(frozen=True)
class Expected:
    file: str | None  # a template file name, or None for the fixture itself
    line: int
    text: str

    def __str__(self) -> str:
        where = f"{self.file}:" if self.file else ""
        return f"{where}{self.line}: {self.text}"


def expectations(path: Path) -> list[Expected]:
    out: list[Expected] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.startswith("# expect"):
            continue
        match = EXPECT.match(raw)
        assert match is not None, f"{path.name}: malformed expectation {raw!r}"
        out.append(Expected(match["file"], int(match["line"]), match["text"]))
    return out


def broken_files() -> list[Path]:
    return sorted(BROKEN.glob("*.yaml"))


def matches(problem: Problem, path: Path, expected: Expected) -> bool:
    if expected.file is None:
        same_file = problem.file == str(path)
    else:
        same_file = Path(problem.file).name == expected.file
    return (same_file and problem.line == expected.line
            and expected.text in problem.message and problem.severity is Severity.ERROR)


def describe(problems: list[Problem]) -> str:
    return "\n".join(f"  {p.format()}" for p in problems) or "  (nothing)"


def check(path: Path) -> list[Problem]:
    _, problems = check_file(path, templates_root=TEMPLATES)
    return problems


BROKEN_FILES = broken_files()
IDS = [p.stem for p in BROKEN_FILES]


def test_the_broken_folder_holds_at_least_thirty_fixtures_each_with_an_expectation() -> None:
    assert len(BROKEN_FILES) >= 30
    for path in BROKEN_FILES:
        assert expectations(path), f"{path.name} has no '# expect:' line"


@pytest.mark.parametrize("path", BROKEN_FILES, ids=IDS)
def test_each_expected_problem_is_reported_as_an_error_at_its_exact_line(path: Path) -> None:
    problems = check(path)
    missing = [e for e in expectations(path) if not any(matches(p, path, e) for p in problems)]
    assert not missing, (
        f"{path.name}: expected but not reported:\n"
        + "\n".join(f"  {e}" for e in missing)
        + f"\nreported:\n{describe(problems)}"
    )


@pytest.mark.parametrize("path", BROKEN_FILES, ids=IDS)
def test_every_problem_is_reported_on_a_line_that_exists(path: Path) -> None:
    problems = check(path)
    assert problems, f"{path.name}: nothing reported"
    for problem in problems:
        assert problem.line > 0, problem.format()
        shown = Path(problem.file)
        source = shown if shown.is_absolute() or shown.exists() else ROOT / shown
        if source.is_file():
            count = max(1, len(source.read_text(encoding="utf-8").splitlines()))
            assert problem.line <= count, (
                f"{problem.format()}\n(the file has only {count} line(s))")


@pytest.mark.parametrize("path", BROKEN_FILES, ids=IDS)
def test_no_error_is_reported_beyond_those_the_fixture_expects(path: Path) -> None:
    expected = expectations(path)
    unexpected = [p for p in check(path) if p.severity is Severity.ERROR
                  and not any(matches(p, path, e) for e in expected)]
    assert not unexpected, f"{path.name}: unexpected error(s):\n{describe(unexpected)}"


def test_a_broken_file_yields_no_usable_definition() -> None:
    definition, problems = check_file(BROKEN / "goto_missing_step.yaml", templates_root=TEMPLATES)
    assert definition is None
    assert any(p.severity is Severity.ERROR for p in problems)


def test_validate_paths_reads_every_sequence_file_of_a_folder() -> None:
    result = validate_paths([BROKEN], templates_root=TEMPLATES)
    assert sorted(result.files) == BROKEN_FILES
    for path in BROKEN_FILES:
        assert any(p.file == str(path) or f"{path}:" in p.message for p in result.errors), path


# -- what is not a problem ---------------------------------------------------------


def test_the_loop_variable_of_a_for_loop_in_a_template_is_not_an_unknown_variable(
    tmp_path: Path,
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "list.j2").write_text(
        "Hi {{ prospect.first_name | default('there') }},\n"
        "{% for line in ['one', 'two'] %}{{ loop.index }}. {{ line }}\n{% endfor %}\n"
        "{{ sender.signature }}\n", encoding="utf-8")
    sequence = tmp_path / "seq.yaml"
    sequence.write_text("name: loops\nsteps:\n  - id: intro\n    type: email\n"
                        "    template: list.j2\n    subject: hello\n", encoding="utf-8")
    _, problems = check_file(sequence, templates_root=templates)
    assert [p for p in problems if p.severity is Severity.ERROR] == [], describe(problems)


# -- through the command line ------------------------------------------------------


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["validate", *args])


def test_validate_on_the_broken_folder_exits_1_and_prints_file_line_message_lines() -> None:
    result = invoke(str(BROKEN), "--templates", str(TEMPLATES))
    assert isinstance(result.exception, SystemExit), (
        f"validate crashed: {result.exception!r}\n{result.output}")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines
    for line in lines:
        assert OUTPUT_LINE.match(line), f"not FILE:LINE: message: {line!r}"
    for path in BROKEN_FILES:
        # A template's own problem is located in the template and names the sequence line
        # that uses it: either way, every broken sequence shows up in the output.
        assert any(str(path) in line for line in lines), f"{path.name} is missing from the output"
    assert "error(s)" in result.stderr
    assert not any(line.startswith("ok:") for line in result.output.splitlines())


@pytest.mark.parametrize("path", BROKEN_FILES, ids=IDS)
def test_validate_prints_each_expected_problem_of_a_fixture_as_file_line_message(
    path: Path,
) -> None:
    result = invoke(str(path), "--templates", str(TEMPLATES))
    assert isinstance(result.exception, SystemExit), (
        f"validate crashed: {result.exception!r}\n{result.output}")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    for expected in expectations(path):
        prefix = (f"{path}:{expected.line}: " if expected.file is None
                  else f"{TEMPLATES / expected.file}:{expected.line}: ")
        assert any(line.startswith(prefix) and expected.text in line
                   and not line.startswith(f"{prefix}warning:") for line in lines), (
            f"no line {prefix}...{expected.text}... in:\n{result.stdout}")


def test_validate_on_the_shipped_sequences_exits_0_with_a_one_line_ok_summary() -> None:
    result = invoke(str(SEQUENCES))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    summaries = [line for line in lines if line.startswith("ok: ")]
    assert summaries == [lines[-1]], result.output
    assert "0 error(s)" in summaries[0]
    # anything else printed is a policy warning, never an error
    for line in lines[:-1]:
        match = OUTPUT_LINE.match(line)
        assert match is not None and match["message"].startswith("warning: "), line


def test_a_file_with_several_problems_reports_all_of_them_not_just_the_first() -> None:
    path = BROKEN / "several_problems.yaml"
    expected = expectations(path)
    assert len(expected) >= 4
    result = invoke(str(path), "--templates", str(TEMPLATES))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    for e in expected:
        assert any(line.startswith(f"{path}:{e.line}: ") and e.text in line for line in lines), (
            f"{e} missing from:\n{result.stdout}")
    assert f"{len(expected)} error(s)" in result.stderr


def test_validate_names_a_missing_path_without_a_traceback(tmp_path: Path) -> None:
    result = invoke(str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "no such file or directory" in result.output
