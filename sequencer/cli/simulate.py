"""``sequencer simulate``: preview a sequence on a virtual clock (ARCHITECTURE §7)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from sequencer.calendars import PUBLIC_HOLIDAYS
from sequencer.cli.simulate_view import show_summary
from sequencer.clock import SystemClock
from sequencer.errors import DefinitionError, InputError
from sequencer.simulate import Behaviour, Mailbox, simulate
from sequencer.simulate.output import write_touches
from sequencer.simulate.prospects import prospects_from_csv, synthetic_prospects
from sequencer.simulate.summary import summarize
from sequencer.validation import load_definition, zone_exists


def parse_start(text: str | None) -> datetime:
    """``--start`` as an aware UTC instant; a date or a naive time is read as UTC."""
    if text is None:
        return SystemClock().now().replace(second=0, microsecond=0)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not an ISO date or time", param_hint="--start"
                                 ) from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def parse_mailboxes(specs: tuple[str, ...], count: int, cap: int | None) -> list[Mailbox]:
    """Mailboxes from ``--mailbox ADDRESS[:CAP]``, else ``--mailboxes N --daily-cap C``."""
    if specs:
        out = []
        for spec in specs:
            address, _, cap_text = spec.partition(":")
            if cap_text and not cap_text.isdigit():
                raise click.BadParameter(f"{spec!r}: the cap after ':' must be a number",
                                         param_hint="--mailbox")
            out.append(Mailbox(address, int(cap_text) if cap_text else cap))
        return out
    return [Mailbox(f"sdr{i + 1}@example.com", cap) for i in range(count)]


@click.command("simulate")
@click.argument("sequence", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--prospects", "prospects_arg", default="1000", show_default=True,
              help="A number of synthetic prospects, or a CSV file (email/id, timezone, country).")
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 3650))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--start", "start_text", help="ISO date/time of enrollment (default: now, UTC).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every touch to this JSON file.")
@click.option("--summary-json", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the summary figures to this JSON file.")
@click.option("--mailboxes", "mailbox_count", default=1, show_default=True,
              type=click.IntRange(1, 10000), help="Number of sending mailboxes.")
@click.option("--daily-cap", type=click.IntRange(1), help="Emails per mailbox per UTC day.")
@click.option("--mailbox", "mailbox_specs", multiple=True,
              help="A mailbox as ADDRESS[:CAP] (repeatable; overrides --mailboxes).")
@click.option("--answers", type=click.Choice(["none", "typical"]), default="none",
              show_default=True, help="Model of prospect answers (typical: 3% replies, "
              "4% out-of-office, 2% bounces, 0.4% unsubscribes).")
@click.option("--reply-rate", type=click.FloatRange(0, 1))
@click.option("--ooo-rate", type=click.FloatRange(0, 1))
@click.option("--bounce-rate", type=click.FloatRange(0, 1))
@click.option("--templates", type=click.Path(file_okay=False, path_type=Path))
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
def simulate_command(sequence: Path, prospects_arg: str, days: int, seed: int,
                     start_text: str | None, json_out: Path | None, summary_json: Path | None,
                     mailbox_count: int, daily_cap: int | None, mailbox_specs: tuple[str, ...],
                     answers: str, reply_rate: float | None, ooo_rate: float | None,
                     bounce_rate: float | None, templates: Path | None, quiet: bool) -> None:
    """Run SEQUENCE with the real engine and timing on a virtual clock.

    Prints touches per step and week, exits, slips behind the nominal day, the share
    of sends outside 08:00-18:00 local, and, with daily caps, the mailbox capacity.
    """
    try:
        definition = load_definition(sequence, templates_root=templates)
    except DefinitionError as exc:
        raise click.ClickException(f"{sequence} is not valid:\n{exc}") from exc
    start = parse_start(start_text)
    prospects = _prospects(prospects_arg, seed, definition.schedule.default_timezone)
    behaviour = Behaviour.typical() if answers == "typical" else Behaviour()
    behaviour = Behaviour(
        reply=behaviour.reply if reply_rate is None else reply_rate,
        auto_reply=behaviour.auto_reply if ooo_rate is None else ooo_rate,
        bounce=behaviour.bounce if bounce_rate is None else bounce_rate,
        unsubscribe=behaviour.unsubscribe,
    )
    mailboxes = parse_mailboxes(mailbox_specs, mailbox_count, daily_cap)
    console = Console(stderr=False, quiet=quiet)
    with Progress(TextColumn("simulating"), BarColumn(), TaskProgressColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True, quiet=quiet),
                  transient=True) as bar:
        task = bar.add_task("sim", total=1.0)
        result = simulate(definition, prospects, start_at=start, days=days, seed=seed,
                          mailboxes=mailboxes, behaviour=behaviour, calendar=PUBLIC_HOLIDAYS,
                          progress=lambda done: bar.update(task, completed=done))
    summary = summarize(result)
    zones = len({p.timezone for p in prospects})
    show_summary(console, summary, title=(
        f"{definition.name} (version {definition.version}): {len(prospects):,} prospects in "
        f"{zones} time zones, {days} days from {start:%Y-%m-%d %H:%M} UTC, seed {seed}"))
    if json_out is not None:
        count = write_touches(result, json_out)
        console.print(f"Wrote {count:,} touches to {json_out}")
    if summary_json is not None:
        summary_json.write_text(json.dumps(summary.as_json(), indent=2) + "\n", "utf-8")
        console.print(f"Wrote the summary to {summary_json}")


def _prospects(arg: str, seed: int, default_zone: str) -> list:  # type: ignore[type-arg]
    if arg.isdigit():
        if int(arg) < 1:
            raise click.BadParameter("needs at least one prospect", param_hint="--prospects")
        return synthetic_prospects(int(arg), seed)
    path = Path(arg)
    if not path.is_file():
        raise click.BadParameter(f"{arg!r} is neither a number nor a CSV file",
                                 param_hint="--prospects")
    try:
        found = prospects_from_csv(path, default_zone=default_zone, zone_exists=zone_exists)
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    if not found:
        raise click.ClickException(f"{path}: no prospect rows")
    return found
