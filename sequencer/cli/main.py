"""The ``sequencer`` command: one click group; each sub-command lives in its own module."""

from __future__ import annotations

import click

from sequencer import __version__
from sequencer.cli.ab_commands import ab_group
from sequencer.cli.demo import demo_command
from sequencer.cli.funnel_commands import funnel_command
from sequencer.cli.inbound import inbound_group
from sequencer.cli.mailin_commands import api_command, ingest_command, poll_command
from sequencer.cli.process_commands import scheduler_command, worker_command
from sequencer.cli.report_commands import record_reply_command, report_command
from sequencer.cli.run_commands import (
    exit_command,
    explain_command,
    pause_command,
    record_group,
    resume_command,
    run_command,
    task_group,
)
from sequencer.cli.simulate import simulate_command
from sequencer.cli.store_commands import (
    db_group,
    enroll_command,
    mailbox_group,
    status_command,
)
from sequencer.cli.token_commands import token_group
from sequencer.cli.validate import schema_command, validate_command
from sequencer.cli.webhook_commands import webhook_group
from sequencer.cli.windows_commands import windows_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sequencer")
def cli() -> None:
    """sequencer: outreach sequences as code, sent exactly once, in each prospect's best hours."""


cli.add_command(validate_command)
cli.add_command(schema_command)
cli.add_command(simulate_command)
cli.add_command(demo_command)
cli.add_command(db_group)
cli.add_command(mailbox_group)
cli.add_command(enroll_command)
cli.add_command(status_command)
cli.add_command(inbound_group)
inbound_group.add_command(poll_command)
inbound_group.add_command(ingest_command)
cli.add_command(api_command)
cli.add_command(funnel_command)
cli.add_command(ab_group)
cli.add_command(windows_command)
cli.add_command(report_command)
cli.add_command(token_group)
cli.add_command(webhook_group)
record_group.add_command(record_reply_command)
for command in (run_command, task_group, pause_command, resume_command, exit_command,
                record_group, scheduler_command, worker_command, explain_command):
    cli.add_command(command)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
