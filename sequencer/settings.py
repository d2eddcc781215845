"""Settings, read from the environment once, at the entry point.

Link tokens (one-click unsubscribe, click and open tracking) are signed with
``SEQUENCER_SECRET_KEYS``: comma-separated secrets, newest first; the first signs,
all verify, so keep a retired key listed for as long as its mail may be clicked.
With none configured, ``signing_keys`` falls back to one key generated once and kept
in ``.sequencer-secret`` in the working directory: right for the embedded mode (one
machine, one directory), wrong for processes in different containers or hosts,
which must share ``SEQUENCER_SECRET_KEYS`` or their links will not verify elsewhere.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite:///sequencer.db"
DEFAULT_PUBLIC_URL = "http://localhost:8000"
SECRET_KEY_FILE = ".sequencer-secret"
MIN_SECRET_LENGTH = 16

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    stuck_claim_seconds: int = 300  # a claimed run whose broker message was lost is re-enqueued
    stuck_sending_seconds: int = 600  # a send that never reported back becomes uncertain
    secret_keys: tuple[str, ...] = field(default=(), repr=False)  # newest first
    public_url: str = DEFAULT_PUBLIC_URL  # base of the /u/, /c/ and /o/ links in e-mails
    postal_address: str | None = None  # for the CAN-SPAM footer; lines split at \n (or "\\n")
    inbound_token: str | None = field(default=None, repr=False)  # POST /inbound/mime bearer
    # The email providers' event webhooks (POST /webhooks/...): each is off until set.
    sendgrid_webhook_public_key: str | None = None  # SendGrid's ECDSA key, base64 DER or PEM
    postmark_webhook_user: str | None = None  # the Basic credentials in Postmark's webhook URL
    postmark_webhook_password: str | None = field(default=None, repr=False)
    mailgun_webhook_signing_key: str | None = field(default=None, repr=False)
    # The CRM webhooks (POST /v1/crm/{generic,hubspot,salesforce}/events): off until set.
    crm_webhook_secret: str | None = field(default=None, repr=False)
    hubspot_app_secret: str | None = field(default=None, repr=False)
    salesforce_webhook_secret: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname \
                or parts.query or parts.fragment:
            raise ValueError(f"SEQUENCER_PUBLIC_URL {self.public_url!r}: expected "
                             "https://host[:port][/path], the base of the links in e-mails")
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        for position, key in enumerate(self.secret_keys, 1):
            if len(key) < MIN_SECRET_LENGTH:
                raise ValueError(f"SEQUENCER_SECRET_KEYS: key #{position} is shorter than "
                                 f"{MIN_SECRET_LENGTH} characters (use `openssl rand -hex 32`)")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("SEQUENCER_DATABASE_URL") or DEFAULT_DATABASE_URL,
            redis_url=env.get("SEQUENCER_REDIS_URL") or None,
            stuck_claim_seconds=int(env.get("SEQUENCER_STUCK_CLAIM_SECONDS") or 300),
            stuck_sending_seconds=int(env.get("SEQUENCER_STUCK_SENDING_SECONDS") or 600),
            secret_keys=tuple(k.strip() for k in (env.get("SEQUENCER_SECRET_KEYS") or "")
                              .split(",") if k.strip()),
            public_url=env.get("SEQUENCER_PUBLIC_URL") or DEFAULT_PUBLIC_URL,
            postal_address=(env.get("SEQUENCER_POSTAL_ADDRESS") or "").replace("\\n", "\n")
            .strip() or None,
            inbound_token=env.get("SEQUENCER_INBOUND_TOKEN") or None,
            sendgrid_webhook_public_key=env.get("SEQUENCER_SENDGRID_WEBHOOK_PUBLIC_KEY") or None,
            postmark_webhook_user=env.get("SEQUENCER_POSTMARK_WEBHOOK_USER") or None,
            postmark_webhook_password=env.get("SEQUENCER_POSTMARK_WEBHOOK_PASSWORD") or None,
            mailgun_webhook_signing_key=env.get("SEQUENCER_MAILGUN_WEBHOOK_SIGNING_KEY") or None,
            crm_webhook_secret=env.get("SEQUENCER_CRM_WEBHOOK_SECRET") or None,
            hubspot_app_secret=env.get("SEQUENCER_HUBSPOT_APP_SECRET") or None,
            salesforce_webhook_secret=env.get("SEQUENCER_SALESFORCE_WEBHOOK_SECRET") or None,
        )


def signing_keys(settings: Settings, folder: Path | None = None) -> tuple[str, ...]:
    """The secrets link tokens are signed with, newest first.

    ``settings.secret_keys`` when configured; otherwise the key in ``folder``
    (the working directory by default) ``/.sequencer-secret``, created once with 256
    random bits, readable by its owner only. Processes racing to create it all end up
    with the one that was written first.

    Raises:
        OSError: the key file can be neither read nor created.
        ValueError: the key file holds no usable key.
    """
    if settings.secret_keys:
        return settings.secret_keys
    path = (folder or Path.cwd()) / SECRET_KEY_FILE
    if not path.exists():
        _create_key_file(path)
    key = path.read_text("ascii").strip()
    if len(key) < MIN_SECRET_LENGTH:
        raise ValueError(f"{path}: no usable secret key (delete it to generate a new one, "
                         "or set SEQUENCER_SECRET_KEYS)")
    return (key,)


def _create_key_file(path: Path) -> None:
    """Write a new key beside ``path`` and link it into place unless one got there first."""
    temp = path.with_name(f"{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: use theirs
            os.link(temp, path)
            log.warning("no SEQUENCER_SECRET_KEYS configured: generated a link-signing key in "
                        "%s (processes elsewhere must share it via SEQUENCER_SECRET_KEYS)", path)
    finally:
        os.unlink(temp)


def config_file(variable: str, default_name: str, environ: Mapping[str, str] | None = None,
                cwd: Path | None = None) -> Path | None:
    """The team's editable file: ``$variable``, else ``./default_name``, else None (use
    the built-in defaults).

    Raises:
        InputError: the variable names a file that does not exist.
    """
    from sequencer.errors import InputError

    environ = os.environ if environ is None else environ
    named = environ.get(variable, "").strip()
    path = Path(named) if named else (cwd or Path.cwd()) / default_name
    if path.is_file():
        return path
    if named:
        raise InputError(f"${variable} names {named}, which is not a file")
    return None
