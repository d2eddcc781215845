"""Signed link tokens: unsubscribe, click and open (sequencer.delivery.tokens)."""

from __future__ import annotations

import base64
import json
import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sequencer.delivery.tokens import (
    ClickToken,
    InvalidToken,
    OpenToken,
    TokenSigner,
    UnsubscribeToken,
    destination_problem,
)
from sequencer.settings import SECRET_KEY_FILE, Settings, _create_key_file, signing_keys

OLD_KEY = "a3f1c0ffee-old-secret-2024"
NEW_KEY = "9b7e5d3c1a-new-secret-2026"
SIGNER = TokenSigner([NEW_KEY])
URL_SAFE = re.compile(r"[A-Za-z0-9_.-]+")
RUN = "42:intro:1"


def test_each_kind_of_token_reads_back_what_it_was_made_for() -> None:
    assert SIGNER.read_unsubscribe(SIGNER.unsubscribe("bob@example.org", RUN)) \
        == UnsubscribeToken("bob@example.org", RUN)
    assert SIGNER.read_click(SIGNER.click(RUN, "https://acme.example/p?a=1&b=2#x")) \
        == ClickToken(RUN, "https://acme.example/p?a=1&b=2#x")
    assert SIGNER.read_open(SIGNER.open(RUN)) == OpenToken(RUN)


@given(st.text(max_size=80), st.text(max_size=40))
def test_any_address_and_run_key_round_trip_in_a_url_safe_token(address: str, run: str
                                                                 ) -> None:
    token = SIGNER.unsubscribe(address, run)

    assert URL_SAFE.fullmatch(token)
    assert SIGNER.read_unsubscribe(token) == UnsubscribeToken(address, run)


def test_tokens_carry_no_time_so_an_old_link_still_works() -> None:
    # Nothing in a token depends on when it was made: no expiry, by design.
    assert SIGNER.unsubscribe("bob@example.org", RUN) == SIGNER.unsubscribe("bob@example.org", RUN)


@pytest.mark.parametrize("make", [
    lambda: SIGNER.unsubscribe("bob@example.org", RUN),
    lambda: SIGNER.click(RUN, "https://acme.example/pricing"),
    lambda: SIGNER.open(RUN),
])
def test_every_single_character_change_is_refused(make: Callable[[], str]) -> None:
    token = make()
    read = {"u": SIGNER.read_unsubscribe, "c": SIGNER.read_click, "o": SIGNER.read_open}
    reader = next(r for kind, r in read.items() if _kind(token) == kind)
    alphabet = "AQgw_-09az"
    for i, original in enumerate(token):
        for replacement in alphabet:
            if replacement == original:
                continue
            with pytest.raises(InvalidToken):
                reader(token[:i] + replacement + token[i + 1:])


def test_truncated_and_extended_tokens_are_refused() -> None:
    token = SIGNER.unsubscribe("bob@example.org", RUN)

    for end in range(len(token)):
        with pytest.raises(InvalidToken):
            SIGNER.read_unsubscribe(token[:end])
    for junk in ("A", ".", "==", "%00", " ", "\n"):
        with pytest.raises(InvalidToken):
            SIGNER.read_unsubscribe(token + junk)


@pytest.mark.parametrize("junk", ["", "x", "a.b.c", "é.é", "a" * 10_000 + ".b", "..", "abc."])
def test_malformed_tokens_are_refused(junk: str) -> None:
    with pytest.raises(InvalidToken, match="unsubscribe token"):
        SIGNER.read_unsubscribe(junk)


def test_a_token_made_for_one_purpose_is_refused_for_another() -> None:
    click = SIGNER.click(RUN, "https://acme.example/")
    opened = SIGNER.open(RUN)

    with pytest.raises(InvalidToken, match="made for click, not for unsubscribe"):
        SIGNER.read_unsubscribe(click)
    with pytest.raises(InvalidToken, match="made for open, not for click"):
        SIGNER.read_click(opened)
    with pytest.raises(InvalidToken, match="made for unsubscribe, not for open"):
        SIGNER.read_open(SIGNER.unsubscribe("bob@example.org", RUN))


def test_rotation_signs_with_the_newest_key_and_still_reads_a_retained_old_one() -> None:
    before = TokenSigner([OLD_KEY]).unsubscribe("bob@example.org", RUN)
    rotated = TokenSigner([NEW_KEY, OLD_KEY])

    assert rotated.read_unsubscribe(before).address == "bob@example.org"
    fresh = rotated.unsubscribe("bob@example.org", RUN)
    assert TokenSigner([NEW_KEY]).read_unsubscribe(fresh).address == "bob@example.org"
    with pytest.raises(InvalidToken, match="bad signature"):
        TokenSigner([OLD_KEY]).read_unsubscribe(fresh)
    with pytest.raises(InvalidToken, match="bad signature"):
        TokenSigner([NEW_KEY]).read_unsubscribe(before)  # the old key was dropped


def test_keys_must_exist_and_be_long_enough_and_never_show() -> None:
    with pytest.raises(ValueError, match="at least one"):
        TokenSigner([])
    with pytest.raises(ValueError, match="key #2 is shorter"):
        TokenSigner([NEW_KEY, "short"])
    assert NEW_KEY not in repr(SIGNER)
    assert TokenSigner([NEW_KEY.encode()]).read_open(SIGNER.open(RUN)) == OpenToken(RUN)


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JAVASCRIPT://x.example/%0aalert(1)", "data:text/html,<script>",
    "//evil.example/", "/relative", "ftp://files.example/", "mailto:bob@example.org",
    "https:/evil.example", "https:evil.example", "http:///evil.example", "https://",
    "https://evil.example\\@good.example/", "https://a b.example/", "https://x.example/\r\nX",
    "https://bücher.example/", " https://lead.example/", "https://x.example/\t",
])
def test_unsafe_destinations_are_never_signed(url: str) -> None:
    assert destination_problem(url) is not None
    with pytest.raises(ValueError, match="cannot track"):
        SIGNER.click(RUN, url)


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "//evil.example/", "data:,x", "https://x.example/\r\nSet-Cookie: a",
])
def test_an_unsafe_destination_that_was_signed_anyway_is_not_given_back(url: str) -> None:
    forged = SIGNER._sign(["c", RUN, url])  # only a key holder could make this

    with pytest.raises(InvalidToken, match="refusing to redirect"):
        SIGNER.read_click(forged)


@given(st.sampled_from(["http", "https", "HTTPS"]),
       st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}\.)+[a-z]{2,6}", fullmatch=True),
       st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E,
                             exclude_characters="\\"), max_size=60))
def test_any_http_url_reads_back_exactly_as_signed(scheme: str, host: str, rest: str) -> None:
    url = f"{scheme}://{host}/{rest}"

    assert SIGNER.read_click(SIGNER.click(RUN, url)).url == url


def _kind(token: str) -> str:
    payload = token.split(".")[0]
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(fields[0])


# --- where the keys come from ----------------------------------------------------------


def test_keys_come_from_the_environment_newest_first_and_never_show() -> None:
    settings = Settings.from_env({"SEQUENCER_SECRET_KEYS": f" {NEW_KEY} ,{OLD_KEY},",
                                  "SEQUENCER_PUBLIC_URL": "https://links.acme.example/mail/",
                                  "SEQUENCER_POSTAL_ADDRESS": "Acme Inc.\\n1 Main St"})

    assert settings.secret_keys == (NEW_KEY, OLD_KEY)
    assert settings.public_url == "https://links.acme.example/mail"
    assert settings.postal_address == "Acme Inc.\n1 Main St"
    assert NEW_KEY not in repr(settings)
    assert signing_keys(settings) == (NEW_KEY, OLD_KEY)
    defaults = Settings.from_env({})
    assert (defaults.public_url, defaults.postal_address) == ("http://localhost:8000", None)


@pytest.mark.parametrize(("env", "message"), [
    ({"SEQUENCER_SECRET_KEYS": f"{NEW_KEY},short"}, "key #2 is shorter"),
    ({"SEQUENCER_PUBLIC_URL": "links.acme.example"}, "SEQUENCER_PUBLIC_URL"),
    ({"SEQUENCER_PUBLIC_URL": "javascript://x.example"}, "SEQUENCER_PUBLIC_URL"),
    ({"SEQUENCER_PUBLIC_URL": "https://x.example/?a=1"}, "SEQUENCER_PUBLIC_URL"),
])
def test_unusable_link_settings_fail_at_startup(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        Settings.from_env(env)
    assert NEW_KEY not in str(caught.value)


def test_without_configured_keys_one_is_generated_once_and_kept_private(tmp_path: Path
                                                                        ) -> None:
    first = signing_keys(Settings(), tmp_path)

    path = tmp_path / SECRET_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 1 and len(first[0]) == 64
    assert signing_keys(Settings(), tmp_path) == first  # the next process reads the same
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_KEY_FILE]  # no temp file left


def test_a_key_file_another_process_wrote_first_is_kept(tmp_path: Path) -> None:
    (tmp_path / SECRET_KEY_FILE).write_text("written-first-by-another-process\n")

    _create_key_file(tmp_path / SECRET_KEY_FILE)  # lost the race: must not overwrite

    assert signing_keys(Settings(), tmp_path) == ("written-first-by-another-process",)


def test_an_unusable_key_file_is_reported_not_replaced(tmp_path: Path) -> None:
    (tmp_path / SECRET_KEY_FILE).write_text("\n")

    with pytest.raises(ValueError, match="no usable secret key"):
        signing_keys(Settings(), tmp_path)
    assert (tmp_path / SECRET_KEY_FILE).read_text() == "\n"
