"""``sequencer ab SEQUENCE`` (the verdicts) and ``sequencer ab declare`` (a winner).

Register with ``cli.add_command(ab_group)``. ``ab`` is a group whose default
command is ``show``: ``sequencer ab cold-outbound --step intro`` runs
``sequencer ab show cold-outbound --step intro``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from sequencer.errors import DefinitionError, InputError
from sequencer.reporting.abtest import MIN_DIFFERENCE, ab_verdicts
from sequencer.services.app import App, bootstrap
from sequencer.services.variants import declare_winner
from sequencer.validation import load_definition


class _ShowByDefault(click.Group):
    """A group whose first argument, when it names no sub-command, is ``show``'s."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["show", *args]
        return super().parse_args(ctx, args)


@click.group("ab", cls=_ShowByDefault, context_settings={"help_option_names": ["-h", "--help"]})
def ab_group() -> None:
    """A/B tests: is a variant really better? (``sequencer ab SEQUENCE``), and declaring
    the winner (``sequencer ab declare SEQUENCE STEP VARIANT``)."""


@ab_group.command("show")
@click.argument("sequence")
@click.option("--step", help="Only this step (default: every step with variants).")
@click.option("--version", "version", help="Only enrollments pinned to this version "
              "(its hash or first characters; default: every version).")
@click.option("--min-difference", type=float, default=MIN_DIFFERENCE * 100, show_default=True,
              help="The smallest difference worth detecting, in percentage points.")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def show_command(sequence: str, step: str | None, version: str | None, min_difference: float,
                 output: str) -> None:
    """The verdict on each step with variants of SEQUENCE (a name or a sequence file)."""
    if not 0 < min_difference < 100:
        raise click.BadParameter("between 0 and 100 points", param_hint="--min-difference")
    app = bootstrap()
    try:
        verdicts = ab_verdicts(app, _name(app, sequence), step=step, version=version,
                               min_difference=min_difference / 100)
    except (InputError, DefinitionError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        app.close()
    if output == "json":
        click.echo(json.dumps(verdicts, indent=2))
    else:
        click.echo(render_table(verdicts))


@ab_group.command("declare")
@click.argument("sequence")
@click.argument("step")
@click.argument("variant")
def declare_command(sequence: str, step: str, variant: str) -> None:
    """Give every new enrollment in STEP of SEQUENCE (a name or a file) the VARIANT.

    The sequence file is changed (weights: VARIANT 100, the others 0) and published
    as a new version; running enrollments keep their version and their variant.
    """
    app = bootstrap()
    try:
        done = declare_winner(app, sequence, step, variant)
    except (InputError, DefinitionError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        app.close()
    if not done.changed:
        click.echo(f"{done.sequence}: {variant} already gets every new enrollment in {step}; "
                   f"nothing changed (version {done.to_version[:10]})")
        return
    click.echo(f"{done.sequence}: new enrollments get {variant} in {step} "
               f"(version {done.from_version[:10]} -> {done.to_version[:10]}); running "
               f"enrollments keep their version and variant.\n"
               f"{done.path} was changed: commit it so the file and the store agree.")


def _name(app: App, sequence: str) -> str:
    """A sequence file's name (the one it is published under), or the name as given."""
    path = Path(sequence)
    if path.is_file():
        return load_definition(path, templates_root=app.templates).name
    return sequence


def render_table(verdicts: dict[str, Any]) -> str:
    """The verdicts as text: per step, a table of arms, then the verdict in words."""
    scope = (f"version {verdicts['version'][:10]}" if verdicts["version"]
             else f"all versions ({len(verdicts['versions'])})")
    lines = [f"{verdicts['sequence']}, {scope}"]
    if not verdicts["steps"]:
        lines.append("no step with variants")
    for step in verdicts["steps"]:
        lines += ["", f"step {step['step']}", *_arms_table(step), f"verdict: {step['verdict']}"]
        if step["declared"]:
            declared = step["declared"]
            lines.append(f"winner declared: {declared['variant']} on {declared['at'][:10]} "
                         f"(version {str(declared['version'])[:10]})")
    return "\n".join(lines)


def _arms_table(step: dict[str, Any]) -> list[str]:
    best = {m["metric"]: m["probability_best"] for m in step["metrics"]}
    needed = {m["metric"]: m["needed_per_arm"] for m in step["metrics"]}
    header = ("variant", "weight", "delivered", "replies", "positive replies",
              "P(best) replies / positive")
    rows = [header]
    for arm in step["arms"]:
        chances = " / ".join(_share(best[m][arm["variant"]]) for m in ("replies",
                                                                        "positive_replies"))
        rows.append((arm["variant"], "-" if arm["weight"] is None else str(arm["weight"]),
                     str(arm["delivered"]), _rate(arm["replies"]),
                     _rate(arm["positive_replies"]), chances))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    table = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    table.append(f"needed per arm: {needed['replies']:,} delivered (replies), "
                 f"{needed['positive_replies']:,} (positive replies)")
    return table


def _share(chance: float) -> str:
    return "<1%" if chance < 0.005 else ">99%" if chance > 0.995 else f"{chance * 100:.0f}%"


def _rate(rate: dict[str, Any]) -> str:
    return (f"{rate['count']} {rate['rate'] * 100:.1f}% "
            f"({rate['low'] * 100:.1f}-{rate['high'] * 100:.1f}%)")
