"""Transports from URLs, as mailboxes store them (``--transport URL``).

::

    smtp://[user:pass@]host[:port][?starttls=yes|no][&timeout=30][&helo=name]
    smtps://[user:pass@]host[:port][?timeout=30][&helo=name]
        both also [&cafile=/absolute/ca.pem]: trust only the CA(s) in that file
        (a relay with a private CA); the system's CAs otherwise
        both also [&verp=yes]: the envelope sender names the step (local+s-TOKEN@domain), so
        that any bounce finds its step; needs plus-addressing on the sending mailbox
    file:///absolute/folder[?fsync=yes|no]
    sendgrid://[?key_env=SENDGRID_API_KEY][&timeout=30][&base_url=https://...]
    postmark://[?token_env=POSTMARK_SERVER_TOKEN][&stream=outbound][&timeout=30]
               [&base_url=https://...]

The email API URLs name the environment variable holding the secret, never the secret
(see ``sequencer.delivery.api_urls``).

smtp, smtps and file URLs also take ``dkim_key=/absolute/key.pem&dkim_selector=s1``
(both or neither): messages are then DKIM-signed for their From domain. The key is read
and checked here, so a bad path or key fails when the URL is parsed, not at first send.

Building a transport opens nothing: SMTP connects on the first send, so this is cheap
enough to call per thread. Error messages never repeat the password.
"""

from __future__ import annotations

import ssl
from urllib.parse import SplitResult, unquote, urlsplit

from sequencer.delivery.api_urls import API_SCHEMES, api_transport_from_url
from sequencer.delivery.dkim import DkimKey
from sequencer.delivery.model import Transport
from sequencer.delivery.outbox import FileOutbox
from sequencer.delivery.smtp import SmtpTransport
from sequencer.urloptions import positive_number, query_options, redacted, yes_no

_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_DKIM_OPTIONS = {"dkim_key", "dkim_selector"}
_OPTIONS = {"smtp": {"starttls", "timeout", "helo", "cafile", "verp", *_DKIM_OPTIONS},
            "smtps": {"timeout", "helo", "cafile", "verp", *_DKIM_OPTIONS},
            "file": {"fsync", *_DKIM_OPTIONS}}


def transport_from_url(url: str) -> Transport:
    """The transport a URL names.

    Raises:
        ValueError: unknown scheme, missing host or folder, bad port, or an unknown or
            malformed query option; the message shows the URL without its password.
            For an email API, also an unset variable for its secret (named).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in API_SCHEMES:
        return api_transport_from_url(url)
    if scheme not in _OPTIONS:
        raise ValueError(f"unsupported transport URL {redacted(parts)!r}: expected "
                         "smtp://host:port, smtps://host:port, file:///folder, "
                         "sendgrid:// or postmark://")
    options = _options(parts, scheme)
    if scheme == "file":
        return _file_outbox(parts, options)
    return _smtp(parts, scheme, options)


def _smtp(parts: SplitResult, scheme: str, options: dict[str, str]) -> SmtpTransport:
    where = redacted(parts)
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise ValueError(f"{where!r}: bad port ({exc})") from exc
    if not parts.hostname:
        raise ValueError(f"{where!r}: no host")
    if parts.path not in ("", "/"):
        raise ValueError(f"{where!r}: an SMTP URL has no path")
    if (parts.username is None) != (parts.password is None):
        raise ValueError(f"{where!r}: give both user and password, or neither")
    return SmtpTransport(
        parts.hostname, port,
        implicit_tls=scheme == "smtps",
        starttls=_boolean(where, "starttls", options.get("starttls", "yes")),
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
        timeout=_timeout(where, options.get("timeout", "30")),
        helo=options.get("helo"),
        ssl_context=_ssl_context(where, options.get("cafile")),
        dkim=_dkim(where, options),
        verp=_boolean(where, "verp", options.get("verp", "no")),
    )


def _ssl_context(where: str, cafile: str | None) -> ssl.SSLContext | None:
    """Certificate checks that trust only the CAs in ``cafile``; None: the system's CAs."""
    if cafile is None:
        return None
    if not cafile.startswith("/"):
        raise ValueError(f"{where!r}: cafile must be an absolute path, not {cafile!r}")
    try:
        return ssl.create_default_context(cafile=cafile)
    except OSError as exc:  # missing, unreadable, or no certificate in it (ssl.SSLError)
        raise ValueError(f"{where!r}: cannot load cafile {cafile!r}: {exc}") from None


def _file_outbox(parts: SplitResult, options: dict[str, str]) -> FileOutbox:
    where = redacted(parts)
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"{where!r}: use file:///absolute/folder (three slashes)")
    if not parts.path or parts.path == "/":
        raise ValueError(f"{where!r}: no folder")
    return FileOutbox(unquote(parts.path),
                      fsync=_boolean(where, "fsync", options.get("fsync", "yes")),
                      dkim=_dkim(where, options))


def _dkim(where: str, options: dict[str, str]) -> DkimKey | None:
    """The signing key the URL names, read and checked now; None without one."""
    key, selector = options.get("dkim_key"), options.get("dkim_selector")
    if key is None and selector is None:
        return None
    if not key or not selector:
        raise ValueError(f"{where!r}: give both dkim_key and dkim_selector, or neither")
    try:
        return DkimKey.load(key, selector)
    except ValueError as exc:
        raise ValueError(f"{where!r}: {exc}") from None


def _options(parts: SplitResult, scheme: str) -> dict[str, str]:
    return query_options(parts, _OPTIONS[scheme], where=redacted(parts), scheme=scheme)


def _boolean(where: str, key: str, value: str) -> bool:
    return yes_no(where, key, value)


def _timeout(where: str, value: str) -> float:
    return positive_number(where, "timeout", value, unit=" of seconds")

