"""``sequencer demo``: the whole product at work in one command, on a virtual clock.

A fresh SQLite store in ``--out`` (never ``./sequencer.db``), sample prospects in
the example sequences, the embedded scheduler and executor, a file outbox, a
simulated rep, and answers taken in as real MIME through the inbound path; then
the figures and where everything is. The scenario lives in ``sequencer.demo``.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from sequencer.cli.simulate import parse_start
from sequencer.clock import SystemClock
from sequencer.demo import DemoOptions, build_world, run_demo
from sequencer.demo.figures import demo_figures, example_prospect, html_report
from sequencer.demo.view import show_answers, show_figures, show_where, show_world, week_line
from sequencer.errors import InputError
from sequencer.validation import validate_paths


@click.command("demo")
@click.option("--sequences", "folder", default=Path("sequences"), show_default=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--templates", default=Path("templates"), show_default=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--prospects", default=300, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--days", default=28, show_default=True, type=click.IntRange(1, 3650))
@click.option("--out", default=Path("sequencer-demo"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="The demo's folder: its database, outbox and inbox, made fresh each run.")
@click.option("--seed", default=1, show_default=True,
              help="The same seed and start give the same run.")
@click.option("--start", "start_text",
              help="ISO date the virtual clock starts at (default: --days before today, so "
                   "the run ends now and 'sequencer status' reads it as recent).")
def demo_command(folder: Path, templates: Path, prospects: int, days: int, out: Path,
                 seed: int, start_text: str | None) -> None:
    """Run the example sequences on sample prospects for weeks of virtual time, in seconds:
    real store, embedded workers, .eml outbox, a simulated rep, answers through the
    inbound path; then the figures."""
    began = time.perf_counter()  # elapsed time for the closing line, not a date
    console = Console()
    _validate(console, folder)
    options = DemoOptions(out=out, prospects=prospects, days=days, seed=seed, sequences=folder,
                          templates=templates, start=_start(start_text, days))
    try:
        world = build_world(options)
    except InputError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        show_world(console, world)
        with Progress(TextColumn("{task.description}"), BarColumn(),
                      TextColumn("virtual {task.fields[now]}"), console=console,
                      transient=True) as bar:
            task = bar.add_task("running", total=days * 24, now=f"{options.start:%a %b %d}")

            def moved(now: datetime) -> None:
                hours = (now - options.start).total_seconds() / 3600
                bar.update(task, completed=hours, now=f"{now:%a %b %d %H:%M} UTC")

            run = run_demo(world, on_week=lambda week: bar.console.print(week_line(week),
                                                                     soft_wrap=True),
                           on_clock=moved)
        console.print()
        show_answers(console, run.mailroom)
        show_figures(console, demo_figures(world.app))
        show_where(console, world, html=html_report(world.app, out),
                   example=example_prospect(world.app), seconds=time.perf_counter() - began)
    finally:
        world.app.close()


def _start(text: str | None, days: int) -> datetime:
    """The explicit ``--start``, or midnight UTC ``days`` before today: the virtual weeks
    end about now, so the commands run afterwards on the real clock see a recent past."""
    if text is not None:
        return parse_start(text)
    today = SystemClock().now().replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days)


def _validate(console: Console, folder: Path) -> None:
    result = validate_paths([folder])
    for problem in result.problems:
        console.print(problem.format(), markup=False)
    if result.errors:
        raise click.ClickException("fix the errors above first")
    console.print(f"[green]✓[/green] {len(result.files)} sequences valid, "
                  f"{len(result.warnings)} policy warning(s)")
