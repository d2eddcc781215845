"""``sequencer simulate`` (placeholder until the simulator lands)."""

from __future__ import annotations

import click


@click.command("simulate")
def simulate_command() -> None:
    """Run the real engine and timing on a virtual clock."""
    raise click.ClickException("not yet")
