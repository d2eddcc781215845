"""Setting a step's variant weights in a sequence file's text, touching nothing else."""

from __future__ import annotations

import pytest
import yaml

from sequencer.errors import InputError
from sequencer.services.variants import with_weights

BLOCK = """\
steps:
  - id: reopen   # the A/B/n test
    type: email
    variants:
      - id: whats-new
        template: a.j2   # no weight: 1 by default
      - template: b.j2
        weight: 30
      - {template: c.j2}
      - {template: d.j2, }
"""


def test_block_and_flow_variants_get_their_weights_with_or_without_a_weight_key() -> None:
    text = with_weights(BLOCK, "reopen", ["whats-new", "b", "c", "d"],
                        {"whats-new": 100, "b": 0, "c": 0, "d": 0})
    variants = yaml.safe_load(text)["steps"][0]["variants"]
    assert [v["weight"] for v in variants] == [100, 0, 0, 0]
    assert [v["template"] for v in variants] == ["a.j2", "b.j2", "c.j2", "d.j2"]
    assert "# no weight: 1 by default" in text and "# the A/B/n test" in text


def test_the_note_goes_above_the_variants_at_their_indentation() -> None:
    text = with_weights(BLOCK, "reopen", ["whats-new", "b", "c", "d"],
                        {"whats-new": 0, "b": 100, "c": 0, "d": 0}, note="winner b")
    lines = text.splitlines()
    assert lines[lines.index("    variants:") - 1] == "    # winner b"


def test_windows_line_ends_stay_windows_line_ends() -> None:
    crlf = BLOCK.replace("\n", "\r\n")
    text = with_weights(crlf, "reopen", ["whats-new", "b", "c", "d"],
                        {"whats-new": 0, "b": 100, "c": 0, "d": 0}, note="winner b")
    assert text.count("\r\n") == text.count("\n")


def test_a_weight_already_right_is_left_as_written() -> None:
    text = BLOCK.replace("weight: 30", "weight: 0")
    edited = with_weights(text, "reopen", ["whats-new", "b", "c", "d"],
                          {"whats-new": 100, "b": 0, "c": 0, "d": 0})
    assert edited.count("weight: 0\n") == 1


def test_variants_behind_an_alias_are_not_edited_blindly() -> None:
    aliased = """\
shared: &tests
  - {template: a.j2}
  - {template: b.j2}
steps:
  - id: intro
    type: email
    variants: *tests
"""
    with pytest.raises(InputError, match="set the weights by hand"):
        with_weights(aliased, "intro", ["a", "b"], {"a": 100, "b": 0})
