"""Every sequence example in docs/sequences.md says what `sequencer validate` really says."""

from __future__ import annotations

import re
import shlex
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from sequencer.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "sequences.md"
BLOCK = re.compile(
    r"^(?P<indent>[ ]*)```yaml\n(?P<yaml>.*?)^[ ]*```[ ]*\n"
    r"(?:\s*^[ ]*```text\n(?P<text>.*?)^[ ]*```)?",
    re.S | re.M,
)


def examples() -> list[tuple[int, str, str | None]]:
    text = DOC.read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        line = text[: match.start()].count("\n") + 1
        shown = textwrap.dedent(match["text"]) if match["text"] else None
        found.append((line, textwrap.dedent(match["yaml"]), shown))
    return found


EXAMPLES = examples()
TEMPLATE_FILE = re.compile(r"^```jinja file=(?P<path>\S+)\n(?P<body>.*?)^```", re.S | re.M)


def write_doc_templates(folder: Path) -> None:
    """The templates the doc shows as ```jinja file=PATH blocks, written where it says."""
    for match in TEMPLATE_FILE.finditer(DOC.read_text(encoding="utf-8")):
        target = folder / match["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(match["body"], "utf-8")


def test_the_reference_has_a_worked_example_for_each_feature() -> None:
    assert len(EXAMPLES) >= 30


@pytest.mark.parametrize("line,yaml_text,shown", EXAMPLES, ids=lambda v: str(v)[:12])
def test_each_example_validates_as_the_doc_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: int, yaml_text: str,
    shown: str | None,
) -> None:
    (tmp_path / "sequences").mkdir()
    (tmp_path / "sequences" / "example.yaml").write_text(yaml_text, "utf-8")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    write_doc_templates(tmp_path)
    monkeypatch.chdir(tmp_path)
    if shown is None:
        result = CliRunner().invoke(cli, ["validate", "sequences/example.yaml"])
        assert result.exit_code == 0, f"docs line {line}: {result.output}"
        return
    command, *expected = [ln for ln in shown.strip().splitlines() if ln.strip()]
    args = shlex.split(command.lstrip("$ "))[1:]
    result = CliRunner().invoke(cli, args)
    assert result.output.strip().splitlines() == expected, f"docs line {line}"
