"""Commands on the store: ``db upgrade``, ``mailbox``, ``enroll``, ``status``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sequencer.errors import DefinitionError, InputError
from sequencer.runtime.heap import frozen_heap
from sequencer.services.app import bootstrap
from sequencer.services.enroll import count_rows, enroll_csv
from sequencer.services.mailboxes import add_mailbox, set_mailbox_paused
from sequencer.services.status import status
from sequencer.settings import Settings
from sequencer.store.migrate import upgrade


@click.group("db")
def db_group() -> None:
    """The database of SEQUENCER_DATABASE_URL (default: sequencer.db here)."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema."""
    url = Settings.from_env().database_url
    upgrade(url)
    click.echo(f"schema is up to date at {_safe(url)}")


def _safe(url: str) -> str:
    """A URL without its password, for messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}" if ":" in credentials \
        else url


@click.group("mailbox")
def mailbox_group() -> None:
    """Sender mailboxes."""


@mailbox_group.command("add")
@click.argument("address")
@click.option("--transport", required=True,
              help="smtp://[user:pass@]host:port, smtps://host:port[?cafile=PATH], "
              "file:///folder, sendgrid://?key_env=VAR or postmark://?token_env=VAR&stream=S; "
              "add dkim_key=PATH&dkim_selector=S to sign (smtp, file)")
@click.option("--daily-cap", required=True, type=int, help="Emails per day at most.")
@click.option("--min-spacing", default=0, show_default=True,
              help="Seconds between two sends at least.")
@click.option("--name", "display_name", help="Display name on the From line.")
@click.option("--timezone", default="UTC", show_default=True,
              help="The mailbox's zone: its day (and cap) starts at midnight there.")
@click.option("--signature", help="The sender's signature ({{ sender.signature }}).")
@click.option("--inbound", "inbound_url", help="Where its answers are read: "
              "imaps://user@host/INBOX?password_env=VAR (see 'sequencer inbound poll').")
@click.option("--owner", help="The rep who sends from it: its calls and other manual "
              "steps are that rep's tasks (their day in the web app).")
def mailbox_add(address: str, transport: str, daily_cap: int, min_spacing: int,
                display_name: str | None, timezone: str, signature: str | None,
                inbound_url: str | None, owner: str | None) -> None:
    """Register (or update) the sender ADDRESS."""
    app = bootstrap()
    try:
        box = add_mailbox(app, address, transport=transport, daily_cap=daily_cap,
                          min_spacing_seconds=min_spacing, display_name=display_name,
                          timezone=timezone, signature=signature, inbound_url=inbound_url,
                          owner=owner)
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        app.close()
    click.echo(f"mailbox {box.address}: {_safe(box.transport)}, {box.daily_cap}/day")


@mailbox_group.command("pause")
@click.argument("address")
@click.option("--reason", default="paused by hand", show_default=True)
def mailbox_pause(address: str, reason: str) -> None:
    """Stop sending from ADDRESS: its due emails wait (and 'explain' says why)."""
    _set_paused(address, True, reason)


@mailbox_group.command("resume")
@click.argument("address")
def mailbox_resume(address: str) -> None:
    """Send from ADDRESS again (after a pause by hand or for too many blocks)."""
    _set_paused(address, False, None)


def _set_paused(address: str, paused: bool, reason: str | None) -> None:
    app = bootstrap()
    try:
        set_mailbox_paused(app, address, paused=paused, reason=reason)
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        app.close()
    click.echo(f"mailbox {address}: {'paused' if paused else 'sending'}")


@click.command("enroll")
@click.argument("sequence", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("rows", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mailbox", required=True, help="The sender address (see 'mailbox add').")
@click.option("--templates", default=Path("templates"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
def enroll_command(sequence: Path, rows: Path, mailbox: str, templates: Path) -> None:
    """Enroll every prospect of the CSV file ROWS into SEQUENCE."""
    console = Console()
    app = bootstrap(templates=templates)
    total = count_rows(rows)
    try:
        with Progress(TextColumn("enrolling"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=Console(stderr=True)) as bar:
            task = bar.add_task("enroll", total=total)
            with frozen_heap():
                summary = enroll_csv(app, sequence, rows, mailbox=mailbox,
                                     progress=lambda n: bar.advance(task, n))
    except (InputError, DefinitionError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        app.close()
    console.print(f"{summary.sequence} (version {summary.version}): [bold]{summary.enrolled:,}"
                  f"[/bold] enrolled, {len(summary.skipped):,} skipped of {summary.rows:,} rows")
    if summary.skipped:
        table = Table("reason", "rows", "first lines")
        for code, count in summary.reasons().most_common():
            lines = [str(line) for line, c, _ in summary.skipped if c == code][:8]
            table.add_row(code, f"{count:,}", ", ".join(lines))
        console.print(table)
        for line, _, why in summary.skipped[:20]:
            console.print(f"{rows}:{line}: {why}", markup=False)
        if len(summary.skipped) > 20:
            console.print(f"... and {len(summary.skipped) - 20:,} more")


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status_command(as_json: bool) -> None:
    """Counts of enrollments and step runs by state, and mailboxes against their caps."""
    app = bootstrap()
    try:
        figures = status(app)
    finally:
        app.close()
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    console = Console()
    console.print("enrollments: " + (", ".join(f"{k} {v:,}" for k, v in
                                               figures["enrollments"].items()) or "none"))
    console.print("step runs: " + (", ".join(f"{k} {v:,}" for k, v in
                                             figures["step_runs"].items()) or "none"))
    console.print(f"due now: {figures['due_now']:,}")
    for note, count in figures["waiting_because"].items():
        console.print(f"waiting because {note}: {count:,}")
    for box in figures["mailboxes"]:
        flag = " (at cap)" if box["at_cap"] else ""
        console.print(f"{box['address']}: {box['sent_today']}/{box['daily_cap']} today{flag}")
