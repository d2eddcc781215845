"""``sequencer funnel``: the sales funnel by sequence or by prospect source."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from sequencer.errors import InputError
from sequencer.reporting.funnel import funnel
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


CSV_COLUMNS = ("section", "group", "name", "numerator", "denominator", "rate", "ci95_low",
               "ci95_high", "too_small", "count", "value", "currency", "median_days", "stays",
               "current")


def to_csv(data: dict[str, Any]) -> str:
    """The funnel as long-format CSV: one row per group and rate, funnel step, pipeline
    figure (one value row per currency) and stage, the total's rows under ``all``."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for group in [*data["groups"], data["total"]]:
        name = group["group"]
        for key, rate in group["rates"].items():
            low, high = rate["ci95"]
            writer.writerow({"section": "rate", "group": name, "name": key,
                             "numerator": rate["numerator"], "denominator": rate["denominator"],
                             "rate": rate["rate"], "ci95_low": low, "ci95_high": high,
                             "too_small": rate["too_small"]})
        for step in group["steps"]:
            writer.writerow({"section": "step", "group": name, "name": step["name"],
                             "count": step["count"]})
        pipeline = group["pipeline"]
        writer.writerow({"section": "pipeline", "group": name, "name": "open deals",
                         "count": pipeline["count"]})
        writer.writerow({"section": "pipeline", "group": name, "name": "with a value",
                         "count": pipeline["valued"]})
        for currency, amount in pipeline["value"].items():
            writer.writerow({"section": "pipeline", "group": name, "name": "value",
                             "value": amount, "currency": currency})
        for row in group["velocity"]:
            writer.writerow({"section": "velocity", "group": name, "name": row["stage"],
                             "median_days": row["median_days"], "stays": row["stays"],
                             "current": row["current"]})
    return out.getvalue()
