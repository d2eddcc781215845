"""VERP return paths: the step that sent a mail, read back from the address it bounced to."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sequencer.inbound.verp import verp_address, verp_key


def test_the_key_comes_back_from_the_address() -> None:
    address = verp_address("bounces@mail.example.com", "12:intro:0")
    assert address.startswith("bounces+s-") and address.endswith("@mail.example.com")
    assert verp_key(address) == "12:intro:0"


def test_servers_that_change_case_or_add_a_display_name_do_not_lose_it() -> None:
    address = verp_address("Bounces@Mail.Example.com", "12:intro:0")
    assert verp_key(address.upper()) == "12:intro:0"
    assert verp_key(f'"Rep" <{address.lower()}>') == "12:intro:0"


def test_a_sender_that_already_uses_plus_addressing_keeps_working() -> None:
    assert verp_key(verp_address("rep+sales@example.com", "3:bump:1")) == "3:bump:1"


@pytest.mark.parametrize("address", [
    "rep@example.com", "rep+s-@example.com", "rep+s-zzzz@example.com",
    "rep+s-gezdu2loorzg6orq-aaaa@example.com",  # a valid token with a wrong checksum
    "not an address", "",
])
def test_addresses_that_are_not_ours_give_no_key(address: str) -> None:
    assert verp_key(address) is None


@pytest.mark.parametrize("sender", ["no-at-sign", "<rep@example.com>", "a b@example.com"])
def test_a_sender_that_is_not_a_plain_address_is_refused(sender: str) -> None:
    with pytest.raises(ValueError, match="sender"):
        verp_address(sender, "1:a:0")


@given(st.text(min_size=1, max_size=60))
def test_any_step_id_survives_the_round_trip_in_any_case(key: str) -> None:
    address = verp_address("b@mail.example.com", key)
    local = address.rpartition("@")[0]
    assert all(c.isascii() and (c.isalnum() or c in "+-") for c in local)
    assert verp_key(address) == key
    assert verp_key(address.upper()) == key
