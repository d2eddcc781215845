"""Email API transports from the URLs mailboxes store (``--transport URL``).

::

    sendgrid://[?key_env=SENDGRID_API_KEY][&timeout=30][&base_url=https://...]
    postmark://[?token_env=POSTMARK_SERVER_TOKEN][&stream=outbound][&timeout=30]
               [&base_url=https://...]

A URL names the environment variable that holds the secret, never the secret itself,
so no key is ever stored in the database. ``check_api_url`` validates the form without
reading the environment (a mailbox may be registered where the key is not set);
``api_transport_from_url`` reads it and says which variable is missing. Error
messages show option values only for the options known here, so a key pasted into
the URL by mistake is never echoed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import SplitResult, parse_qs, urlsplit

from sequencer.delivery.http_api import DEFAULT_TIMEOUT, check_base_url
from sequencer.delivery.postmark import DEFAULT_BASE_URL as POSTMARK_URL
from sequencer.delivery.postmark import DEFAULT_STREAM, PostmarkTransport
from sequencer.delivery.sendgrid import DEFAULT_BASE_URL as SENDGRID_URL
from sequencer.delivery.sendgrid import SendGridTransport
from sequencer.urloptions import positive_number, query_options

API_SCHEMES = frozenset({"sendgrid", "postmark"})
_OPTIONS = {
    "sendgrid": frozenset({"key_env", "timeout", "base_url"}),
    "postmark": frozenset({"token_env", "stream", "timeout", "base_url"}),
}
#: Per scheme: the option naming the secret's variable, its default, what it holds.
_SECRETS = {
    "sendgrid": ("key_env", "SENDGRID_API_KEY", "SendGrid API key"),
    "postmark": ("token_env", "POSTMARK_SERVER_TOKEN", "Postmark server token"),
}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_api_url(url: str) -> dict[str, str]:
    """The options of a ``sendgrid://`` or ``postmark://`` URL, checked.

    Reads no environment variable, so it suits registering a mailbox.

    Raises:
        ValueError: another scheme, a host or path, an unknown, repeated or malformed
            option, a bad variable name, timeout or base URL.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in API_SCHEMES:
        raise ValueError(f"not an email API URL: expected {' or '.join(sorted(API_SCHEMES))}")
    where = _shown(parts, scheme)
    if parts.netloc or parts.path not in ("", "/") or parts.fragment:
        raise ValueError(f"{where!r}: an API URL takes no host, path or fragment: write "
                         f"{scheme}://?option=value (a test server goes in &base_url=)")
    options = _options(parts, scheme, where)
    variable = options.get(_SECRETS[scheme][0], _SECRETS[scheme][1])
    if not _ENV_NAME.fullmatch(variable):
        raise ValueError(f"{where!r}: {_SECRETS[scheme][0]} must name an environment "
                         "variable (letters, digits, underscores)")
    _seconds(where, options.get("timeout", str(DEFAULT_TIMEOUT)))
    if "base_url" in options:
        try:
            check_base_url(options["base_url"])
        except ValueError as exc:
            raise ValueError(f"{where!r}: {exc}") from None
    stream = options.get("stream", DEFAULT_STREAM)
    if not stream or not stream.isprintable():
        raise ValueError(f"{where!r}: stream must be a message stream's id")
    return options


def api_transport_from_url(url: str, environ: Mapping[str, str] | None = None
                           ) -> SendGridTransport | PostmarkTransport:
    """The email API transport a URL names, its secret read from the environment.

    Raises:
        ValueError: a malformed URL (see ``check_api_url``), or the variable holding
            the secret is unset or empty (the message names it).
    """
    options = check_api_url(url)
    scheme = urlsplit(url).scheme.lower()
    option, default, what = _SECRETS[scheme]
    variable = options.get(option, default)
    secret = (os.environ if environ is None else environ).get(variable, "").strip()
    if not secret:
        raise ValueError(f"{scheme}:// transport: the environment variable {variable} is "
                         f"not set or empty; it must hold the {what} (secrets are read "
                         "from the environment, never stored with the mailbox)")
    timeout = _seconds(scheme, options.get("timeout", str(DEFAULT_TIMEOUT)))
    if scheme == "sendgrid":
        return SendGridTransport(secret, timeout=timeout,
                                 base_url=options.get("base_url", SENDGRID_URL))
    return PostmarkTransport(secret, message_stream=options.get("stream", DEFAULT_STREAM),
                             timeout=timeout, base_url=options.get("base_url", POSTMARK_URL))


def _options(parts: SplitResult, scheme: str, where: str) -> dict[str, str]:
    return query_options(parts, _OPTIONS[scheme], where=where, scheme=scheme,
                         hint=" (the secret itself never goes in the URL: name its variable)")


def _seconds(where: str, value: str) -> float:
    return positive_number(where, "timeout", value, unit=" of seconds")


def _shown(parts: SplitResult, scheme: str) -> str:
    """The URL for messages: known options with their values, others masked, no host."""
    try:
        query = parse_qs(parts.query, keep_blank_values=True)
    except ValueError:
        query = {}
    known = _OPTIONS[scheme]
    shown = [f"{key}={value if key in known and '@' not in value else '***'}"
             for key, values in query.items() for value in values]
    return f"{scheme}://" + ("?" + "&".join(shown) if shown else "")
