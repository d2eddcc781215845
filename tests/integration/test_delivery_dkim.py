"""DKIM signing (sequencer.delivery.dkim): verified with dkimpy against the public key.

The selector's TXT record is served in process through ``dkim.verify``'s ``dnsfunc``.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import dkim
import pytest

from sequencer.delivery import FileOutbox, OutboundEmail, SmtpTransport, build_mime
from sequencer.delivery import transport_from_url as from_url
from sequencer.delivery.dkim import SIGNED_HEADERS, DkimKey
from sequencer.delivery.outbox import outbox_file_name
from sequencer.errors import PermanentSendError
from tests.integration.dkim_keys import throwaway_key

MONDAY = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
EMAIL = OutboundEmail(
    message_id="<m1@mail.acme.example>", from_address="ana@acme.example", from_name="Ana Ruiz",
    to_address="bob@example.org", to_name="Bob", subject="Hello", text_body="Hi Bob,\n\nAna\n",
    headers={"X-Sequencer-Key": "1:intro:1",
             "List-Unsubscribe": "<https://links.acme.example/u/abc.def>, "
                                 "<mailto:ana+unsubscribe@acme.example?subject=unsubscribe>",
             "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})


@pytest.fixture(scope="module")
def key_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return throwaway_key().write(tmp_path_factory.mktemp("keys"))


def signed(key_path: Path, message: OutboundEmail = EMAIL) -> bytes:
    return DkimKey.load(str(key_path), "s1").sign(build_mime(message, date=MONDAY),
                                                   message.from_address)


def verifies(data: bytes, domain: str = "acme.example") -> bool:
    return bool(dkim.verify(data, dnsfunc=throwaway_key().dns("s1", domain)))


def tags(data: bytes) -> dict[str, str]:
    value = str(email.message_from_bytes(data, policy=email.policy.compat32)["DKIM-Signature"])
    value = re.sub(r"\s+", "", value)
    return dict(item.split("=", 1) for item in value.split(";") if item)


def test_a_signed_message_verifies_against_the_published_key(key_path: Path) -> None:
    data = signed(key_path)

    assert data.startswith(b"DKIM-Signature: ")
    assert verifies(data)
    assert not verifies(data, domain="other.example")  # no record where d= points


def test_the_signature_is_aligned_relaxed_and_covers_both_list_headers(key_path: Path) -> None:
    found = tags(signed(key_path))

    assert (found["d"], found["s"], found["a"], found["c"]) == (
        "acme.example", "s1", "rsa-sha256", "relaxed/relaxed")
    signed_names = found["h"].split(":")
    assert "list-unsubscribe" in signed_names and "list-unsubscribe-post" in signed_names
    assert signed_names == [name.lower() for name in SIGNED_HEADERS]


def test_a_changed_body_fails_verification(key_path: Path) -> None:
    data = signed(key_path)

    assert not verifies(data.replace(b"Hi Bob,", b"Hi Rob,"))


@pytest.mark.parametrize(("old", "new"), [
    (b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
     b"List-Unsubscribe-Post: List-Unsubscribe=Two-Clicks"),
    (b"<https://links.acme.example/u/abc.def>", b"<https://evil.example/u/abc.def>"),
    (b"Subject: Hello", b"Subject: Hello\r\nIn-Reply-To: <forged@x.example>"),  # added
])
def test_a_changed_or_added_signed_header_fails_verification(key_path: Path, old: bytes,
                                                             new: bytes) -> None:
    data = signed(key_path)
    assert old in data

    assert not verifies(data.replace(old, new))


def test_relaxed_canonicalization_survives_a_relay_refolding_white_space(key_path: Path
                                                                         ) -> None:
    data = signed(key_path)

    refolded = data.replace(b"Subject: Hello", b"Subject:   Hello").replace(
        b"Hi Bob,\r\n", b"Hi  Bob,   \r\n")
    assert verifies(refolded)


def test_a_multipart_message_verifies(key_path: Path) -> None:
    data = signed(key_path, replace(EMAIL, html_body="<p>Hi Bob,</p><p>Ana</p>"))

    assert b"multipart/alternative" in data
    assert verifies(data)
    assert not verifies(data.replace(b"<p>Ana</p>", b"<p>Eve</p>"))


def test_both_key_formats_and_crlf_files_load(tmp_path: Path) -> None:
    pkcs1 = tmp_path / "pkcs1.pem"
    pkcs1.write_bytes(throwaway_key().pkcs1.replace(b"\n", b"\r\n"))

    key = DkimKey.load(str(pkcs1), "mail-2026.eu")
    data = key.sign(build_mime(EMAIL, date=MONDAY), EMAIL.from_address)
    assert dkim.verify(data, dnsfunc=throwaway_key().dns("mail-2026.eu", "acme.example"))
    assert b"PRIVATE" not in repr(key).encode() and "MII" not in repr(key)


def test_the_file_outbox_url_signs_what_it_writes(key_path: Path, tmp_path: Path) -> None:
    outbox = from_url(f"file://{tmp_path}/out?fsync=no&dkim_key={key_path}&dkim_selector=s1")
    assert isinstance(outbox, FileOutbox)

    outbox.send(EMAIL)

    assert verifies((tmp_path / "out" / outbox_file_name(EMAIL.message_id)).read_bytes())


def test_the_smtp_urls_carry_the_key(key_path: Path) -> None:
    for scheme in ("smtp", "smtps"):
        transport = from_url(f"{scheme}://mail.example.com?dkim_key={key_path}"
                             "&dkim_selector=s1")
        assert isinstance(transport, SmtpTransport)
        assert transport._dkim is not None and transport._dkim.selector == "s1"
    unsigned = from_url("smtp://mail.example.com")
    assert isinstance(unsigned, SmtpTransport) and unsigned._dkim is None


def test_a_message_dkimpy_cannot_sign_is_a_permanent_failure(key_path: Path) -> None:
    key = DkimKey.load(str(key_path), "s1")

    with pytest.raises(PermanentSendError, match=r"DKIM signing for acme\.example failed"):
        key.sign(b"no headers at all", "ana@acme.example")


@pytest.mark.parametrize(("query", "message"), [
    ("dkim_selector=s1", "both dkim_key and dkim_selector"),
    ("dkim_key={key}", "both dkim_key and dkim_selector"),
    ("dkim_key=&dkim_selector=s1", "both dkim_key and dkim_selector"),
    ("dkim_key=keys/dkim.pem&dkim_selector=s1", "must be an absolute path"),
    ("dkim_key={missing}&dkim_selector=s1", "cannot be read"),
    ("dkim_key={folder}&dkim_selector=s1", "cannot be read"),
    ("dkim_key={garbage}&dkim_selector=s1", "is not a PEM RSA private key"),
    ("dkim_key={public}&dkim_selector=s1", "is not a PEM RSA private key"),
    ("dkim_key={key}&dkim_selector=s1;x", "not a usable DNS selector"),
    ("dkim_key={key}&dkim_selector=-s1", "not a usable DNS selector"),
    ("dkim_key={key}&dkim_selector=s1&dkim_selector=s2", "given twice"),
])
def test_bad_dkim_options_fail_when_the_url_is_parsed(key_path: Path, tmp_path: Path,
                                                      query: str, message: str) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    public = tmp_path / "public.pem"
    public.write_bytes(b"-----BEGIN PUBLIC KEY-----\n"
                       + throwaway_key().txt.split(b"p=")[1] + b"\n-----END PUBLIC KEY-----\n")
    options = query.format(key=key_path, missing=tmp_path / "nope.pem", folder=tmp_path,
                           garbage=garbage, public=public)

    for url in (f"smtp://ann:secret@mail.example.com?{options}", f"file:///var/out?{options}"):
        with pytest.raises(ValueError, match=message) as caught:
            from_url(url)
        assert "secret" not in str(caught.value)
        assert "MII" not in str(caught.value)  # no key material in the message
