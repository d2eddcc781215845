"""``sequencer report`` and ``sequencer record reply``: reply rates, and a rep's mark.

Both are command objects; ``sequencer.cli.main`` registers ``report_command`` and
``sequencer.cli.run_commands`` adds ``record_reply_command`` to its ``record`` group.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console

from sequencer.errors import InputError
from sequencer.reporting import formats
from sequencer.reporting.dimensions import CHOICES
from sequencer.reporting.html import render_html
from sequencer.reporting.marks import mark_reply
from sequencer.reporting.page import page_reports
from sequencer.reporting.report import report
from sequencer.reporting.rules import Rules, load_rules
from sequencer.services.app import App, bootstrap

FORMATS = ("table", "json", "csv", "html")


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        day = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from exc
    return day.replace(tzinfo=UTC) if day.tzinfo is None else day.astimezone(UTC)


@click.command("report")
@click.option("--sequence", help="Only this sequence (by name).")
@click.option("--by", "by", multiple=True, metavar="DIMENSION",
              help=f"Break down by: {', '.join(CHOICES)}. Give it several times for a "
                   "cross breakdown (sequence × step × variant). Default: sequence.")
@click.option("--since", callback=_since, metavar="DATE",
              help="Only emails sent on or after DATE (YYYY-MM-DD, UTC).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
              show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE instead of the terminal.")
@click.option("--rules", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The positive/negative reply phrases (default: "
                   "reporting/positive_rules.yaml if present, else the shipped ones).")
def report_command(sequence: str | None, by: tuple[str, ...], since: datetime | None,
                   fmt: str, output: Path | None, rules: Path | None) -> None:
    """Reply rates with their counts and 95% intervals (definitions: docs/reporting.md).

    The html format is a whole page for readers who never use the command line:
    headline figures, charts by step and variant, a day-and-hour heat map, and your
    breakdown.
    """
    app = bootstrap()
    try:
        text = _render(app, fmt, by or ("sequence",), sequence, since, load_rules(rules))
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        app.close()
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, "utf-8")
    click.echo(f"report written to {output}", err=True)


def _render(app: App, fmt: str, by: tuple[str, ...], sequence: str | None,
            since: datetime | None, rules: Rules) -> str:
    if fmt == "html":
        return render_html(page_reports(app, sequence=sequence, since=since, rules=rules,
                                        by=by))
    result = report(app, by, sequence=sequence, since=since, rules=rules)
    if fmt == "json":
        return formats.to_json(result)
    if fmt == "csv":
        return formats.to_csv(result)
    console = Console(width=200)
    with console.capture() as captured:
        formats.print_table(result, console)
    return captured.get()


@click.command("reply")
@click.argument("email")
@click.argument("verdict", type=click.Choice(["positive", "negative"]))
@click.option("--note", help="Why, for the team (kept with the mark).")
def record_reply_command(email: str, verdict: str, note: str | None) -> None:
    """Mark the prospect's latest reply positive or negative (overrides the phrase rules)."""
    app = bootstrap()
    try:
        marked = mark_reply(app, email, verdict == "positive", note=note)
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        app.close()
    state = "marked" if marked.changed else "already marked"
    excerpt = f': "{marked.reply_text[:60]}"' if marked.reply_text else ""
    click.echo(f"{email}: latest reply {state} {marked.verdict}{excerpt}")
