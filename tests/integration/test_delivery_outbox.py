"""The file outbox: parseable, idempotent by Message-ID, and atomic."""

from __future__ import annotations

import email
import email.policy
import os
from pathlib import Path

import pytest

from sequencer.delivery import FileOutbox, OutboundEmail, transport_from_url
from sequencer.delivery.outbox import outbox_file_name
from sequencer.errors import HeaderInjectionError, TransientSendError


def outbound(message_id: str = "<4f1c0ffee@mail.example.com>", body: str = "Hallo Zoë!\n"
             ) -> OutboundEmail:
    return OutboundEmail(
        message_id=message_id, from_address="zoe@example.com", from_name="Zoë Ünal",
        to_address="bob@example.org", to_name=None, subject="Grüße", text_body=body,
        headers={"X-Sequencer-Key": "42:intro:1"})


def test_outbox_writes_a_parseable_eml_named_after_the_message_id(tmp_path: Path) -> None:
    folder = tmp_path / "not" / "yet" / "there"
    outbox = transport_from_url(f"file://{folder}")

    result = outbox.send(outbound())

    assert result.provider_id == "4f1c0ffee@mail.example.com.eml"
    assert [p.name for p in folder.iterdir()] == [result.provider_id]
    parsed = email.message_from_bytes((folder / result.provider_id).read_bytes(),
                                      policy=email.policy.default)
    assert parsed["Message-ID"] == "<4f1c0ffee@mail.example.com>"
    assert parsed["Subject"] == "Grüße"
    assert parsed["From"].addresses[0].display_name == "Zoë Ünal"
    assert parsed["X-Sequencer-Key"] == "42:intro:1"
    assert parsed.get_content().replace("\r\n", "\n") == "Hallo Zoë!\n"


def test_sending_the_same_message_id_twice_overwrites_one_file(tmp_path: Path) -> None:
    outbox = FileOutbox(tmp_path, fsync=False)

    first = outbox.send(outbound(body="first\n"))
    second = outbox.send(outbound(body="second\n"))
    other = outbox.send(outbound(message_id="<another@mail.example.com>"))

    assert first == second != other
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [str(first.provider_id), str(other.provider_id)])
    assert b"second" in (tmp_path / str(first.provider_id)).read_bytes()


def test_a_failed_write_leaves_neither_the_eml_nor_a_temp_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)

    with pytest.raises(TransientSendError, match="No space left"):
        FileOutbox(tmp_path).send(outbound())

    assert list(tmp_path.iterdir()) == []


def test_a_failed_rewrite_keeps_the_previous_file_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outbox = FileOutbox(tmp_path)
    name = str(outbox.send(outbound(body="the original\n")).provider_id)
    before = (tmp_path / name).read_bytes()

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(TransientSendError):
        outbox.send(outbound(body="a replacement\n"))

    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert (tmp_path / name).read_bytes() == before


def test_header_injection_writes_nothing(tmp_path: Path) -> None:
    bad = OutboundEmail(
        message_id="<x@mail.example.com>", from_address="zoe@example.com", from_name=None,
        to_address="bob@example.org", to_name=None, subject="hi\r\nBcc: a@evil.test",
        text_body="")

    with pytest.raises(HeaderInjectionError):
        FileOutbox(tmp_path).send(bad)

    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("message_id", "expected"), [
    ("<abc@mail.example.com>", "abc@mail.example.com.eml"),
    ("<../../etc/passwd@x>", "%2E.%2F..%2Fetc%2Fpasswd@x.eml"),
    ("<.hidden@x>", "%2Ehidden@x.eml"),
    ("<a%2Fb@x>", "a%252Fb@x.eml"),
])
def test_file_names_stay_inside_the_folder_and_are_distinct(message_id: str, expected: str
                                                             ) -> None:
    assert outbox_file_name(message_id) == expected


def test_very_long_message_ids_are_named_by_their_hash() -> None:
    name = outbox_file_name("<" + "a" * 300 + "@x>")

    assert len(name) == 64 + len(".eml")
    assert name == outbox_file_name("<" + "a" * 300 + "@x>")
