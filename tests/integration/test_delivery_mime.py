"""build_mime, check_header_value, new_message_id and transport_from_url.

Pure tests, kept beside the transport tests of sequencer.delivery. Every message is
parsed back with the strict modern parser (``policy.default``), which is the reader
our correctness claims are measured against.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sequencer.delivery import (
    FileOutbox,
    OutboundEmail,
    SmtpTransport,
    build_mime,
    check_header_value,
    new_message_id,
    transport_from_url,
)
from sequencer.delivery.headers import FORBIDDEN_CHARACTERS
from sequencer.errors import HeaderInjectionError, PermanentSendError

REQUIRED_FORBIDDEN = "\r\n\0\x85\u2028\u2029"  # RELIABILITY.md rule 9, at the least
SAFE_CHAR = st.characters(exclude_characters=FORBIDDEN_CHARACTERS,
                          exclude_categories=["Cs"])
SAFE_TEXT = st.text(SAFE_CHAR, max_size=200).filter(lambda s: "=?" not in s)
MONDAY = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

BASE = OutboundEmail(
    message_id="<m1@mail.example.com>", from_address="zoe@example.com", from_name=None,
    to_address="bob@example.org", to_name=None, subject="Hello", text_body="Hi\n")


def parse(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def content(message: EmailMessage) -> str:
    return str(message.get_content()).replace("\r\n", "\n")


# --- check_header_value -----------------------------------------------------------


def test_the_forbidden_set_covers_every_line_break_python_knows() -> None:
    breaks = {c for c in map(chr, range(0x3000)) if len(f"a{c}b".splitlines()) > 1}
    assert set(REQUIRED_FORBIDDEN) | breaks <= FORBIDDEN_CHARACTERS


@given(SAFE_TEXT, st.sampled_from(sorted(FORBIDDEN_CHARACTERS)), SAFE_TEXT)
def test_any_value_with_a_forbidden_character_is_refused(before: str, bad: str, after: str
                                                         ) -> None:
    with pytest.raises(HeaderInjectionError, match="X-Field"):
        check_header_value("X-Field", before + bad + after)


@given(SAFE_TEXT)
def test_any_value_without_them_is_returned_unchanged(value: str) -> None:
    assert check_header_value("X-Field", value) is value


def q_word(raw: bytes) -> str:
    return "".join(chr(b) if chr(b).isalnum() and b < 128 else f"={b:02X}" for b in raw)


@given(SAFE_TEXT, st.sampled_from(sorted(FORBIDDEN_CHARACTERS)), SAFE_TEXT,
       st.sampled_from(["Q", "q", "B", "b"]), SAFE_TEXT)
def test_an_encoded_word_that_decodes_to_a_break_is_refused(
        inside: str, bad: str, rest: str, encoding: str, around: str) -> None:
    raw = (inside + bad + rest).encode("utf-8")
    payload = q_word(raw) if encoding in "Qq" else base64.b64encode(raw).decode()
    value = f"{around} =?UTF-8?{encoding}?{payload}?= {around}"

    with pytest.raises(HeaderInjectionError, match="decodes to a line break"):
        check_header_value("Subject", value)


@pytest.mark.parametrize("value", [
    "=?UTF-8?Q?=0A?=", "x=?utf-8?q?a=0Db?=y", "=?utf-8?b?Cg?=",  # unpadded base64
    "=?iso-8859-1?q?=85?=", "=?utf-8*en?q?=E2=80=A8?=", "=?unknown-charset?Q?=00?=",
    "=?utf-8?q?=E2?= =?utf-8?q?=80=A8?=",  # U+2028 split over two words
    "=?utf-8?q?\u00c2=85?=",  # raw "Â" read as latin-1 byte C2, then 85: U+0085
])
def test_encoded_word_tricks_are_refused(value: str) -> None:
    with pytest.raises(HeaderInjectionError):
        check_header_value("Subject", value)


@pytest.mark.parametrize("value", ["=?utf-8?q?Gr=C3=BC=C3=9Fe?=", "a =? b ?= c", "=?x?z?y?="])
def test_harmless_encoded_words_pass(value: str) -> None:
    assert check_header_value("Subject", value) == value


# --- build_mime -------------------------------------------------------------------


def test_headers_come_in_a_fixed_order_with_crlf_line_ends() -> None:
    data = build_mime(replace(BASE, in_reply_to="<p@x.example>", references=("<p@x.example>",),
                              headers={"List-Unsubscribe": "<https://u.example/t>"}),
                      date=MONDAY)

    head, _, body = data.partition(b"\r\n\r\n")
    assert head.decode("ascii").split("\r\n") == [
        "From: zoe@example.com",
        "To: bob@example.org",
        "Subject: Hello",
        "Date: Mon, 23 Nov 2026 12:00:00 +0000",
        "Message-ID: <m1@mail.example.com>",
        "In-Reply-To: <p@x.example>",
        "References: <p@x.example>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 7bit",
        "List-Unsubscribe: <https://u.example/t>",
    ]
    assert body == b"Hi\r\n"
    assert re.search(rb"(?<!\r)\n|\r(?!\n)", data) is None


def test_the_date_is_given_in_utc_and_a_naive_date_is_refused() -> None:
    berlin = MONDAY.astimezone(timezone(timedelta(hours=1)))

    assert parse(build_mime(BASE, date=berlin))["Date"].datetime == MONDAY
    with pytest.raises(ValueError, match="timezone-aware"):
        build_mime(BASE, date=datetime(2026, 11, 23, 12, 0))
    assert parse(build_mime(BASE))["Date"].datetime is not None


def test_non_ascii_names_and_subjects_are_rfc2047_encoded() -> None:
    data = build_mime(replace(BASE, from_name="Zoë Ünal", to_name="山田 太郎",
                              subject="Grüße aus Köln"), date=MONDAY)

    assert data.isascii()
    parsed = parse(data)
    assert parsed["From"].addresses[0].display_name == "Zoë Ünal"
    assert parsed["To"].addresses[0].display_name == "山田 太郎"
    assert parsed["Subject"] == "Grüße aus Köln"


def test_long_and_non_ascii_bodies_are_quoted_printable_under_998() -> None:
    body = "Zoë\n" + "x" * 5000 + "\n.\nend"
    data = build_mime(replace(BASE, text_body=body), date=MONDAY)

    assert b"Content-Transfer-Encoding: quoted-printable" in data
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    assert content(parse(data)) == body + "\n"


def test_text_that_looks_like_an_encoded_word_is_shown_literally() -> None:
    literal = "Try =?utf-8?q?Gr=C3=BC=C3=9Fe?= literally"
    parsed = parse(build_mime(replace(BASE, subject=literal, from_name=literal), date=MONDAY))

    assert parsed["Subject"] == literal
    assert parsed["From"].addresses[0].display_name == literal


@given(SAFE_TEXT)
def test_any_subject_parses_back_unchanged(subject: str) -> None:
    data = build_mime(replace(BASE, subject=subject), date=MONDAY)

    assert parse(data)["Subject"] == subject
    assert max(len(line) for line in data.split(b"\r\n")) <= 998


@given(st.one_of(st.text(SAFE_CHAR, max_size=10), st.text(st.characters(
    min_codepoint=32, max_codepoint=126), max_size=300)).filter(lambda s: "=?" not in s))
def test_any_display_name_parses_back_with_its_white_space_collapsed(name: str) -> None:
    parsed = parse(build_mime(replace(BASE, from_name=name), date=MONDAY))

    assert parsed["From"].addresses[0].display_name == " ".join(name.split())
    assert parsed["From"].addresses[0].addr_spec == "zoe@example.com"


@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=2000))
def test_any_body_parses_back_with_normalised_line_ends(body: str) -> None:
    data = build_mime(replace(BASE, text_body=body), date=MONDAY)

    expected = body.replace("\r\n", "\n").replace("\r", "\n")
    assert content(parse(data)) == expected + ("" if expected.endswith("\n") else "\n")
    assert max(len(line) for line in data.split(b"\r\n")) <= 998


@given(SAFE_TEXT.filter(lambda s: s == s.strip(" \t")))
def test_any_extra_header_value_parses_back_unchanged(value: str) -> None:
    data = build_mime(replace(BASE, headers={"X-Note": value}), date=MONDAY)

    assert parse(data)["X-Note"] == value
    assert max(len(line) for line in data.split(b"\r\n")) <= 998


def test_references_fold_at_spaces_and_keep_every_id() -> None:
    refs = tuple(f"<{i:032x}@mail.example.com>" for i in range(30))
    data = build_mime(replace(BASE, references=refs), date=MONDAY)

    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    assert parse(data)["References"] == " ".join(refs)


@pytest.mark.parametrize("headers", [
    {"Bad Name": "x"}, {"X-A:B": "x"}, {"X-Ü": "x"}, {"": "x"},
    {"Message-ID": "<other@x>"}, {"from": "evil@x.example"}, {"Content-Type": "text/html"},
    {"X-Key": "ok\r\nBcc: a@evil.test"},
])
def test_bad_or_shadowing_extra_headers_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(HeaderInjectionError):
        build_mime(replace(BASE, headers=headers))


@pytest.mark.parametrize("changes", [
    {"to_address": "Bob <bob@example.org>"}, {"to_address": "bob@example.org, x@evil.test"},
    {"to_address": "bøb@example.org"}, {"from_address": "no-at-sign"},
    {"message_id": "m1@mail.example.com"}, {"in_reply_to": "<no at>"},
    {"references": ("<ok@x>", "bare@x")},
])
def test_unusable_addresses_and_ids_are_permanent(changes: dict[str, Any]) -> None:
    with pytest.raises(PermanentSendError):
        build_mime(replace(BASE, **changes))


def test_a_crlf_in_an_address_is_an_injection() -> None:
    with pytest.raises(HeaderInjectionError, match="To"):
        build_mime(replace(BASE, to_address="bob@example.org\r\nBcc: a@evil.test"))


# --- build_mime: text and HTML ------------------------------------------------------

LIST_HEADERS = {"List-Unsubscribe": "<https://links.example/u/abc.def>, "
                                    "<mailto:zoe+unsubscribe@example.com?subject=unsubscribe>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
TOP_LEVEL = {"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"}


def parts(message: EmailMessage) -> list[tuple[str, str, str]]:
    """Each part's content type, transfer encoding and content (line ends normalised)."""
    return [(p.get_content_type(), str(p["Content-Transfer-Encoding"]), content(p))
            for p in message.iter_parts()]


def test_without_html_the_message_is_exactly_one_text_part_as_before() -> None:
    assert build_mime(BASE, date=MONDAY) == (
        b"From: zoe@example.com\r\nTo: bob@example.org\r\nSubject: Hello\r\n"
        b"Date: Mon, 23 Nov 2026 12:00:00 +0000\r\nMessage-ID: <m1@mail.example.com>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 7bit\r\n\r\nHi\r\n")


def test_with_html_the_message_is_multipart_alternative_text_first_then_html() -> None:
    data = build_mime(replace(BASE, html_body="<p>Hi <b>there</b></p>", headers=LIST_HEADERS),
                      date=MONDAY)

    parsed = parse(data)
    assert parsed.get_content_type() == "multipart/alternative"
    assert "Content-Transfer-Encoding" not in parsed
    assert parts(parsed) == [("text/plain", "7bit", "Hi\n"),
                             ("text/html", "7bit", "<p>Hi <b>there</b></p>\n")]
    assert set(parsed.keys()) == TOP_LEVEL | set(LIST_HEADERS)
    assert content(parsed.get_body(("html",))) == "<p>Hi <b>there</b></p>\n"  # type: ignore[arg-type]
    assert re.search(rb"(?<!\r)\n|\r(?!\n)", data) is None


def test_each_part_is_quoted_printable_only_when_it_needs_to_be() -> None:
    html = "<p>Grüße aus Köln</p>\n<p>" + "lang " * 400 + "</p>\n"
    parsed = parse(build_mime(replace(BASE, html_body=html), date=MONDAY))

    assert parts(parsed) == [("text/plain", "7bit", "Hi\n"),
                             ("text/html", "quoted-printable", html)]
    text_qp = parse(build_mime(replace(BASE, text_body="Zoë\n", html_body="<p>x</p>")))
    assert parts(text_qp) == [("text/plain", "quoted-printable", "Zoë\n"),
                              ("text/html", "7bit", "<p>x</p>\n")]


def test_a_body_holding_the_boundary_cannot_close_its_part_early(
        monkeypatch: pytest.MonkeyPatch) -> None:
    forged = ("<p>a</p>\n--=_aaaa\nContent-Type: text/plain\n\nforged part\n--=_aaaa--\n")
    drawn = iter(["aaaa", "bbbb"])  # the first boundary drawn is one the body holds
    monkeypatch.setattr("sequencer.delivery.mime.secrets.token_hex", lambda _n: next(drawn))

    parsed = parse(build_mime(replace(BASE, html_body=forged), date=MONDAY))

    assert parsed.get_param("boundary") == "=_bbbb"
    assert parts(parsed) == [("text/plain", "7bit", "Hi\n"), ("text/html", "7bit", forged)]


@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=600),
       st.text(st.characters(exclude_categories=["Cs"]), max_size=600))
def test_any_text_and_html_parse_back_as_exactly_two_parts(text: str, html: str) -> None:
    data = build_mime(replace(BASE, text_body=text, html_body=html, headers=LIST_HEADERS),
                      date=MONDAY)

    parsed = parse(data)
    normalised = [b.replace("\r\n", "\n").replace("\r", "\n") for b in (text, html)]
    expected = [b + ("" if b.endswith("\n") else "\n") for b in normalised]
    assert [(kind, body) for kind, _, body in parts(parsed)] == [
        ("text/plain", expected[0]), ("text/html", expected[1])]
    assert set(parsed.keys()) == TOP_LEVEL | set(LIST_HEADERS)
    assert max(len(line) for line in data.split(b"\r\n")) <= 998


@given(st.sampled_from(sorted(LIST_HEADERS)), SAFE_TEXT,
       st.sampled_from(sorted(FORBIDDEN_CHARACTERS)), SAFE_TEXT)
def test_a_line_break_in_a_list_header_is_refused_with_or_without_html(
        name: str, before: str, bad: str, after: str) -> None:
    headers = {**LIST_HEADERS, name: before + bad + after}

    for html in (None, "<p>Hi</p>"):
        with pytest.raises(HeaderInjectionError, match=name):
            build_mime(replace(BASE, html_body=html, headers=headers))


@given(SAFE_TEXT.filter(lambda s: s == s.strip(" \t")), st.text(max_size=300))
def test_accepted_list_header_values_parse_back_and_add_no_header(value: str, html: str
                                                                  ) -> None:
    headers = {"List-Unsubscribe": value, "List-Unsubscribe-Post": value}
    parsed = parse(build_mime(replace(BASE, html_body=html, headers=headers), date=MONDAY))

    assert set(parsed.keys()) == TOP_LEVEL | set(headers)
    assert parsed["List-Unsubscribe"] == value
    assert parsed["List-Unsubscribe-Post"] == value


# --- new_message_id ---------------------------------------------------------------


def test_message_ids_are_128_random_bits_at_the_domain() -> None:
    ids = {new_message_id("mail.example.com") for _ in range(1000)}

    assert len(ids) == 1000
    for message_id in ids:
        token = re.fullmatch(r"<([0-9a-f]{32})@mail\.example\.com>", message_id)
        assert token is not None
        assert len(binascii.unhexlify(token.group(1))) == 16
    assert check_header_value("Message-ID", message_id) == message_id


@pytest.mark.parametrize("domain", ["", "a b", "x>@y", "-x.example", "x.example\n"])
def test_message_id_domains_must_be_host_names(domain: str) -> None:
    with pytest.raises(ValueError, match="domain"):
        new_message_id(domain)


# --- transport_from_url -----------------------------------------------------------


def test_smtp_urls_carry_host_port_credentials_and_options() -> None:
    smtp = transport_from_url("smtp://ann%40x:p%3Ass@Mail.Example.com:587?timeout=7.5")

    assert isinstance(smtp, SmtpTransport)
    assert (smtp.host, smtp.port, smtp.timeout) == ("mail.example.com", 587, 7.5)
    assert "p:ss" not in repr(smtp)
    assert isinstance(transport_from_url("smtps://mail.example.com"), SmtpTransport)
    assert cast(SmtpTransport, transport_from_url("smtps://m.example")).port == 465
    outbox = transport_from_url("file:///var/spool/outbox?fsync=no")
    assert isinstance(outbox, FileOutbox)
    assert (str(outbox.folder), outbox.fsync) == ("/var/spool/outbox", False)


@pytest.mark.parametrize(("url", "message"), [
    ("http://mail.example.com", "expected smtp://"),
    ("mailto:bob@example.org", "expected smtp://"),
    ("smtp://", "no host"),
    ("smtp://u:secret@h:99999", "bad port"),
    ("smtp://h?starttls=maybe", "yes or no"),
    ("smtp://h?timeout=0", "positive"),
    ("smtp://h?tiemout=5", "unknown option"),
    ("smtps://h?starttls=no", "unknown option"),
    ("smtp://u@h", "both user and password"),
    ("file://relative/dir", "three slashes"),
    ("file:///", "no folder"),
    ("smtp://h?helo=a%0D%0AQUIT", "EHLO name"),
])
def test_bad_urls_are_refused_clearly_and_never_echo_the_password(url: str, message: str
                                                                  ) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        transport_from_url(url)

    assert "secret" not in str(caught.value)
