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

import math
import ssl
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from sequencer.delivery.api_urls import API_SCHEMES, api_transport_from_url
from sequencer.delivery.dkim import DkimKey
from sequencer.delivery.model import Transport
from sequencer.delivery.outbox import FileOutbox
from sequencer.delivery.smtp import SmtpTransport

_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_DKIM_OPTIONS = {"dkim_key", "dkim_selector"}
_OPTIONS = {"smtp": {"starttls", "timeout", "helo", "cafile", "verp", *_DKIM_OPTIONS},
            "smtps": {"timeout", "helo", "cafile", "verp", *_DKIM_OPTIONS},
            "file": {"fsync", *_DKIM_OPTIONS}}
_BOOLEANS = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}


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
        raise ValueError(f"unsupported transport URL {_redacted(parts)!r}: expected "
                         "smtp://host:port, smtps://host:port, file:///folder, "
                         "sendgrid:// or postmark://")
    options = _options(parts, scheme)
    if scheme == "file":
        return _file_outbox(parts, options)
    return _smtp(parts, scheme, options)


def _smtp(parts: SplitResult, scheme: str, options: dict[str, str]) -> SmtpTransport:
    where = _redacted(parts)
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
    where = _redacted(parts)
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
    """The query as single values, refusing unknown or repeated keys (typos fail loudly)."""
    where = _redacted(parts)
    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError as exc:
        raise ValueError(f"{where!r}: malformed query ({exc})") from exc
    unknown = set(query) - _OPTIONS[scheme]
    if unknown:
        raise ValueError(f"{where!r}: unknown option(s) {', '.join(sorted(unknown))}; "
                         f"{scheme}:// takes {', '.join(sorted(_OPTIONS[scheme]))}")
    repeated = sorted(key for key, values in query.items() if len(values) > 1)
    if repeated:
        raise ValueError(f"{where!r}: option(s) given twice: {', '.join(repeated)}")
    return {key: values[0] for key, values in query.items()}


def _boolean(where: str, key: str, value: str) -> bool:
    try:
        return _BOOLEANS[value.lower()]
    except KeyError:
        raise ValueError(f"{where!r}: {key} must be yes or no, not {value!r}") from None


def _timeout(where: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"{where!r}: timeout must be a positive number of seconds, "
                         f"not {value!r}")
    return seconds


def _redacted(parts: SplitResult) -> str:
    """The URL with any password replaced by ``***``."""
    if parts.password is None:
        return parts.geturl()
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{netloc}").geturl()
