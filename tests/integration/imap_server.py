"""A private Dovecot for the IMAP tests, started and stopped by the tests themselves.

``dovecot -F -c CONFIG`` runs as a child process on free loopback ports, with its own
base_dir, state, log, passwd-file (plain passwords) and maildir storage, all in one
temporary folder; it is stopped by its own pid at the end of the session. One server
has ``ssl = no``; the other serves IMAPS and STARTTLS with a certificate from a
throw-away ``trustme`` CA. Starting Dovecot takes milliseconds but stopping one that
served connections takes about a second, so each runs once per session and every test
gets a mailbox of its own instead: a new user with a passwd-file of its own, an empty
INBOX and its own UIDVALIDITY.

No system Dovecot is used or needed (``make test`` installs the package when missing,
without starting it). Locally a missing Dovecot skips the tests that need it; under CI
(the ``CI`` variable is set) it fails them, so they can never be skipped by accident.
Dovecot refuses mail access as root, so under root the mail belongs to ``nobody``.

Use: ``from tests.integration.imap_server import imap_server, imaps_server`` in a test
module, then take ``imap_server`` (or ``imaps_server``) as an argument.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import trustme
from imapclient import IMAPClient

DOVECOT = os.environ.get("SEQUENCER_TEST_DOVECOT", "/usr/sbin/dovecot")
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
PASSWORD = "correct horse 7%@/battery?"  # characters a URL must escape (no ":": passwd-file)
STARTUP_SECONDS = 15.0


@dataclass(frozen=True)
class ImapServer:
    """One test user's mailbox on a running private Dovecot, with a few admin helpers.

    ``port`` speaks plain IMAP (offering STARTTLS when the server has a certificate);
    ``tls_port`` speaks IMAPS and is None without one.
    """

    host: str
    port: int
    user: str
    password: str
    config: Path
    tls_port: int | None = None
    ca: trustme.CA | None = None

    def url(self, folder: str = "INBOX", *, scheme: str = "imap", password: str | None = None,
            **options: str) -> str:
        """An ``imap://`` (or ``imaps://``) URL for the test user, with query options."""
        port = self.tls_port if scheme == "imaps" else self.port
        secret = self.password if password is None else password
        query = "&".join(f"{key}={quote(value, safe='')}" for key, value in options.items())
        return (f"{scheme}://{quote(self.user, safe='')}:{quote(secret, safe='')}"
                f"@{self.host}:{port}/{quote(folder, safe='')}" + (f"?{query}" if query else ""))

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this server's CA (TLS variant only)."""
        assert self.ca is not None, "this server has no certificate: use imaps_server"
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    @contextlib.contextmanager
    def admin(self, folder: str = "INBOX") -> Iterator[IMAPClient]:
        """A second, logged-in connection with ``folder`` selected read-write."""
        client = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        try:
            if self.ca is not None:
                client.starttls(self.client_context())
            client.login(self.user, self.password)
            client.select_folder(folder)
            yield client
        finally:
            try:
                client.logout()
            except Exception:  # already dropped: close what is left
                with contextlib.suppress(OSError):
                    client.shutdown()

    def append(self, raw: bytes, folder: str = "INBOX") -> int:
        """Deliver ``raw`` into ``folder`` as a mail server would (unseen); returns its UID."""
        with self.admin(folder) as client:
            response = client.append(folder, raw)
        return _appended_uid(response)

    def flags(self, uid: int, folder: str = "INBOX") -> tuple[bytes, ...]:
        """The flags the server holds for message ``uid``, read without changing them."""
        with self.admin(folder) as client:
            found = client.get_flags([uid])
        return tuple(found[uid])

    def count(self, folder: str = "INBOX") -> int:
        with self.admin(folder) as client:
            return int(client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"])

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.admin() as client:
            return int(client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])

    def recreate(self, folder: str) -> None:
        """Delete ``folder`` and create it anew: the server gives it a new UIDVALIDITY."""
        with self.admin() as client:
            if client.folder_exists(folder):
                client.delete_folder(folder)
            client.create_folder(folder)

    def kick(self) -> None:
        """Make the server drop every open connection of this user (``doveadm kick``)."""
        subprocess.run([DOVEADM, "-c", str(self.config), "kick", self.user],
                       check=True, capture_output=True, timeout=30)


def _appended_uid(response: bytes) -> int:
    """The UID from an ``APPENDUID`` response code (RFC 4315): ``[APPENDUID 17 3] ...``."""
    text = response.decode("ascii", "replace")
    assert "APPENDUID" in text, f"the server did not say which UID it gave: {text!r}"
    return int(text.split("APPENDUID", 1)[1].split("]", 1)[0].split()[1])


class Dovecot:
    """A private Dovecot process and the folder that holds everything it uses."""

    def __init__(self, *, tls: bool) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="sequencer-dovecot-"))
        self.root.chmod(0o755)  # the mail user (nobody, under root) must reach its maildir
        self.config = self.root / "dovecot.conf"
        self.log = self.root / "dovecot.log"
        self.passwd = self.root / "passwd"  # a folder: one file per user, read on first use
        self.ca = trustme.CA() if tls else None
        self.port = _free_port()
        self.tls_port = _free_port() if tls else None
        self._users = itertools.count(1)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.passwd.mkdir()
        self.config.write_text(self._config_text(), "utf-8")
        with (self.root / "stderr.log").open("wb") as output:
            self._process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.config)],
                                             stdout=output, stderr=subprocess.STDOUT)
        self._wait_until_listening(self._process)

    def stop(self) -> None:
        """Stop the process we started, by its pid, and remove its folder."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)

    def add_user(self) -> ImapServer:
        """A new user with an empty mailbox (its maildir is created on first login)."""
        name = f"replies-{next(self._users)}@example.test"
        _, uid, gid = _mail_owner()
        home = self.root / "mail" / name
        home.mkdir(parents=True)
        for path in (home.parent, home):
            os.chown(path, uid, gid)
        entry = self.passwd / name
        entry.write_text(f"{name}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{home}::\n", "utf-8")
        entry.chmod(0o644)  # read by Dovecot's unprivileged auth process
        return ImapServer("127.0.0.1", self.port, name, PASSWORD, self.config,
                          self.tls_port, self.ca)

    def _config_text(self) -> str:
        root = self.root
        lines = [
            "protocols = imap",
            "listen = 127.0.0.1",
            f"base_dir = {root / 'run'}",
            f"state_dir = {root / 'state'}",
            f"log_path = {self.log}",
            "auth_mechanisms = plain login",
            "disable_plaintext_auth = no",
            "auth_failure_delay = 0",  # the wrong-password test needs no 2-second penalty
            "mail_location = maildir:~/Maildir",
            # A file per user: a line added to a passwd-file Dovecot read in the same second
            # went unseen (logins failed), while a new file is read on first use.
            f"passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {self.passwd}/%u\n}}",
            f"userdb {{\n  driver = passwd-file\n  args = {self.passwd}/%u\n}}",
            # Failed logins (the wrong-password tests) must not slow down the next ones.
            "service anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}",
            "service imap-login {",
            f"  inet_listener imap {{\n    port = {self.port}\n  }}",
            f"  inet_listener imaps {{\n    port = {self.tls_port or 0}\n  }}",
            "}",
        ]
        if os.geteuid() != 0:  # unprivileged: every Dovecot process runs as ourselves
            me = pwd.getpwuid(os.geteuid()).pw_name
            lines += [f"default_login_user = {me}", f"default_internal_user = {me}"]
        lines += self._ssl_lines()
        return "\n".join(lines) + "\n"

    def _ssl_lines(self) -> list[str]:
        if self.ca is None:
            return ["ssl = no"]
        issued = self.ca.issue_cert("127.0.0.1", "localhost")
        cert, key = self.root / "cert.pem", self.root / "key.pem"
        issued.cert_chain_pems[0].write_to_path(str(cert))
        issued.private_key_pem.write_to_path(str(key))
        return ["ssl = yes", f"ssl_cert = <{cert}", f"ssl_key = <{key}"]

    def _wait_until_listening(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        ports = [p for p in (self.port, self.tls_port) if p is not None]
        while time.monotonic() < deadline:
            if all(_accepts(p) for p in ports):
                return
            try:  # waiting for the server we just started to listen, or to die trying
                process.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                continue
            break
        logs = "\n".join(p.read_text("utf-8", "replace")[-2000:]
                         for p in (self.root / "stderr.log", self.log) if p.exists())
        pytest.fail(f"Dovecot is installed but did not start (exit code {process.poll()}):\n"
                    f"{logs}", pytrace=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _mail_owner() -> tuple[str, int, int]:
    """Who owns the mail: ourselves, or ``nobody`` when we are root (Dovecot refuses uid 0)."""
    owner = pwd.getpwuid(os.geteuid()) if os.geteuid() != 0 else pwd.getpwnam("nobody")
    return owner.pw_name, owner.pw_uid, owner.pw_gid


@contextlib.contextmanager
def running_dovecot(*, tls: bool) -> Iterator[Dovecot]:
    """A started private Dovecot, stopped on exit; skips (fails under CI) when not installed."""
    if not Path(DOVECOT).is_file():
        reason = (f"Dovecot is not installed ({DOVECOT} is missing); "
                  "`apt-get install dovecot-imapd` or run `make test`")
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: under CI this is a failure, not a skip", pytrace=False)
        pytest.skip(reason)
    server = Dovecot(tls=tls)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dovecot_plain() -> Iterator[Dovecot]:
    with running_dovecot(tls=False) as server:
        yield server


@pytest.fixture(scope="session")
def dovecot_tls() -> Iterator[Dovecot]:
    with running_dovecot(tls=True) as server:
        yield server


@pytest.fixture
def imap_server(dovecot_plain: Dovecot) -> ImapServer:
    """A fresh mailbox (empty INBOX) on a private Dovecot with ``ssl = no``."""
    return dovecot_plain.add_user()


@pytest.fixture
def imaps_server(dovecot_tls: Dovecot) -> ImapServer:
    """A fresh mailbox on a private Dovecot serving IMAPS and STARTTLS (trustme CA)."""
    return dovecot_tls.add_user()
