"""Mailbox URLs for the IMAP poller, as mailboxes store them.

::

    imap://USER:PASSWORD@host[:143]/FOLDER[?starttls=yes|no]
    imaps://USER@host[:993]/FOLDER?password_env=NAME

    options: starttls     imap:// only; yes (default) upgrades before logging in and
                          fails when the server cannot, so no password crosses in clear
             password_env read the password from this environment variable instead
             mark_seen    yes: flag each message \\Seen once ingested (default no)
             batch        messages per FETCH (default 20): bounds the memory a poll uses
             timeout      seconds for connecting and for each server reply (default 30)

User names and passwords with ``@``, ``:``, ``/`` or ``%`` are percent-encoded. Parsing
opens nothing; every error shows the URL without its password.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import SplitResult, quote, unquote, urlsplit

from sequencer.errors import InputError
from sequencer.urloptions import positive_number, query_options, redacted, yes_no

_DEFAULT_PORTS = {"imap": 143, "imaps": 993}
_COMMON_OPTIONS = {"password_env", "mark_seen", "batch", "timeout"}
_OPTIONS = {"imap": _COMMON_OPTIONS | {"starttls"}, "imaps": _COMMON_OPTIONS}


@dataclass(frozen=True, slots=True)
class MailboxSettings:
    """One mailbox to poll, as a URL names it (see the module docstring)."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    implicit_tls: bool = False
    starttls: bool = True
    mark_seen: bool = False
    batch: int = 20
    timeout: float = 30.0

    @property
    def name(self) -> str:
        """The mailbox for messages and logs: ``imap://user@host:port/FOLDER``."""
        scheme = "imaps" if self.implicit_tls else "imap"
        return f"{scheme}://{quote(self.username, safe='@')}@{self.host}:{self.port}/{self.folder}"


def mailbox_from_url(url: str, *, environ: Mapping[str, str] | None = None) -> MailboxSettings:
    """The mailbox a URL names; ``environ`` (default ``os.environ``) serves ``password_env``.

    Raises:
        InputError: unknown scheme or option, no host or user, a bad port, number or
            yes/no, no password, or a ``password_env`` variable that is not set. The
            message shows the URL without its password.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    where = redacted(parts)
    if scheme not in _OPTIONS:
        raise InputError(f"unsupported mailbox URL {where!r}: expected "
                         "imap://user:password@host:port/FOLDER or imaps://...")
    options = _options(parts, where, scheme)
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise InputError(f"{where!r}: bad port ({exc})") from exc
    if not parts.hostname:
        raise InputError(f"{where!r}: no host")
    if not parts.username:
        raise InputError(f"{where!r}: no user name")
    return MailboxSettings(
        parts.hostname, port, unquote(parts.username),
        _password(parts, where, options, os.environ if environ is None else environ),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        implicit_tls=scheme == "imaps",
        starttls=_boolean(where, "starttls", options.get("starttls", "yes")),
        mark_seen=_boolean(where, "mark_seen", options.get("mark_seen", "no")),
        batch=_count(where, "batch", options.get("batch", "20")),
        timeout=_positive(where, "timeout", options.get("timeout", "30")),
    )


def _password(parts: SplitResult, where: str, options: dict[str, str],
              environ: Mapping[str, str]) -> str:
    variable = options.get("password_env")
    if variable is None:
        if parts.password is None:
            raise InputError(f"{where!r}: no password: put it in the URL or name an "
                             "environment variable with ?password_env=NAME")
        return unquote(parts.password)
    if parts.password is not None:
        raise InputError(f"{where!r}: give the password in the URL or password_env, not both")
    if variable not in environ:
        raise InputError(f"{where!r}: the environment variable {variable} "
                         "(password_env) is not set")
    return environ[variable]


def _options(parts: SplitResult, where: str, scheme: str) -> dict[str, str]:
    return query_options(parts, _OPTIONS[scheme], where=where, scheme=scheme, error=InputError)


def _boolean(where: str, key: str, value: str) -> bool:
    return yes_no(where, key, value, error=InputError)


def _positive(where: str, key: str, value: str) -> float:
    return positive_number(where, key, value, error=InputError)


def _count(where: str, key: str, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise InputError(f"{where!r}: {key} must be a whole number above 0, not {value!r}")
    return int(value)

