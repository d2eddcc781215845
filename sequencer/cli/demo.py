"""``sequencer demo`` (placeholder until the simulator lands)."""

from __future__ import annotations

import click


@click.command("demo")
def demo_command() -> None:
    """Show sequencer at work on the example sequences."""
    raise click.ClickException("not yet")
