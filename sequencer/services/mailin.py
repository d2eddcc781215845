"""Polling each sender mailbox over IMAP and taking every new message in.

The poller (``sequencer.inbound.imap``) knows IMAP; this module knows the store: it
reads where each mailbox's poller stopped, hands every new message to ``ingest``
(idempotent, so a message fetched twice after a crash changes nothing the second
time), and writes the new position back after each poll, even a poll that stopped
at a message it could not take (the position then stays just before it).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from sqlalchemy import select

from sequencer.errors import InputError
from sequencer.inbound.imap import ImapPoller, MailboxError, Position
from sequencer.inbound.imap_url import mailbox_from_url
from sequencer.services.app import App
from sequencer.services.inbound import ingest
from sequencer.store.models import Mailbox


@dataclass
class PollReport:
    address: str
    ingested: int = 0
    kinds: dict[str, int] | None = None
    error: str | None = None


def inbound_mailboxes(app: App) -> list[str]:
    with app.sessions() as session:
        return list(session.scalars(select(Mailbox.address).where(
            Mailbox.inbound_url.is_not(None)).order_by(Mailbox.address)))


def poll_mailbox(app: App, address: str, *, ssl_context: ssl.SSLContext | None = None
                 ) -> PollReport:
    """One poll of one mailbox; errors are reported, not raised (the others go on)."""
    with app.sessions() as session:
        box = session.scalars(select(Mailbox).where(Mailbox.address == address)).one()
        url, mailbox_id = box.inbound_url, box.id
        stored = (Position(box.inbound_uidvalidity, box.inbound_last_uid)
                  if box.inbound_uidvalidity is not None and box.inbound_last_uid is not None
                  else None)
    report = PollReport(address, kinds={})
    if not url:
        report.error = "no inbound URL: add one with 'sequencer mailbox add ... --inbound URL'"
        return report
    kinds: dict[str, int] = {}

    def take(raw: bytes) -> None:
        kind = ingest(app, raw, source=f"imap:{address}", mailbox_id=mailbox_id).kind
        kinds[kind] = kinds.get(kind, 0) + 1

    try:
        with ImapPoller(mailbox_from_url(url), ssl_context=ssl_context) as poller:
            result = poller.poll(take, stored)
    except (MailboxError, InputError) as exc:
        report.error = str(exc)
        reached = getattr(exc, "position", None)
        if reached is not None:
            _save(app, mailbox_id, reached)
        return report
    _save(app, mailbox_id, result.position)
    report.ingested, report.kinds = result.ingested, kinds
    if result.error is not None:
        report.error = f"stopped at message {result.failed_uid}: {result.error}"
    return report


def _save(app: App, mailbox_id: int, position: Position) -> None:
    with app.sessions.begin() as session:
        box = session.get(Mailbox, mailbox_id)
        if box is not None:
            box.inbound_uidvalidity, box.inbound_last_uid = position
