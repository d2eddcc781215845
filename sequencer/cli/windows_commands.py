"""``sequencer windows SEQUENCE``: what a sequence learned about when to send, and why."""

from __future__ import annotations

import json
from typing import Any

import click

from sequencer.errors import InputError
from sequencer.services.app import App, bootstrap
from sequencer.services.learned_report import windows_report


@click.command("windows")
@click.argument("sequence")
@click.option("--format", "output", default="text", show_default=True,
              type=click.Choice(["text", "json"]))
@click.pass_context
def windows_command(ctx: click.Context, sequence: str, output: str) -> None:
    """Per segment of prospects: the sample, the send windows in use (learned, or the
    configured ones and why) and the local hours that earn the most replies."""
    given = ctx.obj if isinstance(ctx.obj, App) else None  # an embedding caller's app
    app = given or bootstrap()
    try:
        data = windows_report(app, sequence)
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if given is None:
            app.close()
    if output == "json":
        click.echo(json.dumps(data, indent=2))
        return
    for line in render(data):
        click.echo(line)


def render(data: dict[str, Any]) -> list[str]:
    """The report as lines of text."""
    settings = data["settings"]
    state = "on" if data["opted_in"] else "off (schedule.learned_windows opts in)"
    lines = [
        f"{data['sequence']} (version {data['version']}): learned windows {state}",
        f"  by {settings['segment']}; {settings['min_sends']} sends before leaving the "
        f"configured windows, {settings['min_slot_sends']} sends for an hour to be ranked, "
        f"{settings['explore']:.0%} of enrollments kept exploring, "
        f"{settings['hours']} hour(s) a business day",
        f"  configured: {_days(data['configured'])}",
    ]
    if not data["segments"]:
        lines.append("  no email of this sequence has been sent yet")
    for segment in data["segments"]:
        lines += _segment_lines(segment)
    return lines


def _segment_lines(segment: dict[str, Any]) -> list[str]:
    rate = segment["replies"] / segment["sends"] if segment["sends"] else 0.0
    verdict = "learned" if segment["learned"] else "configured windows"
    lines = ["", f"{segment['segment']}: {segment['sends']} sends, {segment['replies']} replies "
             f"({rate:.1%}): {verdict}", f"  why: {segment['reason']}"]
    if segment["learned"]:
        lines.append(f"  windows: {_days(segment['windows'])}")
    lines += [f"  {note}" for note in segment["notes"]]
    if segment["top_slots"]:
        lines.append("  best hours (replies/sends, rate, lower bound):")
        lines += [f"    {s['slot']}  {s['replies']}/{s['sends']}  {s['rate']:.1%}  "
                  f"{s['score']:.1%}" for s in segment["top_slots"]]
    return lines


def _days(windows: dict[str, list[str]]) -> str:
    return "; ".join(f"{day} {', '.join(spans)}" for day, spans in windows.items()) or "none"
