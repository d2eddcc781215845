"""``sequencer webhook add|list|remove|deliveries|deliver``: telling a CRM what happened.

Register the group with ``cli.add_command(webhook_group)``. Thin: every command calls
``sequencer.services.webhooks_out``.
"""

from __future__ import annotations

import os
import threading

import click

from sequencer.errors import InputError
from sequencer.services.app import bootstrap
from sequencer.services.crm_facts import KINDS
from sequencer.services.webhooks_out import (
    add_endpoint,
    deliver_due,
    fan_out,
    list_deliveries,
    list_endpoints,
    remove_endpoint,
)


@click.group("webhook")
def webhook_group() -> None:
    """Outbound webhooks: tell a CRM about replies, bounces, meetings, tasks and exits."""


@webhook_group.command("add")
@click.argument("url")
@click.option("--events", required=True,
              help=f"Comma-separated kinds to send: {','.join(KINDS)}.")
@click.option("--secret-env", metavar="VAR",
              help="Sign with the secret in this environment variable (default: generate "
                   "one and show it once).")
@click.option("--allow-private", is_flag=True,
              help="Allow loopback, private and link-local destinations (your own network).")
def add_command(url: str, events: str, secret_env: str | None, allow_private: bool) -> None:
    """Send the chosen kinds of event to URL, signed (see docs/webhooks.md)."""
    secret = None
    if secret_env:
        secret = os.environ.get(secret_env)
        if not secret:
            raise click.ClickException(f"${secret_env} is not set")
    app = bootstrap()
    try:
        endpoint, shown = add_endpoint(app, url, events.split(","), secret=secret,
                                       allow_private=allow_private)
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        app.close()
    click.echo(f"webhook {endpoint.id}: {endpoint.url} <- {', '.join(endpoint.events)}")
    if secret is None:
        click.echo(f"signing secret (shown once, give it to the receiver): {shown}")


@webhook_group.command("list")
def list_command() -> None:
    """The active endpoints."""
    app = bootstrap()
    try:
        for e in list_endpoints(app):
            extra = " (private allowed)" if e.allow_private else ""
            click.echo(f"{e.id}\t{e.url}\t{','.join(e.events)}{extra}")
    finally:
        app.close()


@webhook_group.command("remove")
@click.argument("endpoint_id", type=int)
def remove_command(endpoint_id: int) -> None:
    """Stop sending to an endpoint (its past deliveries stay listed)."""
    app = bootstrap()
    try:
        remove_endpoint(app, endpoint_id)
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        app.close()
    click.echo(f"webhook {endpoint_id} removed")


@webhook_group.command("deliveries")
@click.option("--failed", is_flag=True, help="Only those given up on (failed, uncertain).")
@click.option("--limit", type=int, default=50, show_default=True)
def deliveries_command(failed: bool, limit: int) -> None:
    """The latest deliveries: state, attempts, last answer."""
    app = bootstrap()
    try:
        for d in list_deliveries(app, failed_only=failed, limit=limit):
            when = d.delivered_at or d.next_attempt_at
            click.echo(f"{d.id}\t{d.state}\t{d.kind}\t{d.event_key}\tendpoint {d.endpoint_id}"
                       f"\tattempts {d.attempts}\t{when.isoformat() if when else '-'}"
                       + (f"\t{d.last_error}" if d.last_error and d.state != "delivered"
                          else ""))
    finally:
        app.close()


@webhook_group.command("deliver")
@click.option("--every", type=float, default=None,
              help="Keep going, waiting this many seconds between rounds (Ctrl-C stops).")
def deliver_command(every: float | None) -> None:
    """Queue what happened since the last round and send what is due."""
    app = bootstrap()
    stop = threading.Event()
    try:
        while True:
            queued = fan_out(app)
            report = deliver_due(app)
            if queued or report.delivered or report.retrying or report.failed \
                    or report.uncertain or every is None:
                click.echo(f"queued {queued}, delivered {report.delivered}, retrying "
                           f"{report.retrying}, failed {report.failed}, uncertain "
                           f"{report.uncertain}")
            if every is None or stop.wait(every):
                break
    except KeyboardInterrupt:
        stop.set()
    finally:
        app.close()
