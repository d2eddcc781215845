"""``sequencer inbound poll|ingest`` and ``sequencer api``: mail and links coming in."""

from __future__ import annotations

import threading
from pathlib import Path

import click

from sequencer.services.app import bootstrap
from sequencer.services.inbound import ingest
from sequencer.services.mailin import inbound_mailboxes, poll_mailbox


@click.command("poll")
@click.option("--mailbox", "addresses", multiple=True,
              help="Only this sender (repeatable); default: every mailbox with --inbound.")
@click.option("--every", type=float, default=None,
              help="Keep polling, waiting this many seconds between rounds (Ctrl-C stops).")
def poll_command(addresses: tuple[str, ...], every: float | None) -> None:
    """Read new mail from each mailbox over IMAP and act on every answer."""
    app = bootstrap()
    stop = threading.Event()
    try:
        wanted = list(addresses) or inbound_mailboxes(app)
        if not wanted:
            raise click.ClickException("no mailbox has an inbound URL: add one with "
                                       "'sequencer mailbox add ADDRESS ... --inbound URL'")
        while True:
            for address in wanted:
                report = poll_mailbox(app, address)
                kinds = ", ".join(f"{n} {k}" for k, n in sorted((report.kinds or {}).items()))
                click.echo(f"{address}: {report.ingested} new" + (f" ({kinds})" if kinds else ""))
                if report.error:
                    click.echo(f"{address}: {report.error}", err=True)
            if every is None or stop.wait(every):
                break
    except KeyboardInterrupt:
        stop.set()
    finally:
        app.close()


@click.command("ingest")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
def ingest_command(files: tuple[Path, ...]) -> None:
    """Take in raw messages (.eml files) as if they had arrived: classify, match, act."""
    app = bootstrap()
    try:
        for path in files:
            taken = ingest(app, path.read_bytes(), source=f"file:{path.name}")
            if taken.duplicate:
                click.echo(f"{path}: {taken.kind}, already taken in: nothing changed")
                continue
            changed = ", ".join(f"enrollment {i} {s}" for i, s in taken.enrollments)
            click.echo(f"{path}: {taken.kind}"
                       + (f" answering {taken.matched}" if taken.matched else "")
                       + (f"; suppressed {taken.suppressed}" if taken.suppressed else "")
                       + (f"; {changed}" if changed else ""))
    finally:
        app.close()


@click.command("api")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Server processes (one per core is a good start).")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="Log one line per request.")
def api_command(host: str, port: int, workers: int, access_log: bool) -> None:
    """Serve HTTP: the /v1 API (docs at /docs), the web app at /app, unsubscribe and
    tracking links, raw MIME in, provider and CRM webhooks."""
    import uvicorn

    uvicorn.run("sequencer.api.asgi:from_env", factory=True, host=host, port=port,
                workers=workers, access_log=access_log, log_level="info")
