"""``sequencer funnel``: the sales funnel by sequence or by prospect source."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from sequencer.errors import InputError
from sequencer.reporting.funnel import funnel
from sequencer.reporting.funnel_csv import to_csv
from sequencer.services.app import bootstrap

RATES = (("dial_connect", "dial connect"), ("positive_reply", "positive reply"),
         ("meeting_conversion", "meeting conv."), ("sales_acceptance", "sales accept."),
         ("close", "close"))


@click.command("funnel")
@click.option("--by", "by", default="sequence", show_default=True,
              type=click.Choice(["sequence", "source"]))
@click.option("--sequence", help="Only this sequence.")
@click.option("--since", help="Only what happened since (ISO 8601; UTC unless an offset).")
@click.option("--format", "output", default="table", show_default=True,
              type=click.Choice(["table", "json", "csv"]))
def funnel_command(by: str, sequence: str | None, since: str | None, output: str) -> None:
    """Dial connect, positive reply, meeting conversion, sales acceptance and close rates,
    stage velocity and the qualified pipeline, per group and in total (definitions:
    docs/funnel.md)."""
    app = bootstrap()
    try:
        data = funnel(app, sequence=sequence, by="source" if by == "source" else "sequence",
                      since=_since(since))
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        app.close()
    if output == "json":
        click.echo(json.dumps(data, indent=2))
        return
    if output == "csv":
        click.echo(to_csv(data), nl=False)
        return
    console = Console(width=160)
    console.print(_rates_table(data))
    console.print(_velocity_table(data))


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time", param_hint="--since"
                                 ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _rates_table(data: dict[str, Any]) -> Table:
    table = Table(data["by"], *(label for _, label in RATES), "qualified pipeline",
                  title="Funnel (numerator/denominator, rate, 95% interval; * small base)")
    for group in [*data["groups"], data["total"]]:
        table.add_row(group["group"], *(_cell(group["rates"][key]) for key, _ in RATES),
                      _pipeline(group["pipeline"]))
    return table


def _cell(rate: dict[str, Any]) -> str:
    if rate["rate"] is None:
        return "0/0 -"
    star = "*" if rate["too_small"] else ""
    low, high = rate["ci95"]
    return (f"{rate['numerator']}/{rate['denominator']} {rate['rate']:.0%}{star}\n"
            f"[{low:.0%}-{high:.0%}]")


def _pipeline(pipeline: dict[str, Any]) -> str:
    values = ", ".join(f"{amount:,.0f} {currency}" for currency, amount
                       in pipeline["value"].items())
    return f"{pipeline['count']} ({values or 'no value given'})"


def _velocity_table(data: dict[str, Any]) -> Table:
    """A row per stage, a column per group and the total: median days in the stage
    (stays measured; prospects in it now)."""
    groups = [*data["groups"], data["total"]]
    table = Table("stage", *(g["group"] for g in groups),
                  title="Stage velocity: median days in the stage (stays measured; in it now)")
    for index, row in enumerate(data["total"]["velocity"]):
        table.add_row(row["stage"], *(_stay(g["velocity"][index]) for g in groups))
    return table


def _stay(row: dict[str, Any]) -> str:
    median = "-" if row["median_days"] is None else f"{row['median_days']:.1f}"
    return f"{median} ({row['stays']}; {row['current']} now)"
