"""``sequencer run`` (embedded), ``task``, and hands-on actions on enrollments."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import click
from rich.console import Console
from rich.table import Table

from sequencer.engine import events as ev
from sequencer.errors import InputError
from sequencer.runtime.embedded import serve
from sequencer.runtime.transports import close_all
from sequencer.services.actions import (
    act_on,
    complete_task,
    list_tasks,
    record_meeting,
    record_stage,
)
from sequencer.services.app import App, bootstrap
from sequencer.services.webhooks_out import deliver_webhooks


@click.command("run")
@click.option("--poll", default=5.0, show_default=True, help="Seconds to rest when idle.")
@click.option("--templates", default=Path("templates"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
def run_command(poll: float, templates: Path) -> None:
    """Run the scheduler and the executor in this process (SQLite-friendly, no Redis),
    and deliver outbound webhooks between passes.

    Stops cleanly on Ctrl-C or SIGTERM: the step in hand finishes first.
    """
    app = bootstrap(templates=templates)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        click.echo(f"signal {signum}: finishing the step in hand, then stopping", err=True)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    click.echo(f"sequencer running on {app.settings.database_url} (Ctrl-C stops)", err=True)
    try:
        serve(app, stop, poll_seconds=poll, when_idle=lambda: deliver_webhooks(app))
    finally:
        close_all()
        app.close()


@click.group("task")
def task_group() -> None:
    """A rep's queue of calls, LinkedIn touches, manual emails and tasks."""


@task_group.command("list")
@click.option("--due", is_flag=True, help="Only tasks due now.")
@click.option("--state", default="open", show_default=True,
              type=click.Choice(["open", "done", "skipped"]))
def task_list(due: bool, state: str) -> None:
    """List tasks, oldest due first."""
    app = bootstrap()
    try:
        tasks = list_tasks(app, state=state, due_only=due)
    finally:
        app.close()
    table = Table("id", "due (UTC)", "kind", "prospect", "sequence / step", "instructions")
    for t in tasks:
        table.add_row(str(t.id), f"{t.due_at:%Y-%m-%d %H:%M}", t.kind, t.prospect,
                      f"{t.sequence} / {t.step}", t.instructions or "")
    Console().print(table if tasks else "no tasks")


@task_group.command("done")
@click.argument("task_id", type=int)
@click.option("--outcome", default="done", show_default=True,
              help="call: connected, voicemail, no_answer, wrong_number; others: done.")
@click.option("--notes")
def task_done(task_id: int, outcome: str, notes: str | None) -> None:
    """Complete TASK_ID with its outcome; the enrollment moves on."""
    _finish_task(task_id, outcome, notes)


@task_group.command("skip")
@click.argument("task_id", type=int)
@click.option("--notes")
def task_skip(task_id: int, notes: str | None) -> None:
    """Skip TASK_ID; the enrollment moves on to its next step."""
    _finish_task(task_id, "skipped", notes)


def _finish_task(task_id: int, outcome: str, notes: str | None) -> None:
    app = bootstrap()
    try:
        status = complete_task(app, task_id, outcome, notes)
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        app.close()
    click.echo(f"task {task_id}: {outcome}; enrollment {status}")


def _act(email: str, event: ev.Event, sequence: str | None, kind: str) -> None:
    app = bootstrap()
    try:
        results = act_on(app, email, event, sequence=sequence, kind=kind)
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        app.close()
    for name, status in results:
        click.echo(f"{email} in {name}: {status}")


SEQUENCE_OPTION = click.option("--sequence", help="Only the enrollment in this sequence.")


@click.command("pause")
@click.argument("email")
@SEQUENCE_OPTION
@click.option("--reason", default="paused by hand", show_default=True)
def pause_command(email: str, sequence: str | None, reason: str) -> None:
    """Pause the prospect's enrollments until resumed."""
    _act(email, ev.PauseRequested(reason), sequence, "manual_pause")


@click.command("resume")
@click.argument("email")
@SEQUENCE_OPTION
def resume_command(email: str, sequence: str | None) -> None:
    """Resume the prospect's paused enrollments (the current step goes out in its next window)."""
    _act(email, ev.ResumeRequested(), sequence, "manual_resume")


@click.command("exit")
@click.argument("email")
@SEQUENCE_OPTION
@click.option("--reason", default="exited by hand", show_default=True)
def exit_command(email: str, sequence: str | None, reason: str) -> None:
    """End the prospect's enrollments."""
    _act(email, ev.ExitRequested(reason), sequence, "manual_exit")


@click.command("explain")
@click.argument("email")
@click.option("--json", "as_json", is_flag=True)
def explain_command(email: str, as_json: bool) -> None:
    """Why has the next touch to EMAIL not happened yet? One answer per enrollment."""
    import json

    from sequencer.services.explain import explain

    app = bootstrap()
    try:
        entries = explain(app, email)
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        app.close()
    if as_json:
        click.echo(json.dumps(entries, indent=2))
        return
    for entry in entries:
        click.echo(f"{entry['sequence']} (version {entry['version']}): {entry['status']}, "
                   f"next step {entry['next_step'] or '-'}")
        click.echo(f"  why: {entry['why']}")
        for line in entry["history"]:  # type: ignore[attr-defined]
            click.echo(f"  - {line}")


@click.group("record")
def record_group() -> None:
    """Record what happened outside sequencer (CRM stage, meeting booked)."""


@record_group.command("stage")
@click.argument("email")
@click.argument("stage")
@click.option("--value", type=click.FloatRange(min=0), help="The deal's value, e.g. 12000.")
@click.option("--currency", help="The value's currency (default: the lifecycle's, USD).")
@click.option("--at", "at", help="When it happened (ISO 8601; UTC unless an offset is given).")
def record_stage_command(email: str, stage: str, value: float | None, currency: str | None,
                         at: str | None) -> None:
    """The prospect reached STAGE (a lifecycle stage): exits or branches as each sequence says."""
    with _recording() as app:
        done = record_stage(app, email, stage, at=_instant(at), currency=currency,
                            value=value)
    click.echo(f"{email}: {done.from_stage or '(no stage)'} -> {done.stage}")
    for name, status in done.enrollments:
        click.echo(f"{email} in {name}: {status}")


@record_group.command("meeting")
@click.argument("email")
@click.option("--at", "at", help="When it was booked (ISO 8601; UTC unless an offset is given).")
def record_meeting_command(email: str, at: str | None) -> None:
    """A meeting was booked with the prospect."""
    with _recording() as app:
        done = record_meeting(app, email, at=_instant(at))
    click.echo(f"{email}: meeting booked")
    for name, status in done.enrollments:
        click.echo(f"{email} in {name}: {status}")


@contextmanager
def _recording() -> Iterator[App]:
    app = bootstrap()
    try:
        yield app
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        app.close()


def _instant(text: str | None) -> datetime | None:
    """An ISO 8601 instant from the command line; without an offset it is UTC."""
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time", param_hint="--at") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
