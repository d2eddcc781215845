"""``sequencer demo``: the example sequences at work, on a virtual clock, with no servers.

At this stage the demo runs the real engine and timing through the simulator;
the durable store, workers and mail paths plug in behind the same command later.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console

from sequencer.calendars import PUBLIC_HOLIDAYS
from sequencer.cli.simulate_view import show_summary
from sequencer.errors import DefinitionError
from sequencer.simulate import Behaviour, Mailbox, simulate
from sequencer.simulate.output import write_touches
from sequencer.simulate.prospects import synthetic_prospects
from sequencer.simulate.summary import summarize
from sequencer.validation import expand, validate_paths

DEMO_START = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday: the demo is the same on every run


@click.command("demo")
@click.option("--sequences", "folder", default=Path("sequences"), show_default=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--prospects", default=300, show_default=True, type=click.IntRange(1))
@click.option("--days", default=120, show_default=True, type=click.IntRange(1, 3650))
@click.option("--out", default=Path("sequencer-demo"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=1, show_default=True)
def demo_command(folder: Path, prospects: int, days: int, out: Path, seed: int) -> None:
    """Validate the example sequences, then run each on a virtual clock with simulated answers."""
    console = Console()
    result = validate_paths([folder])
    for problem in result.problems:
        console.print(problem.format(), markup=False)
    if result.errors:
        raise click.ClickException("fix the errors above first")
    console.print(f"[green]✓[/green] {len(result.files)} sequences valid, "
                  f"{len(result.warnings)} policy warning(s)\n")
    out.mkdir(parents=True, exist_ok=True)
    people = synthetic_prospects(prospects, seed)
    mailboxes = [Mailbox("ana@example.com", 200), Mailbox("ben@example.com", 200)]
    for path in expand([folder]):
        definition = result.definitions.get(path)
        if definition is None:
            raise click.ClickException(str(DefinitionError([])))
        run = simulate(definition, people, start_at=DEMO_START, days=days, seed=seed,
                       mailboxes=mailboxes, behaviour=Behaviour.typical(),
                       calendar=PUBLIC_HOLIDAYS)
        summary = summarize(run)
        show_summary(console, summary, title=f"▶ {definition.name}: {prospects} prospects, "
                     f"{days} days from {DEMO_START:%Y-%m-%d}")
        target = out / f"{definition.name}.touches.json"
        write_touches(run, target)
        (out / f"{definition.name}.summary.json").write_text(
            json.dumps(summary.as_json(), indent=2) + "\n", "utf-8")
        console.print()
    console.print(f"Every touch and summary is in [bold]{out}/[/bold]. Preview your own "
                  "sequence with: sequencer simulate sequences/<file>.yaml --prospects 1000 "
                  "--days 60 --answers typical")
