"""Registering and listing sender mailboxes."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sequencer.delivery.api_urls import API_SCHEMES, check_api_url
from sequencer.errors import InputError
from sequencer.inbound.imap_url import mailbox_from_url
from sequencer.services.app import App
from sequencer.services.prospects import valid_email
from sequencer.store.models import Enrollment, Mailbox, Task
from sequencer.validation import zone_exists


class _AnyVariable(dict[str, str]):
    """An environment in which every variable is set: for checking a URL's syntax."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return "set-where-the-poller-runs"


TRANSPORT_SCHEMES = ("smtp", "smtps", "file", *sorted(API_SCHEMES))


def check_transport(url: str) -> str:
    """The transport URL, checked: ``smtp://host:port``, ``smtps://...``, ``file:///dir``,
    or an email API (``sendgrid://?key_env=VAR``, ``postmark://?token_env=VAR``).

    An API URL's secret is not read here: the variable it names need only be set
    where the workers run.

    Raises:
        InputError: another scheme, no host / no folder, or a malformed API URL.
    """
    parts = urlsplit(url)
    if parts.scheme not in TRANSPORT_SCHEMES:
        raise InputError(f"transport {url!r}: use smtp://host:port, smtps://host:port, "
                         "file:///folder, sendgrid://?key_env=VAR or "
                         "postmark://?token_env=VAR")
    if parts.scheme in API_SCHEMES:
        try:
            check_api_url(url)
        except ValueError as exc:  # its message never echoes a secret
            raise InputError(f"transport: {exc}") from None
        return url
    if parts.scheme == "file" and not parts.path:
        raise InputError(f"transport {url!r}: a file transport needs a folder, as in "
                         "file:///var/outbox")
    if parts.scheme != "file" and not parts.hostname:
        raise InputError(f"transport {url!r}: no host")
    return url


def add_mailbox(app: App, address: str, *, transport: str, daily_cap: int,
                min_spacing_seconds: int = 0, display_name: str | None = None,
                timezone: str = "UTC", signature: str | None = None,
                inbound_url: str | None = None, owner: str | None = None) -> Mailbox:
    """Register a sender, or update it when the address is known. ``owner`` is the rep
    who sends from it: its manual steps become that rep's tasks.

    Raises:
        InputError: a bad address, transport, cap or time zone.
    """
    if not valid_email(address):
        raise InputError(f"{address!r} is not an email address")
    if daily_cap < 1:
        raise InputError("the daily cap must be at least 1")
    if min_spacing_seconds < 0:
        raise InputError("the minimum spacing cannot be negative")
    if not zone_exists(timezone):
        raise InputError(f"unknown time zone {timezone!r}")
    check_transport(transport)
    if inbound_url is not None:
        mailbox_from_url(inbound_url, environ=_AnyVariable())  # syntax only: the secret
        # may be set only where the poller runs
    with app.sessions.begin() as session:
        mailbox = find_mailbox(session, address)
        if mailbox is None:
            mailbox = Mailbox(address=address.strip(), created_at=app.clock.now(),
                              transport=transport)
            session.add(mailbox)
        mailbox.transport = transport
        mailbox.daily_cap = daily_cap
        mailbox.min_spacing_seconds = min_spacing_seconds
        mailbox.display_name = display_name
        mailbox.timezone = timezone
        mailbox.signature = signature
        if owner is not None and (owner.strip() or None) != mailbox.owner:
            mailbox.owner = owner.strip() or None
            if mailbox.id is not None:  # its open tasks go to the new owner
                session.execute(update(Task).where(
                    Task.state == "open",
                    Task.enrollment_id.in_(select(Enrollment.id).where(
                        Enrollment.mailbox_id == mailbox.id)))
                    .values(assignee=mailbox.owner))
        if inbound_url is not None:
            if inbound_url != mailbox.inbound_url:  # another mailbox: start from its start
                mailbox.inbound_uidvalidity = mailbox.inbound_last_uid = None
            mailbox.inbound_url = inbound_url
        session.flush()
        session.expunge(mailbox)
    return mailbox


def set_mailbox_paused(app: App, address: str, *, paused: bool, reason: str | None) -> None:
    """Pause or resume a sender; raises InputError for an unknown address."""
    with app.sessions.begin() as session:
        mailbox = find_mailbox(session, address)
        if mailbox is None:
            raise InputError(f"no mailbox {address!r} (see 'sequencer mailbox add')")
        mailbox.paused, mailbox.pause_reason = paused, reason if paused else None


def find_mailbox(session: Session, address: str) -> Mailbox | None:
    return session.scalars(select(Mailbox).where(
        Mailbox.address == address.strip())).first()
