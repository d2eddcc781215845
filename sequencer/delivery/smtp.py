"""Sending over SMTP with smtplib: one reused connection, and honest failures.

The end-of-data reply is the only proof of acceptance. A failure before the final
``.`` left us means nothing was accepted (``TransientSendError``); a failure after it
means nobody knows (``UncertainSendError``, RFC 1047) and the runtime must not resend.
That is why DATA is driven here step by step instead of through ``sendmail``.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import threading
from collections.abc import Callable

from sequencer.delivery.dkim import DkimKey
from sequencer.delivery.mime import build_mime
from sequencer.delivery.model import (
    Delivery,
    OutboundEmail,
    SendResult,
    UncertainSendError,
)
from sequencer.errors import (
    DeliveryError,
    MailboxRefusedError,
    PermanentSendError,
    TransientSendError,
)
from sequencer.inbound.verp import verp_address

_LINE_START_DOT = re.compile(rb"(?m)^\.")
_HELO_RE = re.compile(r"[A-Za-z0-9.:\[\]-]+")  # a host name or an address literal
_QUEUE_ID = re.compile(rb"(?:queued as|\bid=)\s*([A-Za-z0-9][A-Za-z0-9._-]*)", re.IGNORECASE)


class _ClosedBetweenSends(Exception):
    """A reused connection turned out to be closed when the next MAIL FROM went out."""


class SmtpTransport:
    """An SMTP client that keeps one connection open across sends.

    It connects lazily, reconnects once when the server closed the connection between
    two sends, and serialises sends with a lock, so one instance may be shared by
    threads (they then take turns on the one connection; for parallel sends make one
    transport per thread: construction is free).

    Parameters:
        host, port: the server.
        implicit_tls: TLS from the first byte (smtps, port 465).
        starttls: upgrade with STARTTLS when the server offers it. Credentials are never
            sent in clear unless this is explicitly turned off.
        username, password: AUTH credentials, if any.
        timeout: seconds for connecting and for each reply.
        helo: the name to announce in EHLO (smtplib's default is this host's FQDN).
        ssl_context: certificate policy; the system's default verification when None.
        dkim: sign each message with this key, before the lock is taken.
    """

    def __init__(self, host: str, port: int, *, implicit_tls: bool = False,
                 starttls: bool = True, username: str | None = None,
                 password: str | None = None, timeout: float = 30.0,
                 helo: str | None = None, ssl_context: ssl.SSLContext | None = None,
                 dkim: DkimKey | None = None, verp: bool = False) -> None:
        if helo is not None and not _HELO_RE.fullmatch(helo):
            raise ValueError(f"not a usable EHLO name: {helo!r}")
        self.host, self.port, self.timeout = host, port, timeout
        self._verp = verp
        self._implicit_tls, self._starttls = implicit_tls, starttls
        self._username, self._password, self._helo = username, password, helo
        self._ssl_context = ssl_context
        self._dkim = dkim
        self._smtp: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never shows the password
        scheme = "smtps" if self._implicit_tls else "smtp"
        return f"SmtpTransport({scheme}://{self.host}:{self.port})"

    def send(self, email: OutboundEmail) -> SendResult:
        """Send one message; see ``sequencer.delivery.model`` for what each error means.

        The MIME is built before any connection is opened, and building it checks every
        header and both addresses, so no CR or LF can reach MAIL FROM or RCPT TO either.
        """
        return self.begin(email).finish()

    def build(self, email: OutboundEmail) -> bytes:
        """The DATA payload: MIME, DKIM signature and dot-stuffing, no connection.

        The pipeline builds on its prepare thread, so the send lane, which has one
        message in flight at a time, spends its turn on the server alone.
        """
        message = build_mime(email)
        if self._dkim is not None:
            message = self._dkim.sign(message, email.from_address)
        return _dot_stuffed(message)

    def begin(self, email: OutboundEmail, built: bytes | None = None) -> Delivery:
        """Build the message (unless ``built`` by ``build``) and, on a connection that
        offers PIPELINING, write its envelope (MAIL FROM, RCPT TO, DATA) without waiting
        for the replies.

        Nothing can be delivered before ``finish`` sends the content and its final dot,
        so the runtime records the run ``sending`` while the server reads the envelope.
        The transport is the delivery's until it is finished or abandoned.
        """
        payload = built
        if payload is None:
            try:
                payload = self.build(email)  # before the lock: DKIM signing is the slow part
            except Exception as exc:  # e.g. a header injection: refused at ``finish``
                return _Refused(exc)
        self._lock.acquire()
        smtp, written = self._smtp, None
        try:
            if smtp is not None and smtp.has_extn("pipelining"):
                smtp.send(self._envelope_lines(email))
                written = smtp
        except OSError:  # closed while idle: ``finish`` connects afresh
            self._drop()
        except BaseException:
            self._drop()
            self._lock.release()
            raise
        return _SmtpDelivery(self, email, payload, written)

    def close(self) -> None:
        """Say QUIT and close; a later send opens a new connection."""
        with self._lock:
            smtp, self._smtp = self._smtp, None
            if smtp is not None:
                try:
                    smtp.quit()
                except OSError:  # smtplib's errors are OSErrors too
                    smtp.close()

    def _send_locked(self, email: OutboundEmail, payload: bytes,
                     written: smtplib.SMTP | None) -> SendResult:
        """The exchange, on a connection whose envelope ``begin`` may have written."""
        reused = self._smtp is not None
        smtp = self._smtp or self._connect()
        try:
            self._envelope(smtp, email, written=written is smtp)
        except _ClosedBetweenSends as exc:
            if not reused:
                raise TransientSendError(f"{self!r}: {exc}") from exc
            smtp = self._connect()  # the one reconnection: an idle connection timed out
            try:
                self._envelope(smtp, email, written=False)
            except _ClosedBetweenSends as again:
                raise TransientSendError(f"{self!r}: {again}") from again
        return self._data(smtp, payload)

    def _envelope_lines(self, email: OutboundEmail) -> str:
        """MAIL FROM, RCPT TO and DATA, as one write. The addresses were checked when
        the MIME was built, so they go out as they are (smtplib's quoteaddr would parse
        each one again)."""
        return (f"MAIL FROM:<{self._return_path(email)}>\r\n"
                f"RCPT TO:<{email.to_address}>\r\nDATA\r\n")

    def _envelope(self, smtp: smtplib.SMTP, email: OutboundEmail, *, written: bool) -> None:
        """MAIL FROM, RCPT TO and DATA, up to the server's go-ahead (354) for the content.

        A server that offers PIPELINING (RFC 2920; Postfix, Exim and the big providers
        do) gets the three commands in one write (``written``: already sent by
        ``begin``): one round trip instead of three on the path every email takes.
        """
        if not smtp.has_extn("pipelining"):
            mail_from, rcpt_to, go_ahead = self._envelope_lines(email).splitlines(keepends=True)
            self._expect(smtp, *self._mail_reply(smtp, mail_from), "MAIL FROM", (250,))
            code, reply = self._command(smtp, lambda: _ask(smtp, rcpt_to), "RCPT TO")
            self._expect(smtp, code, reply, "RCPT TO", (250, 251))
            code, reply = self._command(smtp, lambda: _ask(smtp, go_ahead), "DATA")
            self._expect(smtp, code, reply, "DATA", (354,))
            return
        mail = self._mail_reply(smtp, "" if written else self._envelope_lines(email))
        rcpt = self._command(smtp, smtp.getreply, "RCPT TO")
        data = self._command(smtp, smtp.getreply, "DATA")
        for (code, reply), stage, wanted in ((mail, "MAIL FROM", (250,)),
                                              (rcpt, "RCPT TO", (250, 251))):
            if code not in wanted:
                if data[0] == 354:  # a go-ahead despite the refusal: hanging up before
                    self._drop()    # the final dot delivers nothing
                    raise _reply_error(code, reply, stage)
                raise self._refusal(smtp, code, reply, stage, reset=True)
        self._expect(smtp, *data, "DATA", (354,))

    def _mail_reply(self, smtp: smtplib.SMTP, commands: str) -> tuple[int, bytes]:
        """Send the commands that start a message; the reply to their MAIL FROM.

        On a reused connection, a lost line or a 421 here means the server hung up
        while we were idle: nothing was accepted, and one reconnection is worth it.
        """
        try:
            code, reply = _ask(smtp, commands)
        except OSError as exc:  # SMTPServerDisconnected included
            self._drop()
            raise _ClosedBetweenSends(f"connection lost at MAIL FROM: {exc}") from exc
        if code == 421:  # "service closing": typically an idle timeout between sends
            self._drop()
            raise _ClosedBetweenSends(str(_reply_error(code, reply, "MAIL FROM")))
        return code, reply

    def _return_path(self, email: OutboundEmail) -> str:
        """The envelope sender: with ``verp``, one that names the run, so that even a
        bounce quoting nothing of the original finds its step (``sequencer.inbound.verp``)."""
        key = email.headers.get("X-Sequencer-Key") if self._verp else None
        return verp_address(email.from_address, key) if key else email.from_address

    def _connect(self) -> smtplib.SMTP:
        """Open, greet, upgrade to TLS and log in; the result becomes the connection."""
        self._drop()
        try:
            if self._implicit_tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, local_hostname=self._helo, timeout=self.timeout,
                    context=self._context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, local_hostname=self._helo,
                                    timeout=self.timeout)
        except smtplib.SMTPConnectError as exc:
            raise _reply_error(exc.smtp_code, exc.smtp_error, "greeting") from exc
        except OSError as exc:  # refused, unreachable, timed out, TLS (smtplib's are OSErrors)
            raise TransientSendError(f"{self!r}: cannot connect: {exc}") from exc
        try:
            self._handshake(smtp)
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp

    def _handshake(self, smtp: smtplib.SMTP) -> None:
        """EHLO, STARTTLS when offered (and wanted), AUTH when configured."""
        stage = "EHLO"
        try:
            smtp.ehlo_or_helo_if_needed()
            encrypted = self._implicit_tls
            if self._starttls and not encrypted and smtp.has_extn("starttls"):
                stage = "STARTTLS"
                smtp.starttls(context=self._context())
                smtp.ehlo()
                encrypted = True
            if self._username is not None:
                stage = "AUTH"
                if not encrypted and self._starttls:
                    raise PermanentSendError(
                        f"{self!r}: the server offers no TLS; refusing to send the password "
                        "in clear (add ?starttls=no to the URL to allow it)")
                smtp.login(self._username, self._password or "")
        # Order matters: every smtplib exception is an OSError.
        except smtplib.SMTPResponseException as exc:
            error = _reply_error(exc.smtp_code, exc.smtp_error, stage)
            if stage == "AUTH" and isinstance(error, PermanentSendError):
                raise MailboxRefusedError(str(error)) from exc  # the login, not the message
            raise error from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise TransientSendError(f"{self!r}: connection lost at {stage}: {exc}") from exc
        except smtplib.SMTPException as exc:  # no AUTH offered, no usable mechanism
            raise PermanentSendError(f"{self!r}: {stage} failed: {exc}") from exc
        except OSError as exc:  # timeouts, resets, TLS failures (certificates included)
            raise TransientSendError(f"{self!r}: {stage} failed: {exc}") from exc
        except UnicodeEncodeError:  # smtplib encodes credentials as ASCII; nothing was sent
            raise PermanentSendError(f"{self!r}: {stage} failed: the user name and password "
                                     "must be ASCII to be sent") from None

    def _data(self, smtp: smtplib.SMTP, payload: bytes) -> SendResult:
        """The message after the go-ahead, and the one reply that proves acceptance."""
        try:
            smtp.send(payload)  # sendall: on failure the final ".\r\n" did not all go out
        except OSError as exc:  # SMTPServerDisconnected included
            self._drop()
            raise TransientSendError(f"{self!r}: connection lost sending data: {exc}") from exc
        try:
            code, reply = smtp.getreply()
        except OSError as exc:  # EOF, reset or timeout: the reply is lost, not the message
            self._drop()
            raise UncertainSendError(
                f"{self!r}: no reply after the end of data ({exc}); the server may have "
                "accepted the message: do not resend") from exc
        if not 200 <= code < 300:
            raise self._refusal(smtp, code, reply, "end of data", reset=False)
        found = _QUEUE_ID.search(reply)
        return SendResult(provider_id=found.group(1).decode("ascii") if found else None)

    def _command(self, smtp: smtplib.SMTP, call: Callable[[], tuple[int, bytes]],
                 stage: str) -> tuple[int, bytes]:
        """Run one command before the data; a lost connection there accepted nothing."""
        try:
            return call()
        except OSError as exc:  # SMTPServerDisconnected included
            self._drop()
            raise TransientSendError(f"{self!r}: connection lost at {stage}: {exc}") from exc

    def _expect(self, smtp: smtplib.SMTP, code: int, reply: bytes, stage: str,
                wanted: tuple[int, ...]) -> None:
        if code not in wanted:
            raise self._refusal(smtp, code, reply, stage, reset=True)

    def _refusal(self, smtp: smtplib.SMTP, code: int, reply: bytes, stage: str, *,
                 reset: bool) -> DeliveryError:
        """The error for a refusal, leaving the connection clean for the next send."""
        if code == 421 or not 400 <= code < 600:
            self._drop()  # closing, or a reply we cannot place: start afresh next time
        elif reset:
            try:
                if smtp.rset()[0] != 250:
                    self._drop()
            except OSError:
                self._drop()
        return _reply_error(code, reply, stage)

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _drop(self) -> None:
        """Forget the connection without a QUIT: its state is no longer trusted."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()


class _SmtpDelivery:
    """A send ``begin`` started: it holds the transport's lock until it is settled."""

    def __init__(self, transport: SmtpTransport, email: OutboundEmail, payload: bytes,
                 written: smtplib.SMTP | None) -> None:
        self._transport, self._email, self._payload = transport, email, payload
        self._written = written
        self._settled = False

    def finish(self) -> SendResult:
        transport = self._settle()
        try:
            return transport._send_locked(self._email, self._payload, self._written)
        except DeliveryError:
            raise
        except BaseException:
            transport._drop()  # an interrupt mid-command leaves the dialogue out of step
            raise
        finally:
            transport._lock.release()

    def abandon(self) -> None:
        transport = self._settle()
        try:
            if self._written is not None:  # the server may be waiting for content: hanging
                transport._drop()          # up before the final dot delivers nothing
        finally:
            transport._lock.release()

    def _settle(self) -> SmtpTransport:
        if self._settled:
            raise RuntimeError("this send was already finished or abandoned")
        self._settled = True
        return self._transport


class _Refused:
    """A send refused before anything was written: ``finish`` raises why."""

    def __init__(self, error: Exception) -> None:
        self._error = error

    def finish(self) -> SendResult:
        raise self._error

    def abandon(self) -> None:
        pass


def _reply_error(code: int, reply: bytes | str, stage: str) -> DeliveryError:
    """Translate an SMTP reply: 5xx is permanent, anything else worth another try."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    reason = f"{code} {' '.join(text.split())} (at {stage})"
    if 500 <= code < 600:
        return PermanentSendError(reason)
    return TransientSendError(reason)


def _ask(smtp: smtplib.SMTP, commands: str) -> tuple[int, bytes]:
    """Write command lines as they are (none: already written); the reply to the first."""
    if commands:
        smtp.send(commands)
    return smtp.getreply()


def _dot_stuffed(message: bytes) -> bytes:
    """The DATA payload: leading dots doubled and the terminating ``.`` line added."""
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    return _LINE_START_DOT.sub(b"..", message) + b".\r\n"
