"""``sequencer validate`` and ``sequencer schema``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from sequencer.definition import LintPolicy
from sequencer.definition.schema import sequence_schema
from sequencer.errors import InputError
from sequencer.validation import WARNING_CODES, validate_paths


@click.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Treat every warning as an error.")
@click.option("--error", "promote", multiple=True, type=click.Choice(WARNING_CODES),
              help="Treat this warning as an error (repeatable).")
@click.option("--templates", type=click.Path(file_okay=False, path_type=Path),
              help="Templates directory (default: the templates/ folder beside the sequences).")
@click.option("--max-touches", default=4, show_default=True,
              help="Policy: warn above this many touches ...")
@click.option("--per-days", default=7, show_default=True, help="... within this many days.")
def validate_command(paths: tuple[Path, ...], strict: bool, promote: tuple[str, ...],
                     templates: Path | None, max_touches: int, per_days: int) -> None:
    """Check sequence files and their templates; print every problem as FILE:LINE: message."""
    codes = frozenset(promote) | ({"all"} if strict else set())
    try:
        result = validate_paths(list(paths), policy=LintPolicy(max_touches, per_days),
                                promote=codes, templates_root=templates)
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    for problem in result.problems:
        click.echo(problem.format())
    errors, warnings = len(result.errors), len(result.warnings)
    summary = (f"{len(result.files)} sequence file(s) checked: {errors} error(s), "
               f"{warnings} warning(s)")
    if errors:
        click.echo(summary, err=True)
        sys.exit(1)
    click.echo(f"ok: {summary}")


@click.command("schema")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to a file instead of standard output.")
def schema_command(output: Path | None) -> None:
    """Print the JSON Schema of sequence files (for editor validation as you type)."""
    text = json.dumps(sequence_schema(), indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
