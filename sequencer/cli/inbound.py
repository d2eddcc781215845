"""``sequencer inbound ...``: inbound mail from the command line.

A click group, so that other inbound commands (polling a mailbox, ingesting raw
MIME) join it with ``inbound_group.add_command``. ``classify`` reads ``.eml`` files
and prints what the engine would make of each (ARCHITECTURE §7).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from sequencer.inbound.classify import classify
from sequencer.inbound.model import Classification

MAX_FILE_BYTES = 64 * 1024 * 1024  # read no more of one file (the classifier uses less)


@click.group("inbound")
def inbound_group() -> None:
    """Inbound mail: classify replies, auto-replies, bounces and unsubscribes."""


@dataclass(frozen=True, slots=True)
class _Verdict:
    file: str  # as given on the command line
    classification: Classification

    def as_json(self) -> dict[str, Any]:
        c = self.classification
        return {
            "file": self.file,
            "kind": c.kind.value,
            "status": c.status,
            "return_date": c.return_date.isoformat() if c.return_date else None,
            "in_reply_to": c.in_reply_to,
            "reason": c.reason,
            "recipient": c.recipient,
            "sequencer_key": c.sequencer_key,
            "delayed": c.delayed,
        }


@inbound_group.command("classify")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON array, one object per file, instead of a table.")
def classify_command(files: tuple[Path, ...], as_json: bool) -> None:
    """Say what each FILE.eml is: reply, auto_reply, hard_bounce, soft_bounce, blocked,
    unsubscribe or unknown, with its status code, return date and the Message-ID it
    answers. A file that cannot be read is reported and makes the exit status 1."""
    verdicts: list[_Verdict] = []
    failed = False
    for path in files:
        try:
            raw = _read(path)
        except OSError as exc:
            click.echo(f"{path}: cannot read: {exc.strerror or exc}", err=True)
            failed = True
            continue
        verdicts.append(_Verdict(str(path), classify(raw)))
    if as_json:
        click.echo(json.dumps([v.as_json() for v in verdicts], indent=2, ensure_ascii=False))
    elif verdicts:
        Console().print(_table(verdicts))
    if failed:
        sys.exit(1)


def _read(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(MAX_FILE_BYTES)


def _table(verdicts: list[_Verdict]) -> Table:
    table = Table(title="Inbound mail", title_justify="left")
    for name in ("file", "kind", "status", "reason", "return date", "in reply to",
                 "recipient"):
        table.add_column(name, overflow="fold")
    for verdict in verdicts:
        c = verdict.classification
        kind = c.kind.value + (" (delayed)" if c.delayed else "")
        table.add_row(verdict.file, kind, c.status or "", c.reason or "",
                      c.return_date.isoformat() if c.return_date else "",
                      c.in_reply_to or "", c.recipient or "")
    return table
