"""Where outbound webhooks may go: the URL rules and the address rules (no SSRF).

Pure: the caller resolves host names (``socket.getaddrinfo``) and hands the
addresses in, at registration and again before every delivery, so that a name
that later resolves somewhere else (DNS rebinding) is caught at the moment of
sending; the sender then connects to the address it checked (pinned).

Refused unless the endpoint allows private destinations: loopback, private
(RFC 1918, 100.64/10 shared space), link-local (169.254/16 with the cloud metadata
address, fe80::/10), unique-local (fc00::/7), multicast, reserved and unspecified
addresses, IPv4 and IPv6 alike, including IPv4 addresses inside IPv6 (``::ffff:a.b.c.d``,
6to4, NAT64 and Teredo are judged by the IPv4 address they carry). Always refused: a
scheme other than http(s), credentials in the URL, a URL without a host.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sequencer.errors import InputError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")


class UnsafeDestination(InputError):
    """A webhook URL we refuse to call: its scheme, its credentials, or where it points."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL, split: the host to resolve and the port to connect to."""

    url: str
    scheme: str
    host: str  # without brackets for IPv6
    port: int


def check_url(url: str) -> Target:
    """The URL's parts, once its form is acceptable.

    Raises:
        UnsafeDestination: not http(s), credentials in it, no host, or a bad port.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeDestination(f"{url!r} is not a URL ({exc})") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeDestination(f"{url!r}: only http:// and https:// URLs can receive webhooks")
    if parts.username is not None or parts.password is not None:
        raise UnsafeDestination(f"{_redacted(url)}: credentials in the URL are refused "
                                "(the receiver checks our signature instead)")
    if not parts.hostname:
        raise UnsafeDestination(f"{url!r}: no host")
    default = 443 if parts.scheme == "https" else 80
    return Target(url.strip(), parts.scheme, parts.hostname, port or default)


def literal_address(host: str) -> Address | None:
    """The host as an IP address, when it is one (``[::1]`` written without brackets)."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def refusal(address: Address) -> str | None:
    """Why ``address`` is not a public destination; None when it is one."""
    inner = _embedded_ipv4(address)
    if inner is not None:
        return refusal(inner)
    checks = (("loopback", address.is_loopback), ("unspecified", address.is_unspecified),
              ("link-local", address.is_link_local), ("multicast", address.is_multicast),
              ("reserved", address.is_reserved),
              ("unique-local" if address.version == 6 else "private", address.is_private),
              ("shared (carrier-grade NAT)", address.version == 4 and address in _SHARED),
              ("not global", not address.is_global))
    return next((name for name, hit in checks if hit), None)


def check_addresses(target: Target, addresses: Iterable[str], *, allow_private: bool
                    ) -> list[Address]:
    """The addresses ``target.host`` resolved to, each checked; usable ones, in order.

    Every address must pass, not just one: a name with one public and one private
    address could otherwise be pointed at either.

    Raises:
        UnsafeDestination: no address, or one that is not public (and private ones are
            not allowed for this endpoint).
    """
    found = [a for a in (literal_address(s) for s in addresses) if a is not None]
    if not found:
        raise UnsafeDestination(f"{target.host}: resolves to no address")
    if not allow_private:
        for address in found:
            why = refusal(address)
            if why is not None:
                shown = "" if str(address) == target.host else f" resolves to {address}, which"
                raise UnsafeDestination(
                    f"{target.host}{shown} is a {why} address: refused (no SSRF); register "
                    "the endpoint with --allow-private if it really is yours")
    return found


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    if address.version == 4:
        return None
    assert isinstance(address, ipaddress.IPv6Address)
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]).geturl()
