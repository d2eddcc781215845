"""Reading one mailbox over IMAP: each new message handed to ``ingest``, in UID order.

A mailbox is named by a URL (``sequencer.inbound.imap_url``), e.g.
``imaps://user@host/INBOX?password_env=NAME&mark_seen=yes``.

The poller keeps no state of its own between runs: the caller stores the ``Position``
``(uidvalidity, last_uid)`` it returns and passes it back. A poll fetches the messages
with a UID above ``last_uid`` (every message again when the folder's UIDVALIDITY
changed) with ``BODY.PEEK[]``, so reading marks nothing seen, and moves the position
past a message only once ``ingest`` returned: a crash or an exception in ``ingest``
means the message is fetched again next time (ingestion is idempotent). It never
deletes or moves mail. Imports nothing from the store, runtime or services.

::

    SequencerError
     └── MailboxError                names the mailbox (scheme://user@host:port/folder),
          │                          never the password
          ├── MailboxLoginError      the server refused the credentials
          ├── MailboxFolderError     the folder cannot be opened (missing, no rights)
          └── MailboxConnectionError connecting or TLS failed, or the connection dropped
                                     and did not come back: try again next round
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from imapclient import SEEN, IMAPClient
from imapclient.exceptions import (
    CapabilityError,
    IMAPClientAbortError,
    IMAPClientError,
    LoginError,
)

from sequencer.errors import SequencerError
from sequencer.inbound.imap_url import MailboxSettings, mailbox_from_url

__all__ = [
    "ImapPoller", "Ingest", "MailboxConnectionError", "MailboxError", "MailboxFolderError",
    "MailboxLoginError", "MailboxSettings", "PollResult", "Position", "mailbox_from_url",
    "poll_forever",
]

log = logging.getLogger(__name__)

Ingest = Callable[[bytes], None]

_DROPPED = (IMAPClientAbortError, OSError)  # the connection is gone (OSError: TLS, timeouts)


class MailboxError(SequencerError):
    """An IMAP mailbox could not be read; the message names it without the password."""


class MailboxLoginError(MailboxError):
    """The server refused the user name or password."""


class MailboxFolderError(MailboxError):
    """The folder cannot be opened: it does not exist or the user may not read it."""


class MailboxConnectionError(MailboxError):
    """Connecting failed, or the connection dropped and reconnecting did not help.

    ``position`` is how far this poll got before it gave up (None: nowhere new), so a
    caller may store it and not fetch again what was already ingested.
    """

    def __init__(self, message: str, position: Position | None = None) -> None:
        super().__init__(message)
        self.position = position


class Position(NamedTuple):
    """Where a mailbox has been read up to: every UID up to ``last_uid`` was ingested."""

    uidvalidity: int
    last_uid: int


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll did. ``failed_uid`` is the message ``ingest`` raised ``error`` for;
    the poll stopped there and ``position`` stays before it, so it is retried next time.
    """

    position: Position
    ingested: int = 0
    failed_uid: int | None = None
    error: Exception | None = None


class ImapPoller:
    """Polls one mailbox; keeps its connection open between polls and reopens it when lost.

    One poller serves one thread at a time. ``reconnects`` is how many times one poll
    reconnects after the connection dropped before it gives up with
    ``MailboxConnectionError``. ``ssl_context`` sets the certificate policy for imaps://
    and STARTTLS (the system's default verification when None).
    """

    def __init__(self, settings: MailboxSettings, *, ssl_context: ssl.SSLContext | None = None,
                 reconnects: int = 2) -> None:
        self.settings = settings
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._reconnects = reconnects
        self._client: Any = None  # imapclient is untyped

    def __repr__(self) -> str:  # never shows the password
        return f"ImapPoller({self.settings.name})"

    def __enter__(self) -> ImapPoller:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Log out and close the connection, if one is open; never raises."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # the connection may already be gone: nothing left to do
            with contextlib.suppress(OSError):
                client.shutdown()

    def poll(self, ingest: Ingest, position: Position | None = None) -> PollResult:
        """Hand every message past ``position`` to ``ingest``, oldest UID first.

        Parameters:
            ingest: takes the raw message exactly as stored; returns once it is safely
                recorded. If it raises, the poll stops and reports that message.
            position: what the last poll returned (any ``(uidvalidity, last_uid)`` pair);
                None reads the whole folder.

        Raises:
            MailboxLoginError, MailboxFolderError: the mailbox needs an operator.
            MailboxConnectionError: the server could not be reached, or dropped the
                connection more than ``reconnects`` times (with how far the poll got).
            MailboxError: the server refused a command.

        Returns:
            The new position, how many messages were ingested, and any ingest failure.
        """
        progress = _Progress(Position(*position) if position is not None else None)
        dropped = 0
        while True:
            try:
                return self._poll_connected(ingest, progress)
            except MailboxConnectionError as exc:
                exc.position = exc.position or progress.position  # keep what was ingested
                raise
            except _DROPPED as exc:
                self._drop()
                dropped += 1
                if dropped > self._reconnects:
                    raise MailboxConnectionError(
                        self._scrub(f"{self.settings.name}: the connection dropped {dropped} "
                                    f"times ({exc})"), progress.position) from exc
                log.warning("%s: connection lost (%s); reconnecting", self.settings.name,
                            self._scrub(str(exc)))
            except IMAPClientError as exc:
                raise MailboxError(self._scrub(f"{self.settings.name}: the server refused "
                                               f"a command: {exc}")) from exc

    def _poll_connected(self, ingest: Ingest, progress: _Progress) -> PollResult:
        client = self._connected()
        uidvalidity = self._select(client)
        if progress.position is None or progress.position.uidvalidity != uidvalidity:
            progress.position = Position(uidvalidity, 0)  # a new folder: read it all
        uids = sorted(uid for uid in client.search(["UID", f"{progress.last_uid + 1}:*"])
                      if uid > progress.last_uid)  # "n:*" also matches the highest UID below n
        for batch in _batches(uids, self.settings.batch):
            messages = client.fetch(batch, ["BODY.PEEK[]"])
            for uid in batch:
                raw = messages.get(uid, {}).get(b"BODY[]")
                if raw is not None and not self._ingested(ingest, uid, raw, progress):
                    return progress.result()
                progress.advance(uid, ingested=raw is not None)  # expunged meanwhile: gone
                if raw is not None and self.settings.mark_seen:
                    client.add_flags([uid], [SEEN], silent=True)
        return progress.result()

    def _ingested(self, ingest: Ingest, uid: int, raw: bytes, progress: _Progress) -> bool:
        try:
            ingest(raw)
        except Exception as exc:  # any failure: the message stays unread, retried next poll
            log.warning("%s: ingesting UID %d failed; it is retried next poll",
                        self.settings.name, uid, exc_info=exc)
            progress.fail(uid, exc)
            return False
        return True

    def _connected(self) -> Any:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> Any:
        s = self.settings
        try:
            client = IMAPClient(s.host, s.port, ssl=s.implicit_tls,
                                ssl_context=self._ssl_context, timeout=s.timeout)
        except OSError as exc:
            raise MailboxConnectionError(f"{s.name}: cannot connect ({exc})") from exc
        try:
            if s.starttls and not s.implicit_tls:
                client.starttls(self._ssl_context)
            client.login(s.username, s.password)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                client.shutdown()
            translated = self._translated(exc)
            if translated is None:
                raise
            raise translated from exc
        return client

    def _translated(self, exc: BaseException) -> MailboxError | None:
        """A failure while opening the session as the MailboxError a caller can act on."""
        name = self.settings.name
        match exc:
            case LoginError():
                return MailboxLoginError(self._scrub(
                    f"{name}: the server refused the login for {self.settings.username!r} "
                    f"(wrong user name or password?): {exc}"))
            case CapabilityError():
                return MailboxConnectionError(f"{name}: the server does not offer STARTTLS; "
                                              "use imaps:// or, on a trusted network, "
                                              "?starttls=no")
            case ssl.SSLError():
                return MailboxConnectionError(self._scrub(f"{name}: TLS failed ({exc})"))
            case OSError() | IMAPClientError():
                return MailboxConnectionError(self._scrub(f"{name}: cannot log in ({exc})"))
        return None

    def _select(self, client: Any) -> int:
        """Open the folder (read-only unless flags are to be set); its UIDVALIDITY."""
        try:
            status = client.select_folder(self.settings.folder,
                                          readonly=not self.settings.mark_seen)
        except IMAPClientAbortError:
            raise
        except IMAPClientError as exc:
            raise MailboxFolderError(self._scrub(
                f"{self.settings.name}: cannot open folder {self.settings.folder!r}: {exc}"
            )) from exc
        return int(status[b"UIDVALIDITY"])

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(OSError):  # already closed by the other side
                client.shutdown()

    def _scrub(self, text: str) -> str:
        """``text`` with the password masked, whatever a server or library echoed."""
        password = self.settings.password
        return text.replace(password, "***") if password else text


class _Progress:
    """How far one poll got: the position, messages ingested, and any ingest failure."""

    def __init__(self, position: Position | None) -> None:
        self.position = position
        self.ingested = 0
        self.failure: tuple[int, Exception] | None = None

    @property
    def last_uid(self) -> int:
        return self.position.last_uid if self.position is not None else 0

    def advance(self, uid: int, *, ingested: bool) -> None:
        assert self.position is not None
        self.position = self.position._replace(last_uid=uid)
        self.ingested += ingested

    def fail(self, uid: int, error: Exception) -> None:
        self.failure = (uid, error)

    def result(self) -> PollResult:
        assert self.position is not None
        failed_uid, error = self.failure if self.failure is not None else (None, None)
        return PollResult(self.position, self.ingested, failed_uid, error)


def _batches(uids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(uids), size):
        yield list(uids[start:start + size])


def poll_forever(poller: ImapPoller, ingest: Ingest, *, position: Position | None,
                 save: Callable[[Position], None], stop: threading.Event, every: float,
                 wait: Callable[[float], object] | None = None) -> Position | None:
    """Poll, ``save`` the position when it moved, wait ``every`` seconds; until ``stop``.

    ``wait`` (default ``stop.wait``, which returns as soon as ``stop`` is set) is the
    pause between rounds; tests inject their own. A failing ``ingest``, a lost connection
    or a refused command is logged and tried again next round; a refused login or a
    missing folder ends the loop with its error, since only an operator can fix those.

    Returns:
        The last position, for the caller to store.
    """
    pause = stop.wait if wait is None else wait
    while not stop.is_set():
        position = _round(poller, ingest, position, save)
        pause(every)
    return position


def _round(poller: ImapPoller, ingest: Ingest, position: Position | None,
           save: Callable[[Position], None]) -> Position | None:
    reached: Position | None
    try:
        reached = poller.poll(ingest, position).position
    except (MailboxLoginError, MailboxFolderError):
        raise
    except MailboxConnectionError as exc:
        log.warning("%s; retrying next round", exc)
        reached = exc.position
    except MailboxError as exc:
        log.warning("%s; retrying next round", exc)
        reached = None
    if reached is None or reached == position:
        return position
    save(reached)
    return reached
