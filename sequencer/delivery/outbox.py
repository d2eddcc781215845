"""The file outbox: each message becomes ``<folder>/<name from its Message-ID>.eml``.

Used by the demo and by development setups in place of a mail server. A file is
named after the Message-ID alone (no timestamp), so resending the same message
overwrites the same file: the outbox is idempotent, as a provider with dedupe
would be. Files appear atomically (temp file in the same folder, then
``os.replace``), so a reader never sees half a message.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from urllib.parse import quote

from sequencer.delivery.dkim import DkimKey
from sequencer.delivery.mime import build_mime
from sequencer.delivery.model import OutboundEmail, SendResult
from sequencer.errors import TransientSendError

_MAX_STEM = 200  # well under the 255-byte file name limit of common file systems
TEMP_PREFIX = ".outbox-"
TEMP_SUFFIX = ".tmp"


def outbox_file_name(message_id: str) -> str:
    """A safe, deterministic file name for a Message-ID.

    ``<id@host>`` becomes ``id@host.eml``; any other character is %-escaped (``/``
    included, so no name leaves the folder, and a leading ``.`` so none is hidden).
    Ids too long for a file name are replaced by their SHA-256.
    """
    stem = quote(message_id.strip("<>"), safe="@-_.+=")
    if stem.startswith("."):
        stem = "%2E" + stem[1:]
    if not stem or len(stem) > _MAX_STEM:
        stem = hashlib.sha256(message_id.encode("utf-8")).hexdigest()
    return stem + ".eml"


class FileOutbox:
    """A transport that writes messages to a folder instead of sending them.

    Parameters:
        folder: created (with parents) on the first send if missing.
        fsync: flush file and folder to disk before reporting success (durable "sent");
            turn off for throwaway demo runs.
        dkim: sign each message with this key (as a mail server would see it).
    """

    def __init__(self, folder: Path | str, *, fsync: bool = True,
                 dkim: DkimKey | None = None) -> None:
        self.folder = Path(folder)
        self.fsync = fsync
        self.dkim = dkim

    def __repr__(self) -> str:
        return f"FileOutbox({str(self.folder)!r})"

    def send(self, email: OutboundEmail) -> SendResult:
        """Write the message; ``provider_id`` is the file name.

        Raises:
            HeaderInjectionError, PermanentSendError: from ``build_mime`` (and signing).
            TransientSendError: the file could not be written (nothing is left behind).
        """
        data = build_mime(email)
        if self.dkim is not None:
            data = self.dkim.sign(data, email.from_address)
        name = outbox_file_name(email.message_id)
        try:
            self._write(name, data)
        except OSError as exc:
            raise TransientSendError(f"{self!r}: cannot write {name}: {exc}") from exc
        return SendResult(provider_id=name)

    def close(self) -> None:
        """Nothing to release."""

    def _write(self, name: str, data: bytes) -> None:
        """Write to a temp file beside the target, then rename it over the target."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.folder, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if self.fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(temp, self.folder / name)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        if self.fsync:
            _fsync_folder(self.folder)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX: the directory entry lives in the folder)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
