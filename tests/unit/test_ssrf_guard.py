"""Where outbound webhooks may go: public addresses only, unless the endpoint allows
private ones; http(s) only; no credentials in the URL."""

from __future__ import annotations

import pytest

from sequencer.crm.ssrf import (
    UnsafeDestination,
    check_addresses,
    check_url,
    literal_address,
    refusal,
)


@pytest.mark.parametrize(("address", "why"), [
    ("127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("192.168.0.10", "private"),
    ("172.16.5.4", "private"), ("169.254.169.254", "link-local"), ("::1", "loopback"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"), ("fe80::1", "link-local"),
    ("fd12:3456::1", "unique-local"), ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"), ("100.64.0.1", "shared"),
    ("240.0.0.1", "reserved"), ("64:ff9b::a9fe:a9fe", "link-local"),
])
def test_non_public_addresses_are_refused_and_named(address: str, why: str) -> None:
    found = literal_address(address)
    assert found is not None
    assert (refusal(found) or "").startswith(why)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    found = literal_address(address)
    assert found is not None and refusal(found) is None


def test_a_name_is_refused_if_any_of_its_addresses_is_private() -> None:
    target = check_url("https://crm.example.com/hook")
    assert target.port == 443
    with pytest.raises(UnsafeDestination, match=r"resolves to 127\.0\.0\.1, which is a loopback"):
        check_addresses(target, ["93.184.216.34", "127.0.0.1"], allow_private=False)
    assert [str(a) for a in check_addresses(target, ["127.0.0.1"], allow_private=True)] == [
        "127.0.0.1"]


@pytest.mark.parametrize("url", ["ftp://crm.example.com/h", "file:///etc/passwd",
                                 "https://user:pw@crm.example.com/h", "https:///nohost",
                                 "http://crm.example.com:99999/h", "gopher://x/"])
def test_urls_of_the_wrong_form_are_refused(url: str) -> None:
    with pytest.raises(UnsafeDestination):
        check_url(url)


def test_credentials_are_not_echoed_in_the_refusal() -> None:
    with pytest.raises(UnsafeDestination) as caught:
        check_url("https://user:hunter2@crm.example.com/h")
    assert "hunter2" not in str(caught.value)


def test_an_ipv6_literal_url_is_checked_without_brackets() -> None:
    target = check_url("http://[::1]:8080/h")
    with pytest.raises(UnsafeDestination, match="loopback"):
        check_addresses(target, [target.host], allow_private=False)
